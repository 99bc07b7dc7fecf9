"""The outbox: every call note is saved here before the EHR is asked to take it, and stays until it has landed.

The write itself is passed in as a function (``write(resource) -> "DocumentReference/<id>"``), so this module
knows storage but no HTTP. A note the EHR refuses for good (a 4xx it explains) is ``parked`` for a person;
anything else stays ``pending`` and is retried. A write that reached the EHR but whose answer was lost is recorded
as ``UNCONFIRMED``, and the next attempt is made with ``write(resource, unconfirmed=True)``: the writer looks for
the copy the EHR may hold before it creates anything (never a blind second create).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, or_, select, update

from smart_app.errors import WriteBackError
from smart_app.store.audit import record_event
from smart_app.store.db import Database
from smart_app.store.models import CallNote


class Writer(Protocol):
    """Creates one resource in the EHR and returns its reference; ``unconfirmed`` when an earlier attempt reached
    the EHR but its answer was lost (only passed then, so a plain ``write(resource)`` function is a writer too)."""

    def __call__(self, resource: dict[str, Any], /, *, unconfirmed: bool = ...) -> str: ...


UNCONFIRMED = "unconfirmed"  # in ``written_json``: sent, answer lost; looked for before any second create


def _in_chart(reference: str | None) -> bool:
    return reference is not None and reference != UNCONFIRMED


def save_note(
    db: Database,
    *,
    note_id: str,
    iss: str,
    patient_id: str,
    claim_response_id: str,
    form: dict[str, Any],
    note_text: str,
    resources: list[dict[str, Any]],
    replaces_note_id: str | None = None,
) -> CallNote:
    """Keep the note locally, as ``pending``, before anything is sent.

    ``resources`` are created in order; a ``relatesTo`` target written as ``note_placeholder(id, i)`` is filled
    in with the reference the ``i``-th resource of note ``id`` got (this note's own, or the one it corrects)."""
    note = CallNote(
        id=note_id,
        iss=iss,
        patient_id=patient_id,
        claim_response_id=claim_response_id,
        form_json=json.dumps(form),
        note_text=note_text,
        resource_json=json.dumps(resources),
        written_json=json.dumps([None] * len(resources)),
        replaces_note_id=replaces_note_id,
        status="pending",
        attempts=0,
    )
    with db.session() as session:
        session.add(note)
    return note


PLACEHOLDER_PREFIX = "urn:p2p-brief:note:"


def note_placeholder(note_id: str, index: int = 0) -> str:
    """A reference to the ``index``-th resource of a saved note, filled in once that resource is in the chart."""
    return f"{PLACEHOLDER_PREFIX}{note_id}#{index}"


def _written(note: CallNote) -> list[str | None]:
    stored = json.loads(note.written_json) if note.written_json else None
    resources = _resources(note)
    if isinstance(stored, list) and len(stored) == len(resources):
        return stored
    return [note.document_reference] + [None] * (len(resources) - 1)  # a note saved before 0004


def _resources(note: CallNote) -> list[dict[str, Any]]:
    stored = json.loads(note.resource_json)
    return stored if isinstance(stored, list) else [stored]  # a note saved before 0004 holds one resource


class WaitingFor(Exception):
    """A resource refers to one not yet in the chart (a correction whose original is still in the outbox)."""


def _resolve(db: Database, resource: dict[str, Any], own: list[str | None], own_id: str) -> dict[str, Any]:
    for relation in list(resource.get("relatesTo") or []):
        reference = relation.get("target", {}).get("reference", "")
        if not reference.startswith(PLACEHOLDER_PREFIX):
            continue
        note_id, _, index = reference[len(PLACEHOLDER_PREFIX) :].partition("#")
        if note_id == own_id:
            written = own
        else:
            with db.session() as session:
                other = session.get(CallNote, note_id)
            if other is None or other.status == "parked":
                # What it corrects never reached the chart (or never will): there is nothing there to replace.
                resource["relatesTo"] = [r for r in resource["relatesTo"] if r is not relation]
                continue
            written = _written(other)
        target = written[int(index)] if int(index) < len(written) else None
        if target is None or not _in_chart(target):
            raise WaitingFor("It corrects a note that has not reached the chart yet; it is sent once that one is.")
        relation["target"]["reference"] = target
    if resource.get("relatesTo") == []:
        del resource["relatesTo"]  # FHIR allows no empty arrays
    return resource


CLAIM_SECONDS = 120


def claim(db: Database, note_id: str, owner: str, *, now: datetime | None = None) -> bool:
    """Take the note for ``owner`` for ``CLAIM_SECONDS`` unless another process holds it: one conditional UPDATE,
    atomic in SQLite and PostgreSQL alike, so of two flushers only one ever writes a given note."""
    now = now or datetime.now(UTC)
    with db.session() as session:
        taken = session.execute(
            update(CallNote)
            .where(
                CallNote.id == note_id,
                CallNote.status == "pending",
                or_(
                    CallNote.claimed_until.is_(None),
                    CallNote.claimed_until < now,
                    CallNote.claimed_by == owner,
                ),
            )
            .values(claimed_by=owner, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False)
        )
        return bool(cast(CursorResult[Any], taken).rowcount)  # an UPDATE answers with a cursor result


def deliver(db: Database, note_id: str, write: Writer) -> CallNote:
    """Write what of one saved note is not in the chart yet; record the outcome (written, pending with the reason,
    or parked). Each resource that lands is recorded at once, so a retry never sends it again."""
    with db.session() as session:
        note = session.get(CallNote, note_id)
        if note is None:
            raise KeyError(note_id)
        if note.status == "written":
            return note
        resources, written = _resources(note), _written(note)
        iss, patient_id = note.iss, note.patient_id
    for index, resource in enumerate(resources):
        if _in_chart(written[index]):
            continue
        try:
            resolved = _resolve(db, resource, written, note_id)
            if written[index] == UNCONFIRMED:
                written[index] = write(resolved, unconfirmed=True)
            else:
                written[index] = write(resolved)
        except WaitingFor as exc:
            return _update(db, note_id, status="pending", last_error=str(exc), written_json=json.dumps(written))
        except WriteBackError as exc:
            if exc.maybe_written:
                written[index] = UNCONFIRMED
            status = "pending" if exc.retryable else "parked"
            return _update(db, note_id, status=status, last_error=exc.message, written_json=json.dumps(written))
        _record_progress(db, note_id, written)
    done = _update(
        db, note_id, status="written", last_error=None, document_reference=written[0], written_json=json.dumps(written)
    )
    authors = resources[0].get("author") if resources else None
    author = (
        authors[0].get("reference") if isinstance(authors, list) and authors and isinstance(authors[0], dict) else None
    )
    record_event(db, tenant=iss, user=author or "the app (outbox)", action="note.written", patient_id=patient_id,
                 resource=written[0])  # fmt: skip
    return done


def _record_progress(db: Database, note_id: str, written: list[str | None]) -> None:
    with db.session() as session:
        note = session.get(CallNote, note_id)
        assert note is not None  # noqa: S101 - saved before any delivery
        note.written_json = json.dumps(written)
        note.document_reference = written[0]  # the note itself is in the chart even if what follows it is not


def _update(db: Database, note_id: str, **changes: Any) -> CallNote:
    with db.session() as session:
        note = session.get(CallNote, note_id)
        assert note is not None  # noqa: S101 - saved before any delivery
        note.attempts += 1
        note.claimed_by, note.claimed_until = None, None
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


def notes_for_denials(
    db: Database, *, iss: str, claim_response_ids: Collection[str]
) -> dict[tuple[str, str], list[CallNote]]:
    """Every note of many denials in one query, by (patient id, ClaimResponse id), newest first."""
    found: dict[tuple[str, str], list[CallNote]] = {}
    with db.session() as session:
        rows = session.scalars(
            select(CallNote)
            .where(CallNote.iss == iss, CallNote.claim_response_id.in_(sorted(claim_response_ids)))
            .order_by(CallNote.created_at.desc())
        )
        for note in rows:
            found.setdefault((note.patient_id, note.claim_response_id), []).append(note)
    return found


BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600


def next_attempt_at(note: CallNote) -> datetime:
    """When a pending note may be tried again: 30 s, 60 s, 2 min … doubling per attempt, at most an hour."""
    delay = min(BACKOFF_BASE_SECONDS * 2 ** max(note.attempts - 1, 0), BACKOFF_MAX_SECONDS) if note.attempts else 0
    updated = note.updated_at if note.updated_at.tzinfo else note.updated_at.replace(tzinfo=UTC)
    return updated + timedelta(seconds=delay)


def due_notes(
    db: Database,
    *,
    now: datetime | None = None,
    ignore_backoff: bool = False,
    iss: str | None = None,
    patient_id: str | None = None,
) -> list[CallNote]:
    """Pending notes whose backoff has passed, oldest first (of one EHR and patient when they are given)."""
    now = now or datetime.now(UTC)
    query = select(CallNote).where(CallNote.status == "pending").order_by(CallNote.created_at)
    if iss is not None:
        query = query.where(CallNote.iss == iss)
    if patient_id is not None:
        query = query.where(CallNote.patient_id == patient_id)
    with db.session() as session:
        pending = list(session.scalars(query))
    return [n for n in pending if ignore_backoff or next_attempt_at(n) <= now]


@dataclass
class FlushReport:
    """What one flush did: notes written, still pending, and parked for a person."""

    written: int = 0
    pending: int = 0
    parked: int = 0
    busy: int = 0  # being written by another process
    errors: list[str] = field(default_factory=list)


def flush(
    db: Database,
    writer_for: Callable[[str], Writer],
    *,
    now: datetime | None = None,
    ignore_backoff: bool = False,
) -> FlushReport:
    """Try every due note once, each EHR through its own writer (``writer_for(iss)``)."""
    report = FlushReport()
    writers: dict[str, Writer] = {}
    owner = uuid.uuid4().hex
    for note in due_notes(db, now=now, ignore_backoff=ignore_backoff):
        if not claim(db, note.id, owner):
            report.busy += 1  # another flusher has it now
            continue
        if note.iss not in writers:
            writers[note.iss] = writer_for(note.iss)
        result = deliver(db, note.id, writers[note.iss])
        if result.status == "written":
            report.written += 1
        elif result.status == "parked":
            report.parked += 1
            report.errors.append(f"{note.id}: {result.last_error}")
        else:
            report.pending += 1
    return report


def outbox_rows(db: Database) -> list[dict[str, Any]]:
    """Notes not yet in the chart (pending or parked), oldest first, without their clinical text."""
    with db.session() as session:
        notes = session.scalars(select(CallNote).where(CallNote.status != "written").order_by(CallNote.created_at))
        return [
            {"id": n.id, "status": n.status, "attempts": n.attempts, "iss": n.iss, "error": n.last_error} for n in notes
        ]


def written_documents(
    db: Database, iss: str, denials: Collection[tuple[str, str]] | None = None
) -> list[dict[str, Any]]:
    """Every document the EHR accepted for ``iss`` (only those of the given ``(patient id, ClaimResponse id)``
    denials when given), as sent, with the id the EHR gave it (for the FHIR export)."""
    with db.session() as session:
        notes = [
            note
            for note in session.scalars(select(CallNote).where(CallNote.iss == iss, CallNote.status == "written"))
            if denials is None or (note.patient_id, note.claim_response_id) in denials
        ]
    documents = []
    for note in notes:
        for resource, reference in zip(_resources(note), _written(note), strict=True):
            if reference and _in_chart(reference):
                documents.append({**resource, "id": reference.split("/")[-1]})
    return documents
