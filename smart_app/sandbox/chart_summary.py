"""What the EHR screens show about a patient, read leniently from raw (possibly malformed) resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .references import as_dict, as_list, codings, concept_text, reference_id
from .store import FhirStore

DENIED = "A3"  # X12 306 "not certified" (Da Vinci PAS review action)


@dataclass
class PatientSummary:
    """One line of the patient list, or the chart banner."""

    id: str
    name: str
    birth_date: str
    sex: str
    mrn: str
    allergies: list[str] = field(default_factory=list)
    denial_hint: str | None = None


def summarize(store: FhirStore, patient: dict[str, Any]) -> PatientSummary:
    """The banner facts of one Patient resource."""
    pid = str(patient.get("id"))
    return PatientSummary(
        id=pid,
        name=patient_name(patient),
        birth_date=str(patient.get("birthDate") or "unknown"),
        sex=str(patient.get("gender") or "unknown"),
        mrn=medical_record_number(patient),
        allergies=allergies(store, pid),
        denial_hint=denial_hint(store, pid),
    )


def patient_name(patient: dict[str, Any]) -> str:
    """``Family, Given`` from the official (else first) HumanName."""
    names = [n for n in as_list(patient.get("name")) if isinstance(n, dict)]
    chosen = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    if isinstance(chosen.get("text"), str) and not chosen.get("family"):
        return chosen["text"]
    given = " ".join(g for g in as_list(chosen.get("given")) if isinstance(g, str))
    family = chosen.get("family") if isinstance(chosen.get("family"), str) else ""
    return ", ".join(p for p in (family, given) if p) or "(no name)"


def medical_record_number(patient: dict[str, Any]) -> str:
    """The MR identifier (type v2-0203 ``MR``), else the first identifier value."""
    identifiers = [i for i in as_list(patient.get("identifier")) if isinstance(i, dict)]
    for identifier in identifiers:
        if any(c.get("code") == "MR" for c in codings(identifier.get("type"))):
            return str(identifier.get("value"))
    return str(identifiers[0].get("value")) if identifiers else "—"


def allergies(store: FhirStore, patient_id: str) -> list[str]:
    """Labels of the patient's AllergyIntolerance resources."""
    found = store.search("AllergyIntolerance", patient=patient_id)
    return [concept_text(a.get("code")) or "Unnamed allergy" for a in found]


def latest_encounter(store: FhirStore, patient_id: str) -> str | None:
    """Id of the patient's most recent Encounter (by period start, then end), if any."""
    encounters = store.search("Encounter", patient=patient_id)
    if not encounters:
        return None

    def when(encounter: dict[str, Any]) -> str:
        period = as_dict(encounter.get("period"))
        return str(period.get("start") or period.get("end") or "")

    return str(max(encounters, key=when).get("id"))


def denial_hint(store: FhirStore, patient_id: str) -> str | None:
    """One line about the patient's most recent denied prior authorization, or None."""
    denials = [r for r in store.search("ClaimResponse", patient=patient_id) if _is_denied(r)]
    if not denials:
        return None
    latest = max(denials, key=lambda r: str(r.get("created") or ""))
    claim_id = reference_id(as_dict(latest.get("request")), "Claim")
    claim = store.get("Claim", claim_id) if claim_id else None
    service = _service(claim) if claim else None
    payer = as_dict(latest.get("insurer")).get("display") or _organization_name(store, latest.get("insurer"))
    parts = [p for p in (payer, str(latest.get("created") or "")[:10]) if p]
    suffix = f" ({', '.join(parts)})" if parts else ""
    more = f" +{len(denials) - 1} more" if len(denials) > 1 else ""
    return f"Open prior-auth denial: {service or 'service not named'}{suffix}{more}"


def _is_denied(claim_response: dict[str, Any]) -> bool:
    return DENIED in _review_action_codes(claim_response)


def _review_action_codes(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        url = node.get("url")
        if isinstance(url, str) and url.endswith("reviewActionCode"):
            found.update(str(c.get("code")) for c in codings(node.get("valueCodeableConcept")))
        for value in node.values():
            found |= _review_action_codes(value)
    elif isinstance(node, list):
        for value in node:
            found |= _review_action_codes(value)
    return found


def _service(claim: dict[str, Any]) -> str | None:
    for item in as_list(claim.get("item")):
        label = concept_text(as_dict(item).get("productOrService"))
        if label:
            return label
    return None


def _organization_name(store: FhirStore, reference: Any) -> str | None:
    org_id = reference_id(reference, "Organization")
    org = store.get("Organization", org_id) if org_id else None
    return org.get("name") if org and isinstance(org.get("name"), str) else None


def notes(store: FhirStore, patient_id: str) -> list[dict[str, Any]]:
    """The patient's DocumentReferences, newest first, as stored (for the chart's Notes tab)."""
    found = store.search("DocumentReference", patient=patient_id)
    return sorted(
        found,
        key=lambda d: str(d.get("date") or as_dict(d.get("meta")).get("lastUpdated") or ""),
        reverse=True,
    )
