"""Storage of the practice's edits to a brief, scoped to one EHR, one patient and one denial."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from smart_app.store.db import Database
from smart_app.store.models import BriefEdit


def save_edit(
    db: Database, *, iss: str, patient_id: str, denial_id: str, kind: str, payload: dict[str, Any], author: str | None
) -> int:
    """Store one edit and return its id."""
    with db.session() as session:
        row = BriefEdit(
            iss=iss,
            patient_id=patient_id,
            denial_id=denial_id,
            kind=kind,
            payload_json=json.dumps(payload, ensure_ascii=False),
            author=author,
        )
        session.add(row)
        session.flush()
        return int(row.id)


def edits_for(db: Database, *, iss: str, patient_id: str, denial_id: str) -> list[dict[str, Any]]:
    """The denial's edits, oldest first: ``{"kind", "payload", "author", "at"}``."""
    with db.session() as session:
        rows = session.scalars(
            select(BriefEdit)
            .where(BriefEdit.iss == iss, BriefEdit.patient_id == patient_id, BriefEdit.denial_id == denial_id)
            .order_by(BriefEdit.id)
        ).all()
        return [
            {"kind": r.kind, "payload": json.loads(r.payload_json), "author": r.author, "at": _iso(r.created_at)}
            for r in rows
        ]


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="minutes")
