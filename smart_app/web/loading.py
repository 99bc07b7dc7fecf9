"""Load what a page needs for the current launch: the chart, its open denials (from the EHR and entered by
hand), one denial, and the clock and state the brief is built with."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app

from smart_app.denials.assess import Clock
from smart_app.denials.hand_entry import HAND_PREFIX, denial_from_hand_entry, is_hand_denial_id
from smart_app.denials.pas import Denial, read_denial
from smart_app.denials.pdex import (
    EOB_PREFIX,
    eob_answers,
    is_eob_denial_id,
    merge_answers,
    open_denials_with_eobs,
    read_eob_denial,
)
from smart_app.errors import ChartUnavailable, MissingLaunchContext, NotFound
from smart_app.fhir.chart import Chart
from smart_app.fhir.reader import DENIAL_SEARCHES, fetch_chart
from smart_app.smart.launch import LaunchContext
from smart_app.store.hand_entries import hand_entries_for, hand_entry
from smart_app.web.context import fhir_client, settings


def _patient_id(context: LaunchContext) -> str:
    if not context.patient:
        raise MissingLaunchContext("This launch has no patient in context.")
    return context.patient


def clock() -> Clock:
    """The practice's time zone (``P2P_TIMEZONE``) and now: the machine's, or the moment a test pins through the
    app's ``CLOCK`` setting (a callable returning an aware datetime). Every page reads the time here."""
    pinned = settings().get("CLOCK")
    if pinned is None:
        return Clock.now_in(settings()["TIMEZONE"])
    zone = ZoneInfo(settings()["TIMEZONE"])
    return Clock(zone, pinned().astimezone(zone))


def practice_state() -> str | None:
    """The practice's state (``P2P_PRACTICE_STATE``), used when the patient's address gives none."""
    return settings().get("PRACTICE_STATE") or None


def _hand_denials(context: LaunchContext, patient_id: str) -> list[Denial]:
    db = current_app.extensions["p2p_db"]
    return [
        denial_from_hand_entry(entry_id, fields, patient_id)
        for entry_id, fields in hand_entries_for(db, iss=context.tenant, patient_id=patient_id)
    ]


def _budget() -> float:
    return float(settings()["BRIEF_BUDGET_SECONDS"])


def load_open_denials(context: LaunchContext) -> tuple[Chart, list[Denial]]:
    """The patient's denied or pended answers (ClaimResponses, and PDex EOBs that answer a request no ClaimResponse
    answers), newest first, with the ones entered by hand."""
    patient_id = _patient_id(context)
    chart = fetch_chart(fhir_client(context), patient_id, types=DENIAL_SEARCHES, budget=_budget())
    from_ehr, skipped = open_denials_with_eobs(
        chart.of_type("ClaimResponse"), chart.of_type("ExplanationOfBenefit"), chart.resolve
    )
    chart.warnings.extend(skipped)
    denials = from_ehr + _hand_denials(context, patient_id)
    return chart, sorted(denials, key=lambda d: d.decided_at.timestamp() if d.decided_at else 0, reverse=True)


def load_denial(context: LaunchContext, denial_id: str) -> tuple[Chart, Denial]:
    """The whole chart and one denial in it (a ClaimResponse, a PDex EOB named ``eob-<id>``, or a hand entry);
    ``NotFound`` if not this patient's,
    ``ChartUnavailable`` when the ClaimResponse search failed (a failed read is never "not found")."""
    patient_id = _patient_id(context)
    chart = fetch_chart(fhir_client(context), patient_id, budget=_budget())
    if is_hand_denial_id(denial_id):
        entry_id = int(denial_id[len(HAND_PREFIX) :])
        fields = hand_entry(
            current_app.extensions["p2p_db"], iss=context.tenant, patient_id=patient_id, entry_id=entry_id
        )
        if fields is None:
            raise NotFound("This denial is not in the launched patient's record.")
        return chart, denial_from_hand_entry(entry_id, fields, patient_id)
    if is_eob_denial_id(denial_id):
        return chart, _eob_denial(chart, denial_id[len(EOB_PREFIX) :], patient_id)
    claim_response = chart.index.get(f"ClaimResponse/{denial_id}")
    unread = denials_unread(chart)
    if claim_response is None and unread:
        raise ChartUnavailable(unread)
    subject = (claim_response or {}).get("patient", {}).get("reference", "")
    if claim_response is None or subject.split("/")[-1] != patient_id:
        raise NotFound("This denial is not in the launched patient's chart.")
    denial = read_denial(claim_response, chart.resolve)
    merge_answers([denial], eob_answers(chart.of_type("ExplanationOfBenefit"), chart.resolve)[0])  # names an EOB twin
    return chart, denial


def _eob_denial(chart: Chart, eob_id: str, patient_id: str) -> Denial:
    eob = chart.index.get(f"ExplanationOfBenefit/{eob_id}")
    if eob is None and chart.incomplete.get("ExplanationOfBenefit"):
        raise ChartUnavailable(
            "The EHR could not be read, so the patient's prior-authorization decisions are not known. "
            f"{chart.incomplete['ExplanationOfBenefit']}."
        )
    subject = (eob or {}).get("patient", {}).get("reference", "")
    if eob is None or subject.split("/")[-1] != patient_id:
        raise NotFound("This denial is not in the launched patient's chart.")
    return read_eob_denial(eob, chart.resolve)


def denials_unread(chart: Chart) -> str | None:
    """What to tell the user when the patient's prior-authorization answers could not be read (the search failed
    or stopped short), or None when they were read: then an absent denial is really absent."""
    reason = chart.incomplete.get("ClaimResponse")
    if reason is None:
        return None
    return f"The EHR could not be read, so the patient's prior-authorization answers are not known. {reason}."
