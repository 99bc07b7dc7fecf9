"""Build the brief model: plain data in the shape DESIGN.md fixes for ``p2p-brief brief --format json``.

The keys are a public contract. Stages not yet built report honestly: no policy on file means ``policy``
and ``policyResult`` are null and ``criteria`` is empty, never a guess. ``p2pWindow`` always says where its
deadline comes from; without a decision date its ``deadline`` is null and the page says to read the letter.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from smart_app.brief.script import bottom_line, call_script, next_route
from smart_app.config import DEFAULTS
from smart_app.criteria.apply import criteria_for
from smart_app.denials.assess import Clock, assess
from smart_app.denials.codes import code_set_name
from smart_app.denials.coverage_info import coverage_assertions
from smart_app.denials.pas import Denial, service_text
from smart_app.denials.same_decision import differences
from smart_app.denials.triage import reason_text
from smart_app.fhir.chart import Chart
from smart_app.fhir.facts import concept_text, conditions, display_name, treatments_in_date_order


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def patient_header(chart: Chart) -> dict[str, Any]:
    """Name, birth date, sex and member ID of the patient in the chart."""
    patient = chart.patient or {}
    member_ids = [
        i.get("value")
        for coverage in chart.of_type("Coverage")
        for i in coverage.get("identifier") or []
        if any(c.get("code") == "MB" for c in (i.get("type") or {}).get("coding") or [])
    ]
    coverage = next(iter(chart.of_type("Coverage")), {})
    return {
        "id": patient.get("id"),
        "name": display_name(patient),
        "birthDate": patient.get("birthDate"),
        "gender": patient.get("gender"),
        "memberId": next((m for m in member_ids if m), coverage.get("subscriberId")),
    }


def _local(denial: Denial, zone: ZoneInfo) -> str | None:
    """The decision time as the practice reads it (its own time zone), or the bare date when no time was given."""
    if denial.decided_at is None:
        return None
    if denial.decided_at.tzinfo is None:
        return denial.decided_at.date().isoformat()
    return denial.decided_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _items(denial: Denial) -> list[dict[str, Any]]:
    return [
        {
            "sequence": item.sequence,
            "decision": item.decision,
            "reviewAction": item.review_action.as_dict() if item.review_action else None,
            "service": item.service.as_dict() if item.service else None,
            "quantity": item.quantity,
            "reasonCodes": [c.as_dict() for c in item.reason_codes],
            "reasonText": item.reason_text,
            "reviewNumber": item.review_number,
            "referenceNumber": item.reference_number,
            "authorizedInstead": item.authorized_instead,
        }
        for item in denial.items
    ]


def _provider(denial: Denial) -> dict[str, Any] | None:
    provider = denial.ordering_provider
    if provider is None:
        return None
    return {
        "name": provider.name,
        "npi": provider.npi,
        "specialty": provider.specialty.as_dict() if provider.specialty else None,
        "phone": provider.phone,
        "reference": provider.reference,
        "organization": provider.organization,
    }


def _sources(denial: Denial) -> list[dict[str, str]]:
    own = {"channel": denial.channel, "id": denial.claim_response_ref or denial.claim_response_id}
    letter = denial.letter
    return [own] + ([{"channel": "letter", "id": letter.claim_response_id}] if letter else [])


def _window_difference(window: dict[str, Any], stated_words: str) -> dict[str, Any] | None:
    """The letter's stated window against the earliest of the payer's rules, when they close at different times."""
    candidates = window.get("candidates") or []
    stated = next((c for c in candidates if c.get("status") == "letter"), None)
    rules = sorted((c for c in candidates if c.get("status") != "letter"), key=lambda c: c["closesAt"])
    if stated is None or not rules or stated["closesAt"] == rules[0]["closesAt"]:
        return None
    return {"field": "p2pWindow", "values": [
        {"channel": "letter", "value": stated_words, "closesAt": stated["closesAt"]},
        {"channel": "payer-rules", "value": rules[0]["basis"], "closesAt": rules[0]["closesAt"]},
    ], "stricter": "letter" if stated["closesAt"] < rules[0]["closesAt"] else "payer-rules"}  # fmt: skip


def _seen_where(denial: Denial, window: dict[str, Any]) -> dict[str, Any]:
    """``sources`` (each channel the denial was seen on), ``provenance`` ({field: where it was read}),
    ``letterProvenance`` (the attached letter's lines, or null) and ``differences`` between the answer and its
    letter ({field, values: [{channel, value}]})."""
    letter = denial.letter
    found = [{"field": d.field, "values": [{"channel": c, "value": v} for c, v in d.values]}
             for d in (differences(denial, letter) if letter else [])]  # fmt: skip
    stated = letter.letter_window if letter else None
    window_difference = _window_difference(window, stated.words) if stated else None
    provenance = dict(denial.provenance)
    if letter and window.get("status") == "letter":  # the letter's stricter window is the one counted
        provenance["p2pWindow"] = letter.provenance.get("p2pWindow", provenance.get("p2pWindow", ""))
    return {
        "sources": _sources(denial),
        "provenance": provenance,
        "letterProvenance": dict(letter.provenance) if letter else None,
        "differences": found + ([window_difference] if window_difference else []),
    }


def denial_summary(
    denial: Denial,
    *,
    patient: dict[str, Any] | None = None,
    clock: Clock | None = None,
    practice_state: str | None = None,
    chart: Chart | None = None,
) -> dict[str, Any]:
    """One denial in the brief JSON shape: what it is, its triage and its clock, and (given the chart) the policy
    criteria mapped to the chart's dated facts."""
    clock = clock or Clock.now_in(DEFAULTS["TIMEZONE"])
    assessment = assess(denial, patient, clock, practice_state)
    service = next((i.service for i in denial.items if i.service), None)
    reason_codes = [
        {"system": c.system, "code": c.code, "display": c.display, "codeSet": code_set_name(c.system)}
        for item in denial.items
        for c in ([item.review_action] if item.review_action else []) + item.reason_codes
    ]
    summary: dict[str, Any] = {
        "claimResponse": denial.claim_response_ref,
        "claim": denial.claim_ref,
        "id": denial.claim_response_id,
        "enteredByHand": denial.entered_by_hand,
        "fromLetter": denial.from_letter,
        "service": service.as_dict() if service else None,
        "serviceText": service_text(denial),
        "diagnoses": [d.as_dict() for d in denial.diagnoses],
        "decision": denial.decision,
        "decidedOn": denial.decided_at.isoformat() if denial.decided_at else None,
        "decidedLocal": _local(denial, clock.zone),
        "preAuthRef": denial.reference_number,
        "reason": {"codes": reason_codes, "text": reason_text(denial)},
        "items": _items(denial),
        "orderingProvider": _provider(denial),
        **{k: v for k, v in assessment.items() if k != "warnings"},
        "policy": None,
        "policyResult": None,
        "coverageAssertions": [],
        "criteria": [],
        "guidelines": [],
        "warnings": [*denial.warnings, *assessment["warnings"]],
        **_seen_where(denial, assessment["p2pWindow"]),
    }
    if chart is not None:
        summary.update(criteria_for(denial, chart, assessment["payer"]["key"], clock.now.date()))
        summary["coverageAssertions"] = [a.as_dict() for a in coverage_assertions(denial, chart)]
    return summary


def build_brief(
    chart: Chart, denials: list[Denial], *, clock: Clock | None = None, practice_state: str | None = None
) -> dict[str, Any]:
    """The brief model for ``denials`` in ``chart``: patient, each denial, prior treatments, conditions, warnings."""
    clock = clock or Clock.now_in(DEFAULTS["TIMEZONE"])  # one moment for every denial in the brief
    treatments = [
        {
            "name": t.name,
            "kind": t.kind,
            "start": _iso(t.start),
            "end": _iso(t.end),
            "status": t.status,
            "outcome": t.outcome,
            "dose": t.dose,
            "reference": t.reference,
        }
        for t in treatments_in_date_order(chart)
    ]
    condition_list = [
        {
            "name": c.name,
            "codes": [code.as_dict() for code in c.codes],
            "onset": _iso(c.onset),
            "clinicalStatus": c.clinical_status,
            "reference": c.reference,
        }
        for c in conditions(chart)
    ]
    summaries = [
        denial_summary(d, patient=chart.patient, clock=clock, practice_state=practice_state, chart=chart)
        for d in denials
    ]
    for summary in summaries:
        policy_treatments = summary.pop("policyTreatments", None)
        summary["priorTreatments"] = policy_treatments if policy_treatments is not None else treatments
    warnings = [*chart.warnings, *(w for s in summaries for w in s["warnings"])]
    if chart.patient is None:
        warnings.insert(0, "The Patient record could not be read.")
    brief = {
        "patient": patient_header(chart),
        "denials": summaries,
        "conditions": condition_list,
        "priorTreatments": treatments,
        "warnings": warnings,
        "coverage": [concept_text(c.get("type")) for c in chart.of_type("Coverage")],
    }
    today = clock.now.date()
    for summary in summaries:
        summary["bottomLine"] = bottom_line(brief, summary)
        summary["callScript"] = call_script(brief, summary, today)
        summary["nextRoute"] = next_route(summary)
    return brief
