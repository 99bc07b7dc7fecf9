"""Storage of a denial's case records: the scheduling log and the drafted letters, each scoped to one EHR,
one patient and one denial."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from smart_app.outcome.scheduling import SchedulingEvent, event_from_dict
from smart_app.store.db import Database
from smart_app.store.models import SchedulingLogEntry, WrittenDraft


@dataclass(frozen=True)
class CaseKey:
    """Which case: the EHR, the patient and the denial (ClaimResponse id or ``hand-<n>``)."""

    iss: str
    patient_id: str
    denial_id: str


def add_event(db: Database, case: CaseKey, event: SchedulingEvent, author: str | None) -> int:
    """Append one entry to the case's scheduling log; return its id."""
    with db.session() as session:
        row = SchedulingLogEntry(
            iss=case.iss,
            patient_id=case.patient_id,
            denial_id=case.denial_id,
            event_json=json.dumps(event.as_dict(), ensure_ascii=False),
            author=author,
        )
        session.add(row)
        session.flush()
        return int(row.id)


def events_for(db: Database, case: CaseKey) -> list[SchedulingEvent]:
    """The case's scheduling log, in the order the steps happened."""
    with db.session() as session:
        rows = session.scalars(
            select(SchedulingLogEntry).where(
                SchedulingLogEntry.iss == case.iss,
                SchedulingLogEntry.patient_id == case.patient_id,
                SchedulingLogEntry.denial_id == case.denial_id,
            )
        ).all()
        events = [event_from_dict(json.loads(r.event_json)) for r in rows]
    return sorted(events, key=lambda e: e.at)


def events_for_denials(db: Database, iss: str, denial_ids: Collection[str]) -> dict[CaseKey, list[SchedulingEvent]]:
    """The scheduling logs of many cases in one query, each in the order the steps happened."""
    found: dict[CaseKey, list[SchedulingEvent]] = {}
    with db.session() as session:
        rows = session.scalars(
            select(SchedulingLogEntry).where(
                SchedulingLogEntry.iss == iss, SchedulingLogEntry.denial_id.in_(sorted(denial_ids))
            )
        ).all()
        for r in rows:
            key = CaseKey(iss, r.patient_id, r.denial_id)
            found.setdefault(key, []).append(event_from_dict(json.loads(r.event_json)))
    return {key: sorted(events, key=lambda e: e.at) for key, events in found.items()}


@dataclass(frozen=True)
class StoredDraft:
    """A drafted letter as kept with the case."""

    id: int
    kind: str
    title: str
    text: str
    generated_at: datetime
    generated_by: str | None
    sent_at: datetime | None
    sent_by: str | None


def _stored(row: WrittenDraft) -> StoredDraft:
    return StoredDraft(
        id=int(row.id),
        kind=row.kind,
        title=row.title,
        text=row.text,
        generated_at=_aware(row.generated_at),
        generated_by=row.generated_by,
        sent_at=_aware(row.sent_at) if row.sent_at else None,
        sent_by=row.sent_by,
    )


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def save_draft(db: Database, case: CaseKey, *, kind: str, title: str, text: str, author: str | None) -> StoredDraft:
    """Keep a generated draft with the case (a new row each time: earlier drafts stay as they were)."""
    with db.session() as session:
        row = WrittenDraft(
            iss=case.iss,
            patient_id=case.patient_id,
            denial_id=case.denial_id,
            kind=kind,
            title=title,
            text=text,
            generated_by=author,
        )
        session.add(row)
        session.flush()
        return _stored(row)


def _scoped(case: CaseKey):  # noqa: ANN202 - a SQLAlchemy where-clause tuple
    return (
        WrittenDraft.iss == case.iss,
        WrittenDraft.patient_id == case.patient_id,
        WrittenDraft.denial_id == case.denial_id,
    )


def drafts_for(db: Database, case: CaseKey) -> list[StoredDraft]:
    """The case's drafts, newest first."""
    with db.session() as session:
        rows = session.scalars(select(WrittenDraft).where(*_scoped(case)).order_by(WrittenDraft.id.desc())).all()
        return [_stored(r) for r in rows]


def draft(db: Database, case: CaseKey, draft_id: int) -> StoredDraft | None:
    """One of the case's drafts, or None when it is not this case's."""
    with db.session() as session:
        row = session.scalars(select(WrittenDraft).where(WrittenDraft.id == draft_id, *_scoped(case))).first()
        return _stored(row) if row else None


def mark_sent(db: Database, case: CaseKey, draft_id: int, by: str | None) -> StoredDraft | None:
    """Record that a person sent the draft (the first time only: a second mark keeps the first date)."""
    with db.session() as session:
        row = session.scalars(select(WrittenDraft).where(WrittenDraft.id == draft_id, *_scoped(case))).first()
        if row is None:
            return None
        if row.sent_at is None:
            row.sent_at = datetime.now(UTC)
            row.sent_by = by
        return _stored(row)
