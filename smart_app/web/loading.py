"""Load what a page needs for the current launch: the chart, its open denials (from the EHR, from a payer's own
API by ``sync --payer``, and entered by hand), one denial, and the clock and state the brief is built with."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from smart_app.denials.assess import Clock
from smart_app.denials.hand_entry import HAND_PREFIX, denial_from_hand_entry, is_hand_denial_id
from smart_app.denials.pas import Denial, read_denial
from smart_app.denials.pdex import (
    EOB_PREFIX,
    answer_reference,
    eob_answers,
    is_eob_denial_id,
    merge_answers,
    open_denials_with_eobs,
    read_eob_denial,
)
from smart_app.errors import ChartUnavailable, MissingLaunchContext, NotFound
from smart_app.fhir.chart import Chart, build_chart
from smart_app.fhir.reader import DENIAL_SEARCHES, fetch_chart
from smart_app.practice.letter_joins import join_letters
from smart_app.smart.launch import LaunchContext
from smart_app.store.hand_entries import hand_entries_for, hand_entry
from smart_app.store.payer_answers import payer_answers_for
from smart_app.web.context import fhir_client, settings
from smart_app.web.letter_cases import LETTER_PREFIX, letter_case


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


PAYER_NOTE = "Read from the payer's own API (p2p-brief sync --payer): the EHR has no copy of this decision."


def _payer_denials(context: LaunchContext, patient_id: str) -> dict[str, Denial]:
    """The decisions ``sync --payer`` matched to this chart and kept (the EHR has no copy), by denial id."""
    found: dict[str, Denial] = {}
    kept = payer_answers_for(_db(), tenant=context.tenant, patient_id=patient_id)
    for denial_id, resources in kept.items():
        chart = build_chart(resources)
        answer = chart.index.get(answer_reference(denial_id))
        if answer is None:
            continue
        eob = is_eob_denial_id(denial_id)
        denial = read_eob_denial(answer, chart.resolve) if eob else read_denial(answer, chart.resolve)
        denial.warnings.append(PAYER_NOTE)
        found[denial_id] = replace(denial, channel="payer-api")
    return found


def _db() -> Any:
    return current_app.extensions["p2p_db"]


def _budget() -> float:
    return float(settings()["BRIEF_BUDGET_SECONDS"])


def _open_answers(context: LaunchContext, chart: Chart) -> list[Denial]:
    """The payer's open answers for the patient: the EHR's ClaimResponses and PDex EOBs (one per request), and the
    decisions ``sync --payer`` kept that the EHR has no copy of."""
    from_ehr, skipped = open_denials_with_eobs(
        chart.of_type("ClaimResponse"), chart.of_type("ExplanationOfBenefit"), chart.resolve
    )
    chart.warnings.extend(skipped)
    in_ehr = {d.claim_response_id for d in from_ehr}
    from_payer = [d for i, d in _payer_denials(context, _patient_id(context)).items()
                  if i not in in_ehr and (d.is_open or d.decision == "unknown")]  # fmt: skip
    return from_ehr + from_payer


def load_open_answers(context: LaunchContext) -> tuple[Chart, list[Denial]]:
    """The chart's denial searches and the payer's open answers in it (no hand entries, no letters)."""
    chart = fetch_chart(fhir_client(context), _patient_id(context), types=DENIAL_SEARCHES, budget=_budget())
    return chart, _open_answers(context, chart)


def load_open_denials(context: LaunchContext) -> tuple[Chart, list[Denial]]:
    """The patient's denied or pended answers (ClaimResponses, and PDex EOBs that answer a request no ClaimResponse
    answers), newest first, with the ones entered by hand and the letters confirmed. A letter that is the payer's
    letter for an answer joins it (``join_letters``): one decision is one denial, whichever came first."""
    patient_id = _patient_id(context)
    chart, answers = load_open_answers(context)
    joined = join_letters(_db(), context.tenant, patient_id, answers)
    chart.warnings.extend(joined.warnings)
    denials = joined.answers + _hand_denials(context, patient_id) + joined.letter_cases
    return chart, sorted(denials, key=lambda d: d.decided_at.timestamp() if d.decided_at else 0, reverse=True)


def load_denial(context: LaunchContext, denial_id: str) -> tuple[Chart, Denial]:
    """The whole chart and one denial in it (a ClaimResponse, a PDex EOB named ``eob-<id>``, a hand entry, or a
    confirmed letter named ``letter-<id>``);
    ``NotFound`` if not this patient's, ``ChartUnavailable`` when the payer's answers could not all be read (a
    failed read is never "not found")."""
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
    if denial_id.startswith(LETTER_PREFIX):
        from_letter = letter_case(_db(), context, patient_id, denial_id)
        if from_letter is None:
            raise NotFound("This denial is not in the launched patient's record.")
        joined = join_letters(_db(), context.tenant, patient_id, _open_answers(context, chart))
        from_letter.warnings.extend(w for w in joined.warnings if f"({denial_id})" in w or f"{denial_id}," in w)
        return chart, from_letter
    return chart, _with_its_letter(context, _answer_denial(context, chart, denial_id))


def _answer_denial(context: LaunchContext, chart: Chart, denial_id: str) -> Denial:
    if chart.index.get(answer_reference(denial_id)) is None:  # not in the EHR: a decision from the payer's API?
        from_payer = _payer_denials(context, _patient_id(context)).get(denial_id)
        if from_payer is not None:
            return from_payer
    if is_eob_denial_id(denial_id):
        return read_eob_denial(_answer(chart, f"ExplanationOfBenefit/{denial_id[len(EOB_PREFIX) :]}"), chart.resolve)
    denial = read_denial(_answer(chart, f"ClaimResponse/{denial_id}"), chart.resolve)
    merge_answers([denial], eob_answers(chart.of_type("ExplanationOfBenefit"), chart.resolve)[0])  # names an EOB twin
    return denial


def _with_its_letter(context: LaunchContext, denial: Denial) -> Denial:
    """The answer with the payer's letter that joined it attached (the letter's window a candidate, and the brief
    showing where the two differ)."""
    return join_letters(_db(), context.tenant, _patient_id(context), [denial], join_new=False).answers[0]


def _answer(chart: Chart, reference: str) -> dict[str, Any]:
    """The payer's answer (ClaimResponse or EOB) naming the launched patient; ``ChartUnavailable`` when it is
    absent because the answers could not all be read."""
    answer = chart.index.get(reference)
    subject = str(((answer or {}).get("patient") or {}).get("reference") or "")
    if answer is not None and subject.split("/")[-1] == chart.patient_id:
        return answer
    unread = denials_unread(chart)
    if unread:
        raise ChartUnavailable(unread)
    raise NotFound("This denial is not in the launched patient's chart.")


def denials_unread(chart: Chart) -> str | None:
    """What to tell the user when the patient's prior-authorization answers (ClaimResponses, PDex EOBs) could not
    all be read (a search failed or stopped short), or None when they were: then an absent denial is really absent."""
    reasons = [chart.incomplete[t] for t in ("ClaimResponse", "ExplanationOfBenefit") if t in chart.incomplete]
    if not reasons:
        return None
    return (
        f"The EHR could not be read, so the patient's prior-authorization answers are not known. {'; '.join(reasons)}."
    )
