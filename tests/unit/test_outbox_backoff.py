"""The outbox retries with backoff: 30 s after the first failure, doubling, at most an hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from smart_app.outcome.outbox import due_notes, next_attempt_at, save_note
from smart_app.store.db import Database
from smart_app.store.models import CallNote


def _note(attempts: int, updated: datetime) -> CallNote:
    return CallNote(id="n", attempts=attempts, updated_at=updated, status="pending")


def test_backoff_doubles_up_to_an_hour() -> None:
    t0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    waits = [(next_attempt_at(_note(n, t0)) - t0).total_seconds() for n in (0, 1, 2, 3, 7, 20)]
    assert waits == [0, 30, 60, 120, 1920, 3600]


def test_only_due_notes_are_tried(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'o.sqlite3'}")
    db.upgrade()
    save_note(db, note_id="fresh", iss="https://e/fhir", patient_id="p", claim_response_id="c", form={},
              note_text="t", resources=[{}])  # fmt: skip
    save_note(db, note_id="failed", iss="https://e/fhir", patient_id="p", claim_response_id="c", form={},
              note_text="t", resources=[{}])  # fmt: skip
    with db.session() as session:
        note = session.get(CallNote, "failed")
        assert note is not None
        note.attempts = 3
    now = datetime.now(UTC)
    assert [n.id for n in due_notes(db, now=now)] == ["fresh"]
    assert {n.id for n in due_notes(db, now=now + timedelta(minutes=3))} == {"fresh", "failed"}
    assert {n.id for n in due_notes(db, now=now, ignore_backoff=True)} == {"fresh", "failed"}
