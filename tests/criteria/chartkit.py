"""Build small valid R4 charts for criteria tests: one call per fact, dates as ISO strings."""

from __future__ import annotations

import itertools
from typing import Any

from smart_app.fhir.chart import Chart, build_chart
from smart_app.fhir.systems import SYSTEMS

_ids = itertools.count(1)


def _concept(system: str, code: str | None, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if code:
        concept["coding"] = [{"system": SYSTEMS[system], "code": code}]
    if text:
        concept["text"] = text
    return concept


def condition(code: str | None, onset: str | None, *, system: str = "icd10cm", text: str | None = None) -> dict:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"c{next(_ids)}",
        "subject": {"reference": "Patient/p1"},
        "code": _concept(system, code, text),
    }
    if onset:
        resource["onsetDateTime"] = onset
    return resource


def statement(code: str, start: str | None, end: str | None = None, *, status: str = "completed", **extra: Any) -> dict:
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": f"ms{next(_ids)}",
        "status": status,
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": _concept("rxnorm", code),
    }
    if start:
        resource["effectivePeriod"] = {"start": start, **({"end": end} if end else {})}
    resource.update(extra)
    return resource


def request(code: str, authored: str, days: int, *, status: str = "active", repeats: int = 0) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": f"mr{next(_ids)}",
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": _concept("rxnorm", code),
        "authoredOn": authored,
        "dispenseRequest": {
            "numberOfRepeatsAllowed": repeats,
            "expectedSupplyDuration": {
                "value": days,
                "unit": "days",
                "system": "http://unitsofmeasure.org",
                "code": "d",
            },
        },
    }


def procedure(code: str, when: str, *, system: str = "cpt") -> dict:
    return {
        "resourceType": "Procedure",
        "id": f"pr{next(_ids)}",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "code": _concept(system, code),
        "performedDateTime": when,
    }


def observation(code: str, when: str, value: float | None = None, unit: str = "%", text: str | None = None) -> dict:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"ob{next(_ids)}",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": _concept("loinc", code),
        "effectiveDateTime": when,
    }
    if value is not None:
        resource["valueQuantity"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    if text:
        resource["valueCodeableConcept"] = {"text": text}
    return resource


def encounter(code: str, when: str) -> dict:
    return {
        "resourceType": "Encounter",
        "id": f"en{next(_ids)}",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/p1"},
        "type": [_concept("cpt", code)],
        "period": {"start": when, "end": when},
    }


def chart(*resources: dict) -> Chart:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"}
    built = build_chart([patient, *resources], patient_id="p1")
    assert not built.warnings, built.warnings  # every fixture resource is valid R4
    return built
