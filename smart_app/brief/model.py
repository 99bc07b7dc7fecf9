"""Build the brief model: plain data in the shape DESIGN.md fixes for ``p2p-brief brief --format json``.

The keys are a public contract. Stages not yet built report honestly: no policy on file means ``policy``
and ``policyResult`` are null and ``criteria`` is empty, never a guess; no payer rule means ``p2pWindow`` is
null and the page says to check the denial letter.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from smart_app.denials.pas import Denial, service_text
from smart_app.fhir.chart import Chart
from smart_app.fhir.facts import concept_text, conditions, treatments_in_date_order

MEDICAL_NECESSITY_WORDS = (
    "medically necessary",
    "medical necessity",
    "clinical criteria",
    "not supported by",
    "conservative",
)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def patient_header(chart: Chart) -> dict[str, Any]:
    """Name, birth date, sex and member ID of the patient in the chart."""
    patient = chart.patient or {}
    names = patient.get("name") or []
    name = names[0] if names else {}
    text = name.get("text") or " ".join([*(name.get("given") or []), name.get("family") or ""]).strip()
    member_ids = [
        i.get("value")
        for coverage in chart.of_type("Coverage")
        for i in coverage.get("identifier") or []
        if any(c.get("code") == "MB" for c in (i.get("type") or {}).get("coding") or [])
    ]
    coverage = next(iter(chart.of_type("Coverage")), {})
    return {
        "id": patient.get("id"),
        "name": text or None,
        "birthDate": patient.get("birthDate"),
        "gender": patient.get("gender"),
        "memberId": next((m for m in member_ids if m), coverage.get("subscriberId")),
    }


def _category(denial: Denial) -> tuple[str, str]:
    """A first triage from the reason text alone; issue-level triage (codes first) refines it."""
    text = " ".join(t for item in denial.items for t in item.reason_text).lower()
    if denial.decision == "pended":
        return "unknown", "The request is pended, not decided: the payer is waiting for something."
    if any(word in text for word in MEDICAL_NECESSITY_WORDS):
        return "medical-necessity", "The reason text speaks of medical necessity or clinical criteria."
    return "unknown", "The reason codes and text do not say which kind of denial this is."


def _recommendation(denial: Denial, category: str) -> str:
    if denial.decision == "approved":
        return "none"
    if category == "medical-necessity":
        return "peer-to-peer"
    return "none" if denial.decision == "unknown" else "peer-to-peer"


def denial_summary(denial: Denial) -> dict[str, Any]:
    """One denial in the brief JSON shape (without the chart-wide parts)."""
    category, basis = _category(denial)
    service = next((i.service for i in denial.items if i.service), None)
    reason_codes = [
        {"system": c.system, "code": c.code, "display": c.display}
        for item in denial.items
        for c in ([item.review_action] if item.review_action else []) + item.reason_codes
    ]
    reason_text = [t for item in denial.items for t in item.reason_text] or denial.notes
    if denial.disposition and denial.disposition not in reason_text:
        reason_text.append(denial.disposition)
    return {
        "claimResponse": denial.claim_response_ref,
        "claim": denial.claim_ref,
        "payer": {"name": denial.payer_name, "key": None},
        "service": service.as_dict() if service else None,
        "serviceText": service_text(denial),
        "diagnoses": [d.as_dict() for d in denial.diagnoses],
        "decision": denial.decision,
        "decidedOn": denial.decided_at.isoformat() if denial.decided_at else None,
        "preAuthRef": denial.pre_auth_ref
        or next(
            (i.reference_number or i.review_number for i in denial.items if i.reference_number or i.review_number), None
        ),
        "reason": {"codes": reason_codes, "text": "\n".join(reason_text)},
        "category": category,
        "categoryBasis": basis,
        "recommendation": _recommendation(denial, category),
        "p2pWindow": None,
        "reviewerRights": None,
        "policy": None,
        "policyResult": None,
        "criteria": [],
        "guidelines": [],
        "warnings": list(denial.warnings),
    }


def build_brief(chart: Chart, denials: list[Denial]) -> dict[str, Any]:
    """The brief model for ``denials`` in ``chart``: patient, each denial, prior treatments, conditions, warnings."""
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
    summaries = [denial_summary(d) for d in denials]
    for summary in summaries:
        summary["priorTreatments"] = treatments
    warnings = [*chart.warnings, *(w for s in summaries for w in s["warnings"])]
    if chart.patient is None:
        warnings.insert(0, "The Patient record could not be read.")
    return {
        "patient": patient_header(chart),
        "denials": summaries,
        "conditions": condition_list,
        "priorTreatments": treatments,
        "warnings": warnings,
        "coverage": [concept_text(c.get("type")) for c in chart.of_type("Coverage")],
    }
