"""A create is never resent blind: an EHR that stores the note but whose answer is lost (a 503, a dropped
connection) holds one copy after the submit and after every later retry. Here the EHR is a Medplum-like server
(no CapabilityStatement, so no declared conditional create, but a search by identifier) played by ``responses``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from smart_app.errors import FhirUnreachable
from smart_app.fhir.client import CreateOutcomeUnknown, FhirClient
from smart_app.fhir.writeback import build_document_reference, document_writer
from smart_app.outcome.outbox import deliver, outbox_rows, save_note
from smart_app.store.db import Database

BASE = "https://medplum.example/fhir/R4"
NOTE_ID = "5b0c2a5e-8a4e-4d59-9d55-0c6f3f0f1a11"


class LossyEhr:
    """Stores every DocumentReference it is sent; answers the first ``lose`` creates with ``lost_as`` anyway."""

    def __init__(self, lose: int, lost_as: int | Exception = 503) -> None:
        self.stored: list[dict[str, Any]] = []
        self.lose, self.lost_as = lose, lost_as

    def create(self, request: Any) -> tuple[int, dict[str, str], str]:
        document = {**json.loads(request.body), "id": f"dr-{len(self.stored) + 1}"}
        self.stored.append(document)
        if self.lose:
            self.lose -= 1
            if isinstance(self.lost_as, Exception):
                raise self.lost_as
            return self.lost_as, {}, json.dumps({"resourceType": "OperationOutcome", "issue": []})
        return 201, {"Location": f"{BASE}/DocumentReference/{document['id']}"}, json.dumps(document)

    def search(self, request: Any) -> tuple[int, dict[str, str], str]:
        wanted = parse_qs(urlsplit(request.url).query).get("identifier", [""])[0]
        found = [d for d in self.stored if any(f"{i['system']}|{i['value']}" == wanted for i in d["identifier"])]
        return 200, {}, json.dumps({"resourceType": "Bundle", "type": "searchset",
                                    "entry": [{"resource": d} for d in found]})  # fmt: skip

    def serve(self) -> None:
        responses.get(f"{BASE}/metadata", status=404)  # Medplum's router answers no CapabilityStatement
        responses.add_callback(responses.POST, f"{BASE}/DocumentReference", callback=self.create)
        responses.add_callback(responses.GET, f"{BASE}/DocumentReference", callback=self.search)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'o.sqlite3'}")
    database.upgrade()
    return database


def _save(db: Database) -> None:
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    document = build_document_reference(
        note_id=NOTE_ID, patient_id="pat-1", note_text="Call note", written_at=now,
        call_start=now, call_end=now, claim_ref=None, claim_response_ref=None,
    )  # fmt: skip
    save_note(db, note_id=NOTE_ID, iss=BASE, patient_id="pat-1", claim_response_id="cr-1", form={},
              note_text="Call note", resources=[document])  # fmt: skip


def _writer() -> Any:
    return document_writer(FhirClient(BASE, "tok", max_retries=2), search_first=True)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("smart_app.fhir.client.time.sleep", lambda _: None)


@pytest.mark.parametrize(
    "lost_as",
    [503, 502, requests.ConnectionError("Connection aborted: RemoteDisconnected"), requests.ReadTimeout("slow")],
    ids=["503", "502", "dropped", "read-timeout"],
)
@responses.activate
def test_a_create_whose_answer_is_lost_is_in_the_ehr_once_after_the_submit_and_the_retries(
    db: Database, lost_as: int | Exception
) -> None:
    ehr = LossyEhr(lose=3, lost_as=lost_as)
    ehr.serve()
    _save(db)

    first = deliver(db, NOTE_ID, _writer()).note  # the submit
    assert len(ehr.stored) == 1  # never posted again within the request
    assert first is not None and first.status == "pending" and first.document_reference is None
    second = deliver(db, NOTE_ID, _writer()).note  # a later retry: looked for by identifier, found, not posted
    third = deliver(db, NOTE_ID, _writer()).note  # a written note is not taken again

    assert len(ehr.stored) == 1
    assert second is not None and second.status == "written" and third is None
    assert second.document_reference == "DocumentReference/dr-1"
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 1
    assert outbox_rows(db) == []


@responses.activate
def test_a_retry_whose_identifier_search_fails_waits_rather_than_posting(db: Database) -> None:
    ehr = LossyEhr(lose=1)
    responses.get(f"{BASE}/metadata", status=404)
    responses.add_callback(responses.POST, f"{BASE}/DocumentReference", callback=ehr.create)
    responses.get(f"{BASE}/DocumentReference", status=500)
    _save(db)

    deliver(db, NOTE_ID, _writer())
    retried = deliver(db, NOTE_ID, _writer()).note

    assert len(ehr.stored) == 1
    assert retried is not None and retried.status == "pending"
    assert "its answer was lost, and the EHR could not be asked whether it kept the note" in (retried.last_error or "")


@responses.activate
def test_a_connection_refused_is_not_a_lost_answer() -> None:
    responses.post(f"{BASE}/DocumentReference", body=requests.ConnectionError("refused"))
    with pytest.raises(CreateOutcomeUnknown):  # the request may have left: a dropped connection
        FhirClient(BASE, "tok").create({"resourceType": "DocumentReference"})

    import urllib3

    refused = requests.ConnectionError(urllib3.exceptions.MaxRetryError(
        None, "/", urllib3.exceptions.NewConnectionError(None, "Connection refused")))  # type: ignore[arg-type]  # fmt: skip
    responses.replace(responses.POST, f"{BASE}/DocumentReference", body=refused)
    with pytest.raises(FhirUnreachable) as excinfo:
        FhirClient(BASE, "tok").create({"resourceType": "DocumentReference"})
    assert not isinstance(excinfo.value, CreateOutcomeUnknown)  # never reached the server: safe to send again


@responses.activate
def test_a_429_create_is_resent_after_retry_after_as_the_server_refused_it_unread() -> None:
    responses.post(f"{BASE}/DocumentReference", status=429, headers={"Retry-After": "1"})
    responses.post(f"{BASE}/DocumentReference", status=201, json={"resourceType": "DocumentReference", "id": "d1"})

    result = FhirClient(BASE, "tok", max_retries=2).create({"resourceType": "DocumentReference"})

    assert result.resource_id == "d1" and len(responses.calls) == 2


@responses.activate
def test_a_503_create_is_not_resent_but_a_503_read_is() -> None:
    responses.post(f"{BASE}/DocumentReference", status=503)
    responses.get(f"{BASE}/Patient/p1", status=503)
    client = FhirClient(BASE, "tok", max_retries=2)

    with pytest.raises(Exception, match="503"):
        client.create({"resourceType": "DocumentReference"})
    with pytest.raises(Exception, match="503"):
        client.read("Patient", "p1")

    assert [c.request.method for c in responses.calls] == ["POST", "GET", "GET", "GET"]


@responses.activate
def test_a_retry_the_token_may_not_search_for_is_parked_for_a_person(db: Database) -> None:
    ehr = LossyEhr(lose=1)
    responses.get(f"{BASE}/metadata", status=404)
    responses.add_callback(responses.POST, f"{BASE}/DocumentReference", callback=ehr.create)
    responses.get(f"{BASE}/DocumentReference", status=403)  # a grant of DocumentReference.c without .s
    _save(db)

    deliver(db, NOTE_ID, _writer())
    retried = deliver(db, NOTE_ID, _writer()).note

    assert len(ehr.stored) == 1
    assert retried is not None and retried.status == "parked"
    assert "Look in the patient's chart for a peer-to-peer call note of this call" in (retried.last_error or "")
