"""The outbox writes a note's resources in order, records each as it lands, resumes where a failure stopped,
and holds a correction until the note it replaces is in the chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smart_app.errors import WriteBackError
from smart_app.outcome.outbox import deliver, note_placeholder, save_note
from smart_app.store.db import Database
from smart_app.store.models import CallNote


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'o.sqlite3'}")
    database.upgrade()
    return database


class FakeEhr:
    """Assigns ids in order; fails the writes whose 1-based number is in ``fail_on``."""

    def __init__(self, fail_on: set[int] | None = None, retryable: bool = True) -> None:
        self.fail_on, self.retryable = fail_on or set(), retryable
        self.calls = 0
        self.created: list[dict[str, Any]] = []

    def write(self, resource: dict[str, Any]) -> str:
        self.calls += 1
        if self.calls in self.fail_on:
            raise WriteBackError("The EHR answered HTTP 503: busy", retryable=self.retryable, status_code=503)
        self.created.append(json.loads(json.dumps(resource)))
        return f"DocumentReference/{len(self.created)}"


def _sent(db: Database, note_id: str, write: Any) -> CallNote:
    """One delivery through the outbox's leased path; the note as it stands after it."""
    result = deliver(db, note_id, write)
    assert result.note is not None  # no other process holds the lease here
    return result.note


def _save(db: Database, note_id: str, resources: list[dict[str, Any]], replaces: str | None = None) -> None:
    save_note(db, note_id=note_id, iss="https://ehr/fhir", patient_id="p", claim_response_id="c", form={},
              note_text="t", resources=resources, replaces_note_id=replaces)  # fmt: skip


def _note(db: Database, note_id: str) -> CallNote:
    with db.session() as session:
        note = session.get(CallNote, note_id)
        assert note is not None
        return note


def test_the_brief_document_points_at_the_note_once_the_note_has_its_id(db: Database) -> None:
    note_id = "11111111-1111-1111-1111-111111111111"
    brief = {"resourceType": "DocumentReference", "relatesTo": [
        {"code": "appends", "target": {"reference": note_placeholder(note_id)}}]}  # fmt: skip
    _save(db, note_id, [{"resourceType": "DocumentReference"}, brief])
    ehr = FakeEhr()
    assert _sent(db, note_id, ehr.write).status == "written"
    assert ehr.created[1]["relatesTo"] == [{"code": "appends", "target": {"reference": "DocumentReference/1"}}]
    assert _note(db, note_id).document_reference == "DocumentReference/1"


def test_a_failure_between_the_two_documents_resumes_without_resending_the_first(db: Database) -> None:
    note_id = "22222222-2222-2222-2222-222222222222"
    _save(db, note_id, [{"resourceType": "DocumentReference", "n": 1}, {"resourceType": "DocumentReference", "n": 2}])
    ehr = FakeEhr(fail_on={2})
    first = _sent(db, note_id, ehr.write)
    assert first.status == "pending" and "503" in (first.last_error or "")
    assert json.loads(first.written_json or "[]") == ["DocumentReference/1", None]
    second = _sent(db, note_id, ehr.write)
    assert second.status == "written"
    assert [r["n"] for r in ehr.created] == [1, 2]  # the first was sent once


def test_a_correction_waits_for_the_note_it_replaces(db: Database) -> None:
    original, correction = "33333333-3333-3333-3333-333333333333", "44444444-4444-4444-4444-444444444444"
    _save(db, original, [{"resourceType": "DocumentReference", "n": "original"}])
    replacing = {"resourceType": "DocumentReference", "n": "correction",
                 "relatesTo": [{"code": "replaces", "target": {"reference": note_placeholder(original)}}]}  # fmt: skip
    _save(db, correction, [replacing], replaces=original)
    ehr = FakeEhr()
    waiting = _sent(db, correction, ehr.write)
    assert waiting.status == "pending"
    assert "corrects a note that has not reached the chart yet" in (waiting.last_error or "")
    assert ehr.calls == 0
    assert _sent(db, original, ehr.write).status == "written"
    assert _sent(db, correction, ehr.write).status == "written"
    assert ehr.created[1]["relatesTo"][0] == {"code": "replaces", "target": {"reference": "DocumentReference/1"}}


def test_a_note_saved_before_the_0004_migration_still_sends(db: Database) -> None:
    note_id = "55555555-5555-5555-5555-555555555555"
    _save(db, note_id, [{}])
    with db.session() as session:
        note = session.get(CallNote, note_id)
        assert note is not None
        note.resource_json, note.written_json = json.dumps({"resourceType": "DocumentReference"}), None
    assert _sent(db, note_id, FakeEhr().write).status == "written"


def test_a_delivery_whose_lease_another_process_took_writes_no_further_resource(db: Database) -> None:
    """The lease ran out during a slow first write and a flush took the note: the first delivery stops before the
    next resource rather than write beside the flush (renewing the lease before each resource tells)."""
    from datetime import UTC, datetime, timedelta

    _save(db, "n1", [{"resourceType": "DocumentReference", "id": "a"}, {"resourceType": "DocumentReference"}])
    ehr = FakeEhr()

    def slow_first(resource: dict[str, Any]) -> str:
        with db.session() as session:  # meanwhile the lease expired and another process took it
            note = session.get(CallNote, "n1")
            assert note is not None
            note.claimed_by, note.claimed_until = "another-flush", datetime.now(UTC) + timedelta(minutes=5)
        return ehr.write(resource)

    result = deliver(db, "n1", slow_first)
    assert result.note is None and len(ehr.created) == 1  # the second resource is left to the process holding it
