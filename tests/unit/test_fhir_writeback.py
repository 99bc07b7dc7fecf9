"""The call note as a US Core DocumentReference, written exactly once, with the EHR's refusals explained."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import responses

from smart_app.errors import WriteBackError
from smart_app.fhir.client import FhirClient
from smart_app.fhir.writeback import build_document_reference, supports_conditional_create, write_document_reference

BASE = "https://ehr.example/fhir"
NOTE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
IDENTIFIER = f"urn:ietf:rfc:3986|urn:uuid:{NOTE_ID}"
ZONE = timezone(timedelta(hours=-5))
NOTE = "Spoke with Dr. Ruiz (payer).\nOverturned: MRI approved — réf. 42 ✓"


def _document(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "note_id": NOTE_ID,
        "patient_id": "pat-1",
        "note_text": NOTE,
        "written_at": datetime(2025, 3, 4, 15, 30, 5, tzinfo=ZONE),
        "call_start": datetime(2025, 3, 4, 14, 0, tzinfo=ZONE),
        "call_end": datetime(2025, 3, 4, 14, 20, tzinfo=ZONE),
        "claim_ref": "Claim/cl-1",
        "claim_response_ref": "ClaimResponse/cr-1",
        "encounter_id": "enc-1",
        "author_ref": "Practitioner/123",
        **overrides,
    }
    return build_document_reference(**args)


def test_document_reference_fields() -> None:
    doc = _document()

    assert doc["resourceType"] == "DocumentReference"
    assert doc["status"] == "current"
    assert doc["docStatus"] == "final"
    assert doc["type"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "34748-4",
        "display": "Telephone encounter Note",
    }
    category = doc["category"][0]["coding"][0]
    assert category["code"] == "clinical-note"
    assert category["system"] == "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
    assert doc["subject"] == {"reference": "Patient/pat-1"}
    assert doc["author"] == [{"reference": "Practitioner/123"}]
    assert doc["context"]["related"] == [{"reference": "Claim/cl-1"}, {"reference": "ClaimResponse/cr-1"}]
    assert doc["context"]["encounter"] == [{"reference": "Encounter/enc-1"}]
    assert doc["context"]["period"] == {"start": "2025-03-04T14:00:00-05:00", "end": "2025-03-04T14:20:00-05:00"}
    assert doc["date"] == "2025-03-04T15:30:05-05:00"
    attachment = doc["content"][0]["attachment"]
    assert attachment["contentType"] == "text/plain; charset=utf-8"
    assert base64.b64decode(attachment["data"], validate=True).decode("utf-8") == NOTE
    assert doc["identifier"] == [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{NOTE_ID}"}]


def test_document_reference_without_claim_or_encounter() -> None:
    doc = _document(claim_ref=None, encounter_id=None, author_ref=None)

    assert doc["context"]["related"] == [{"reference": "ClaimResponse/cr-1"}]
    assert "encounter" not in doc["context"]
    assert "author" not in doc


def test_document_reference_is_valid_r4() -> None:
    from smart_app.fhir.chart import validation_problem

    doc = {**_document(), "id": "x"}
    assert validation_problem(doc) is None


def test_supports_conditional_create_reads_capability_statement() -> None:
    caps = {"rest": [{"resource": [{"type": "DocumentReference", "conditionalCreate": True}]}]}
    assert supports_conditional_create(caps) is True
    assert supports_conditional_create({"rest": [{"resource": [{"type": "DocumentReference"}]}]}) is False
    assert supports_conditional_create({}) is False


def _client() -> FhirClient:
    return FhirClient(BASE, "tok", max_retries=0)


def _sent(call: Any) -> dict[str, Any]:
    return json.loads(call.request.body)


@responses.activate
def test_conditional_create_sends_if_none_exist() -> None:
    responses.post(f"{BASE}/DocumentReference", status=201, json={**_document(), "id": "dr-9"})

    ref = write_document_reference(_client(), _document(), conditional=True)

    assert ref == "DocumentReference/dr-9"
    assert len(responses.calls) == 1
    request = responses.calls[0].request
    assert request.method == "POST"
    assert request.headers["If-None-Exist"] == f"identifier={IDENTIFIER}"
    assert request.headers["Content-Type"] == "application/fhir+json"
    sent = _sent(responses.calls[0])
    assert sent["identifier"][0]["value"] == f"urn:uuid:{NOTE_ID}"
    assert base64.b64decode(sent["content"][0]["attachment"]["data"]).decode() == NOTE


@responses.activate
def test_without_conditional_create_an_existing_note_is_returned_unposted() -> None:
    search = responses.get(
        f"{BASE}/DocumentReference",
        match=[responses.matchers.query_param_matcher({"identifier": IDENTIFIER})],
        json={
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {**_document(), "id": "dr-existing"}}],
        },
    )
    post = responses.post(
        f"{BASE}/DocumentReference", status=201, json={"resourceType": "DocumentReference", "id": "dr-dup"}
    )

    ref = write_document_reference(_client(), _document(), conditional=False)

    assert ref == "DocumentReference/dr-existing"
    assert search.call_count == 1
    assert post.call_count == 0


@responses.activate
def test_without_conditional_create_a_new_note_is_posted_without_if_none_exist() -> None:
    responses.get(f"{BASE}/DocumentReference", json={"resourceType": "Bundle", "type": "searchset"})
    responses.post(f"{BASE}/DocumentReference", status=201, json={**_document(), "id": "dr-new"})

    ref = write_document_reference(_client(), _document(), conditional=False)

    assert ref == "DocumentReference/dr-new"
    assert "If-None-Exist" not in responses.calls[1].request.headers


@responses.activate
def test_201_with_empty_body_takes_id_from_location() -> None:
    responses.post(
        f"{BASE}/DocumentReference",
        status=201,
        body="",
        headers={"Location": f"{BASE}/DocumentReference/dr-77/_history/1"},
    )

    assert write_document_reference(_client(), _document(), conditional=True) == "DocumentReference/dr-77"


@responses.activate
def test_201_without_id_or_location_is_an_error() -> None:
    responses.post(f"{BASE}/DocumentReference", status=201, body="")

    with pytest.raises(WriteBackError, match="did not say where it is") as excinfo:
        write_document_reference(_client(), _document(), conditional=True)
    assert excinfo.value.retryable is False


def _outcome(text: str, expression: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": "error", "code": "code-invalid", "details": {"text": text}}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


@responses.activate
def test_type_rejection_is_retried_once_with_progress_note() -> None:
    responses.post(
        f"{BASE}/DocumentReference",
        status=422,
        json=_outcome("Code 34748-4 is not in the value set", "DocumentReference.type"),
    )
    responses.post(f"{BASE}/DocumentReference", status=201, json={"resourceType": "DocumentReference", "id": "dr-5"})

    ref = write_document_reference(_client(), _document(), conditional=True)

    assert ref == "DocumentReference/dr-5"
    assert len(responses.calls) == 2
    assert _sent(responses.calls[0])["type"]["coding"][0]["code"] == "34748-4"
    retried = _sent(responses.calls[1])["type"]["coding"][0]
    assert retried == {"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}
    assert responses.calls[1].request.headers["If-None-Exist"] == f"identifier={IDENTIFIER}"


@responses.activate
def test_type_rejection_twice_is_not_retried_again() -> None:
    responses.post(f"{BASE}/DocumentReference", status=422, json=_outcome("type not allowed"))

    with pytest.raises(WriteBackError):
        write_document_reference(_client(), _document(), conditional=True)
    assert len(responses.calls) == 2


@responses.activate
def test_other_422_is_not_retryable_and_says_why() -> None:
    responses.post(
        f"{BASE}/DocumentReference",
        status=422,
        json=_outcome("Valid encounter required", "DocumentReference.context.encounter"),
    )

    with pytest.raises(WriteBackError) as excinfo:
        write_document_reference(_client(), _document(), conditional=True)

    assert len(responses.calls) == 1
    assert excinfo.value.retryable is False
    assert excinfo.value.status_code == 422
    assert "Valid encounter required" in excinfo.value.message
    assert "DocumentReference.context.encounter" in excinfo.value.message


@responses.activate
def test_500_is_retryable() -> None:
    responses.post(f"{BASE}/DocumentReference", status=500, body="internal error")

    with pytest.raises(WriteBackError) as excinfo:
        write_document_reference(_client(), _document(), conditional=True)

    assert excinfo.value.retryable is True
    assert excinfo.value.status_code == 500
    assert len(responses.calls) == 1


@responses.activate
def test_a_server_that_ignores_the_identifier_search_does_not_count_as_already_written() -> None:
    """A server without the parameter answers with the patient's other notes: none carries our identifier."""
    other = {**_document(), "id": "dr-someone-elses", "identifier": [{"system": "urn:x", "value": "1"}]}
    responses.get(f"{BASE}/DocumentReference", json={"resourceType": "Bundle", "entry": [{"resource": other}]})
    post = responses.post(f"{BASE}/DocumentReference", status=201, json={**_document(), "id": "dr-new"})

    assert write_document_reference(_client(), _document(), conditional=False) == "DocumentReference/dr-new"
    assert post.call_count == 1


@responses.activate
def test_where_identifier_search_is_not_offered_no_search_is_made() -> None:
    post = responses.post(f"{BASE}/DocumentReference", status=201, json={**_document(), "id": "dr-new"})

    ref = write_document_reference(_client(), _document(), conditional=False, search_first=False)

    assert ref == "DocumentReference/dr-new" and post.call_count == 1
    assert len(responses.calls) == 1


def test_a_correction_replaces_the_note_it_corrects() -> None:
    assert _document(replaces="DocumentReference/dr-1")["relatesTo"] == [
        {"code": "replaces", "target": {"reference": "DocumentReference/dr-1"}}
    ]
