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

from smart_app.errors import FhirAuthError, FhirUnreachable, LaunchError, WriteBackError
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
    form_key: str | None = None,
    lease_owner: str | None = None,
) -> CallNote:
    """Keep the note locally, as ``pending``, before anything is sent.

    ``resources`` are created in order; a ``relatesTo`` target written as ``note_placeholder(id, i)`` is filled
    in with the reference the ``i``-th resource of note ``id`` got (this note's own, or the one it corrects).
    ``form_key`` is the one-time key of the form it came from (a second note with the same key for this patient is
    refused by the database: ``IntegrityError``). With ``lease_owner`` the note is saved already leased to that
    owner, so no other process sends it before the owner has finished it and tried it itself."""
    leased_until = datetime.now(UTC) + timedelta(seconds=CLAIM_SECONDS) if lease_owner else None
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
        form_key=form_key,
        claimed_by=lease_owner,
        claimed_until=leased_until,
    )
    with db.session() as session:
        session.add(note)
    return note


def note_for_key(db: Database, *, iss: str, patient_id: str, form_key: str | None) -> CallNote | None:
    """The patient's note created by the form with this one-time key, if any."""
    if not form_key:
        return None
    with db.session() as session:
        return session.scalar(
            select(CallNote).where(
                CallNote.iss == iss, CallNote.patient_id == patient_id, CallNote.form_key == form_key
            )
        )


def own_note(db: Database, *, iss: str, patient_id: str, claim_response_id: str, note_id: str) -> CallNote | None:
    """The saved note, if it is one of this EHR's, patient's and denial's notes; else None."""
    with db.session() as session:
        note = session.get(CallNote, note_id)
    if note is None or (note.iss, note.patient_id, note.claim_response_id) != (iss, patient_id, claim_response_id):
        return None
    return note


def may_be_in_chart(note: CallNote) -> bool:
    """Whether an attempt to write the note was sent and its answer lost: the EHR may hold it already."""
    return UNCONFIRMED in _written(note)


def not_in_chart(db: Database, note_id: str) -> bool:
    """A person looked in the chart and the note whose answer was lost is not there: it may be sent again (the
    writer will create it). Whether there was such a note to clear."""
    with db.session() as session:
        note = session.get(CallNote, note_id)
        if note is None or note.status == "written" or not may_be_in_chart(note):
            return False
        written = [None if w == UNCONFIRMED else w for w in _written(note)]
        note.written_json, note.status = json.dumps(written), "pending"
        note.last_error = "Checked by a person: not in the chart; sent again"
        return True


def complete_note(db: Database, note_id: str, owner: str, *, note_text: str, resources: list[dict[str, Any]]) -> bool:
    """Replace a saved note's text and resources (built again once the chart could be read), only while ``owner``
    holds its lease and nothing of it has been sent; whether it was replaced."""
    with db.session() as session:
        note = session.get(CallNote, note_id)
        if note is None or note.claimed_by != owner or any(_written(note)):
            return False
        note.note_text = note_text
        note.resource_json = json.dumps(resources)
        note.written_json = json.dumps([None] * len(resources))
        return True


def discard_note(db: Database, note_id: str) -> None:
    """Delete a saved note that was never sent (its denial turned out not to be the patient's)."""
    with db.session() as session:
        note = session.get(CallNote, note_id)
        if note is not None and not any(_written(note)):
            session.delete(note)


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


#: How long a lease holds: one resource's write at its worst (CapabilityStatement, search, create, each bounded by
#: P2P_FHIR_REQUEST_DEADLINE with up to two 429 retries) fits well inside; the lease is renewed before each resource.
CLAIM_SECONDS = 300


def claim(db: Database, note_id: str, owner: str, *, now: datetime | None = None) -> bool:
    """Take the note for ``owner`` for ``CLAIM_SECONDS`` unless another process holds it or it is in the chart
    already: one conditional UPDATE, atomic in SQLite and PostgreSQL alike, so of two writers only one ever writes
    a given note. A parked note can be taken (a person pressed Retry); the flush only asks for pending ones."""
    now = now or datetime.now(UTC)
    with db.session() as session:
        taken = session.execute(  # an UPDATE: its result is a CursorResult, which counts the rows it changed
            update(CallNote)
            .where(
                CallNote.id == note_id,
                CallNote.status != "written",
                or_(
                    CallNote.claimed_until.is_(None),
                    CallNote.claimed_until < now,
                    CallNote.claimed_by == owner,
                ),
            )
            .values(claimed_by=owner, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False)
        )
        return bool(cast(CursorResult[Any], taken).rowcount)


@dataclass
class Delivery:
    """One delivery attempt: the note as it stands after it (None when another process holds the note's lease and
    is sending it, or it is already in the chart), and whether the EHR could not be reached or refused the app's
    credentials (then no other note for that EHR will get through now either)."""

    note: CallNote | None
    unavailable: bool = False


def deliver(db: Database, note_id: str, write: Writer, *, owner: str | None = None) -> Delivery:
    """The one way a note reaches the chart (the note just recorded, Retry, the next page's retry, the flush): take
    its lease (or keep the one ``owner`` holds), write what of it is not in the chart yet, record the outcome
    (written, pending with the reason, or parked) and release the lease. Each resource that lands is recorded at
    once, so a retry never sends it again; a note whose lease another process holds is left to that process."""
    owner = owner or uuid.uuid4().hex
    if not claim(db, note_id, owner):
        return Delivery(None)
    with db.session() as session:
        note = session.get(CallNote, note_id)
        if note is None:
            raise KeyError(note_id)
        resources, written = _resources(note), _written(note)
        iss, patient_id = note.iss, note.patient_id
    for index, resource in enumerate(resources):
        if _in_chart(written[index]):
            continue
        if index and not claim(db, note_id, owner):  # renew the lease before each resource; lost: another took it
            return Delivery(None)
        try:
            resolved = _resolve(db, resource, written, note_id)
            if written[index] == UNCONFIRMED:
                written[index] = write(resolved, unconfirmed=True)
            else:
                written[index] = write(resolved)
        except WaitingFor as exc:
            waiting = _update(db, note_id, status="pending", last_error=str(exc), written_json=json.dumps(written))
            return Delivery(waiting)
        except WriteBackError as exc:
            if exc.maybe_written:
                written[index] = UNCONFIRMED
            status = "pending" if exc.retryable else "parked"
            updated = _update(db, note_id, status=status, last_error=exc.message, written_json=json.dumps(written))
            return Delivery(updated, unavailable=_unavailable(exc))
        except Exception as exc:  # never leave the note leased: record that the attempt broke, then let it surface
            _update(db, note_id, status="pending", last_error=f"The attempt failed unexpectedly ({type(exc).__name__})",
                    written_json=json.dumps(written))  # fmt: skip
            raise
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
    return Delivery(done)


def _unavailable(exc: WriteBackError) -> bool:
    """Whether the write failed because the EHR could not be reached or would not let the app in (network, token,
    401/403), rather than because it refused this one note."""
    return isinstance(exc.__cause__, (FhirUnreachable, FhirAuthError, LaunchError)) or exc.status_code in (401, 403)


def keep_pending(db: Database, note_id: str, owner: str, reason: str) -> None:
    """Record why a leased note was not tried (its EHR is unavailable) and release the lease."""
    with db.session() as session:
        note = session.get(CallNote, note_id)
        if note is not None and note.claimed_by == owner:
            note.last_error = reason
            note.claimed_by, note.claimed_until = None, None


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
    """What one flush did: notes written, still pending, and parked for a person; and each EHR that could not be
    reached or refused the app, with the reason (its remaining notes were not tried)."""

    written: int = 0
    pending: int = 0
    parked: int = 0
    busy: int = 0  # being written by another process
    errors: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)


def flush(
    db: Database,
    writer_for: Callable[[str], Writer],
    *,
    now: datetime | None = None,
    ignore_backoff: bool = False,
) -> FlushReport:
    """Try every due note once, each EHR through its own writer (``writer_for(iss)``). Once an EHR cannot be
    reached or refuses the app's credentials, its other notes are not tried: each keeps that reason."""
    report = FlushReport()
    writers: dict[str, Writer] = {}
    owner = uuid.uuid4().hex
    for note in due_notes(db, now=now, ignore_backoff=ignore_backoff):
        if note.iss in report.unavailable:
            if claim(db, note.id, owner):
                keep_pending(db, note.id, owner, report.unavailable[note.iss])
                report.pending += 1
            continue
        if note.iss not in writers:
            writers[note.iss] = writer_for(note.iss)
        result = deliver(db, note.id, writers[note.iss], owner=owner)
        if result.note is None:
            report.busy += 1  # another process is sending it now
        elif result.note.status == "written":
            report.written += 1
        elif result.note.status == "parked":
            report.parked += 1
            report.errors.append(f"{note.id}: {result.note.last_error}")
        else:
            report.pending += 1
            if result.unavailable:
                report.unavailable[note.iss] = result.note.last_error or "the EHR could not be reached"
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
