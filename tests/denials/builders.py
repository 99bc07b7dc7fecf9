"""Small builders of PAS-shaped resources for the denial tests (only the elements each test needs)."""

from __future__ import annotations

from typing import Any

from smart_app.fhir.chart import Chart, build_chart

PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
X12_306 = "https://codesystem.x12.org/005010/306"
SOPT = "urn:oid:2.16.840.1.113883.3.221.5"
CPT = "http://www.ama-assn.org/go/cpt"


def review_action(code: str, *, system: str = X12_306, reasons: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The PAS reviewAction extension with its 306 code and optional (system, code) reasons."""
    parts: list[dict[str, Any]] = [
        {
            "url": PAS + "extension-reviewActionCode",
            "valueCodeableConcept": {"coding": [{"system": system, "code": code}]},
        }
    ]
    for reason_system, reason_code in reasons or []:
        parts.append(
            {"url": "reasonCode", "valueCodeableConcept": {"coding": [{"system": reason_system, "code": reason_code}]}}
        )
    return {"url": PAS + "extension-reviewAction", "extension": parts}


def organization(org_id: str, name: str, payer_id: str | None = None) -> dict[str, Any]:
    org: dict[str, Any] = {"resourceType": "Organization", "id": org_id, "name": name}
    if payer_id:
        org["identifier"] = [
            {
                "type": {
                    "coding": [
                        {"system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType", "code": "payerid"}
                    ]
                },
                "value": payer_id,
            }
        ]
    return org


def coverage(payor: str, sopt: str | None) -> dict[str, Any]:
    cov: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": "cov-1",
        "status": "active",
        "beneficiary": {"reference": "Patient/p1"},
        "payor": [{"reference": payor}],
    }
    if sopt:
        cov["type"] = {"coding": [{"system": SOPT, "code": sopt}]}
    return cov


def claim(code: str = "72148", *, system: str = CPT, place: str = "11", provider: str | None = None) -> dict[str, Any]:
    return {
        "resourceType": "Claim",
        "id": "claim-1",
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "preauthorization",
        "patient": {"reference": "Patient/p1"},
        "created": "2026-11-18",
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/cov-1"}}],
        "provider": {"reference": provider or "Organization/clinic"},
        "diagnosis": [
            {
                "sequence": 1,
                "diagnosisCodeableConcept": {
                    "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.16"}]
                },
            }
        ],
        "item": [
            {
                "sequence": 1,
                "productOrService": {"coding": [{"system": system, "code": code, "display": "requested service"}]},
                "locationCodeableConcept": {"coding": [{"code": place}]},
                "quantity": {"value": 1},
            }
        ],
    }


def claim_response(
    code: str | None = "A3",
    *,
    created: str = "2026-11-20T15:42:00-06:00",
    insurer: str = "Organization/payer",
    note: str | None = None,
    cr_id: str = "cr-1",
    reasons: list[tuple[str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    item: dict[str, Any] = {"itemSequence": 1, "adjudication": [{"category": {"coding": [{"code": "submitted"}]}}]}
    if code:
        item["adjudication"][0]["extension"] = [review_action(code, reasons=reasons)]
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": cr_id,
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "preauthorization",
        "patient": {"reference": "Patient/p1"},
        "created": created,
        "insurer": {"reference": insurer},
        "request": {"reference": "Claim/claim-1"},
        "outcome": "complete",
        "item": [item],
    }
    if note:
        response["processNote"] = [{"number": 1, "text": note}]
        item["noteNumber"] = [1]
    response.update(extra)
    return response


def chart_of(*resources: dict[str, Any], state: str | None = "IL") -> Chart:
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Test"}]}
    if state:
        patient["address"] = [{"use": "home", "state": state}]
    return build_chart([patient, *resources], patient_id="p1")
