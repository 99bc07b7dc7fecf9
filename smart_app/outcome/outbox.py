"""The outbox: every call note is saved here before the EHR is asked to take it, and stays until it has landed.

The write itself is passed in as a function (``write(resource) -> "DocumentReference/<id>"``), so this module
knows storage but no HTTP. A note the EHR refuses for good (a 4xx it explains) is ``parked`` for a person;
anything else stays ``pending`` and is retried.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from smart_app.errors import WriteBackError
from smart_app.store.db import Database
from smart_app.store.models import CallNote

Writer = Callable[[dict[str, Any]], str]


def save_note(
    db: Database,
    *,
    note_id: str,
    iss: str,
    patient_id: str,
    claim_response_id: str,
    form: dict[str, str],
    note_text: str,
    resource: dict[str, Any],
) -> CallNote:
    """Keep the note locally, as ``pending``, before anything is sent."""
    note = CallNote(
        id=note_id,
        iss=iss,
        patient_id=patient_id,
        claim_response_id=claim_response_id,
        form_json=json.dumps(form),
        note_text=note_text,
        resource_json=json.dumps(resource),
        status="pending",
        attempts=0,
    )
    with db.session() as session:
        session.add(note)
    return note


def deliver(db: Database, note_id: str, write: Writer) -> CallNote:
    """Try to write one saved note; record the outcome (written, pending with the reason, or parked)."""
    with db.session() as session:
        note = session.get(CallNote, note_id)
        if note is None:
            raise KeyError(note_id)
        if note.status == "written":
            return note
        resource = json.loads(note.resource_json)
    try:
        reference = write(resource)
    except WriteBackError as exc:
        return _update(db, note_id, status="pending" if exc.retryable else "parked", last_error=exc.message)
    return _update(db, note_id, status="written", last_error=None, document_reference=reference)


def _update(db: Database, note_id: str, **changes: Any) -> CallNote:
    with db.session() as session:
        note = session.get(CallNote, note_id)
        assert note is not None  # noqa: S101 - saved before any delivery
        note.attempts += 1
        for key, value in changes.items():
            setattr(note, key, value)
        return note


def notes_for_denial(db: Database, *, iss: str, patient_id: str, claim_response_id: str) -> list[CallNote]:
    """Every note recorded for one denial, newest first."""
    with db.session() as session:
        rows = session.scalars(
            select(CallNote)
            .where(
                CallNote.iss == iss, CallNote.patient_id == patient_id, CallNote.claim_response_id == claim_response_id
            )
            .order_by(CallNote.created_at.desc())
        )
        return list(rows)
