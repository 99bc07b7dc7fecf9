"""Reading one patient's chart (``fetch_chart``): how it asks for the patient's records, and what it says when the
EHR gives fewer than it counted."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from smart_app.fhir.client import FhirClient
from smart_app.fhir.reader import PATIENT_SEARCHES, fetch_chart

BASE = "https://ehr.example/fhir"


def _searchset(resources: list[dict[str, Any]], total: int | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }
    if total is not None:
        bundle["total"] = total
    return bundle


def _procedure(n: int) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": f"proc-{n}",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "code": {"text": "Blood pressure check"},
        "performedDateTime": "2026-01-05",
    }


def _ehr(procedures: int) -> None:
    """An EHR that answers each type's search from the patient's compartment, as Medplum does: a page of at most
    ``_count`` entries, the true ``total``, and no ``next`` link."""

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        url = urlsplit(request.url or "")
        rtype, query = url.path.rsplit("/", 1)[-1], parse_qs(url.query)
        if rtype == "Patient":
            found = [{"resourceType": "Patient", "id": "p1"}] if query.get("_id") == ["p1"] else []
        else:
            # Medplum matches a reference search only as Type/id: a bare id finds nothing
            mine = query.get("patient") == ["Patient/p1"]
            found = [_procedure(n) for n in range(procedures)] if rtype == "Procedure" and mine else []
        page = found[: int(query.get("_count", ["20"])[0])]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(_searchset(page, len(found)))

    responses.add_callback(responses.GET, re.compile(rf"{re.escape(BASE)}/\w+"), callback=answer)


@responses.activate
def test_a_page_short_of_its_total_is_named_in_the_warnings_and_the_type_marked_incomplete() -> None:
    _ehr(procedures=206)

    chart = fetch_chart(FhirClient(BASE, "tok"), "p1")

    assert len(chart.of_type("Procedure")) == 200  # what was read is used
    assert "200 of 206 Procedures read: the EHR gave no link to the rest." in chart.warnings
    assert chart.incomplete == {"Procedure": "200 of 206 Procedures read: the EHR gave no link to the rest"}


@responses.activate
def test_the_patients_records_are_asked_for_by_typed_reference() -> None:
    _ehr(procedures=3)

    chart = fetch_chart(FhirClient(BASE, "tok"), "p1")

    assert len(chart.of_type("Procedure")) == 3 and chart.patient is not None
    assert not chart.warnings and not chart.incomplete
    asked = {urlsplit(c.request.url or "").path.rsplit("/", 1)[-1]: parse_qs(urlsplit(c.request.url or "").query)
             for c in responses.calls}  # fmt: skip
    assert asked["Patient"]["_id"] == ["p1"]
    assert all(asked[t][param] == ["Patient/p1"] for t, param in PATIENT_SEARCHES.items() if param != "_id")
