"""Read one patient's chart from the EHR in two concurrent bursts: the patient's records, then what they cite."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from smart_app.fhir.chart import Chart, build_chart
from smart_app.fhir.client import FhirClient

# One search per type, all sent at once. ``Patient?_id=`` keeps the patient read in the same burst. A reference
# parameter is given as ``Patient/<id>``: FHIR allows the bare id too, but Medplum matches only the typed form and
# answers a bare id with an empty Bundle (200, total 0), which would read as a chart with nothing in it.
PATIENT_SEARCHES: dict[str, str] = {
    "Patient": "_id",
    "Encounter": "patient",
    "Coverage": "patient",
    "Claim": "patient",
    "ClaimResponse": "patient",
    # Da Vinci PDex prior authorizations. Not ``use=preauthorization``: ``use`` is no base R4 EOB search parameter
    # and a strict server refuses it; the IG (HL7/davinci-epdx, input/intro-notes/
    # StructureDefinition-pdex-priorauthorization-intro.md lines 13-17) says to filter ``use`` on the client.
    "ExplanationOfBenefit": "patient",
    "Condition": "patient",
    "MedicationStatement": "patient",
    "MedicationRequest": "patient",
    "Procedure": "patient",
    "Observation": "patient",
}
DENIAL_SEARCHES = ("Patient", "Coverage", "Claim", "ClaimResponse", "ExplanationOfBenefit")
# The orders a PAS Claim's items name (``requestedService``) are read for their CRD coverage-information.
REFERENCED_TYPES = (
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Medication",
    "Claim",
    "Coverage",
    "ServiceRequest",
    "DeviceRequest",
)
PAGE_SIZE = "200"
FOLLOW_LEVELS = 2  # bursts of reference reads after the patient's own records


def references_in(resource: Any) -> Iterable[str]:
    """Every ``reference`` string anywhere inside ``resource``."""
    if isinstance(resource, dict):
        for key, value in resource.items():
            if key == "reference" and isinstance(value, str):
                yield value
            elif key != "contained":
                yield from references_in(value)
    elif isinstance(resource, list):
        for item in resource:
            yield from references_in(item)


def missing_references(
    resources: list[dict[str, Any]], base_url: str, types: tuple[str, ...] = REFERENCED_TYPES
) -> dict[str, set[str]]:
    """The ``types`` referenced from ``resources`` (on this server) that are not among them, as {type: ids}."""
    have = {f"{r.get('resourceType')}/{r.get('id')}" for r in resources}
    wanted: dict[str, set[str]] = {}
    for ref in (ref for r in resources for ref in references_in(r)):
        if ref.startswith(("#", "urn:")) or (ref.startswith("http") and not ref.startswith(base_url)):
            continue
        parts = ref.split("/_history/")[0].rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2] in types and f"{parts[-2]}/{parts[-1]}" not in have:
            wanted.setdefault(parts[-2], set()).add(parts[-1])
    return wanted


def patient_param(resource_type: str, patient_id: str) -> dict[str, str]:
    """The search parameter that finds ``resource_type`` records of one patient (``_id`` for the Patient)."""
    param = PATIENT_SEARCHES[resource_type]
    return {param: patient_id if param == "_id" else f"Patient/{patient_id}"}


def fetch_chart(
    client: FhirClient, patient_id: str, *, types: Iterable[str] | None = None, budget: float | None = None
) -> Chart:
    """Fetch the patient's records (every type in ``PATIENT_SEARCHES``, or ``types``) and what they reference.
    Within ``budget`` seconds when given: what has not arrived by then is left out and named in the warnings.
    The types whose search failed or stopped short are in ``chart.incomplete``, with why."""
    deadline = None if budget is None else time.monotonic() + budget
    wanted_types = list(types or PATIENT_SEARCHES)
    queries = {rtype: (rtype, {**patient_param(rtype, patient_id), "_count": PAGE_SIZE}) for rtype in wanted_types}
    results = client.search_all(queries, deadline=deadline)
    resources = [r for result in results.values() for r in result.resources]
    incomplete = {rtype: result.error for rtype, result in results.items() if result.error}
    warnings = [f"{why}." for why in incomplete.values()]
    for _ in range(FOLLOW_LEVELS):  # e.g. Claim -> PractitionerRole, then PractitionerRole -> Practitioner
        missing = missing_references(resources, client.base_url)
        if not missing:
            break
        follow_up = {rtype: (rtype, {"_id": ",".join(sorted(ids))}) for rtype, ids in missing.items()}
        for rtype, result in client.search_all(follow_up, deadline=deadline).items():
            resources.extend(result.resources)
            if result.error:
                incomplete.setdefault(rtype, result.error)
                warnings.append(f"{result.error}.")
    chart = build_chart(resources, patient_id=patient_id)
    chart.warnings[:0] = warnings
    chart.incomplete = incomplete
    return chart
