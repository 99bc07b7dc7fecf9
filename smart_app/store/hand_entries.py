"""Storage of hand-entered denials, always scoped to one EHR (``iss``) and one patient."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from smart_app.store.db import Database
from smart_app.store.form_submissions import store_once
from smart_app.store.models import HandEnteredDenial


def save_hand_entry(
    db: Database,
    *,
    iss: str,
    patient_id: str,
    fields: dict[str, Any],
    entered_by: str | None,
    form_key: str | None = None,
) -> tuple[int, bool]:
    """Store one hand-entered denial; its id and True. A form whose one-time ``form_key`` already created an entry
    for this patient stores nothing: that entry's id and False (a second submit of the same form)."""
    return store_once(
        db,
        lambda: HandEnteredDenial(iss=iss, patient_id=patient_id, fields_json=json.dumps(fields, ensure_ascii=False),
                                  entered_by=entered_by, form_key=form_key),
        lambda: entry_for_key(db, iss=iss, patient_id=patient_id, form_key=form_key),
    )  # fmt: skip


def entry_for_key(db: Database, *, iss: str, patient_id: str, form_key: str | None) -> int | None:
    """The id of the patient's entry created by the form with this one-time key, if any."""
    if not form_key:
        return None
    with db.session() as session:
        found = session.scalar(
            select(HandEnteredDenial.id).where(
                HandEnteredDenial.iss == iss,
                HandEnteredDenial.patient_id == patient_id,
                HandEnteredDenial.form_key == form_key,
            )
        )
        return None if found is None else int(found)


def hand_entries_for(db: Database, *, iss: str, patient_id: str) -> list[tuple[int, dict[str, Any]]]:
    """The patient's hand-entered denials, newest first, as ``(id, fields)``."""
    with db.session() as session:
        rows = session.scalars(
            select(HandEnteredDenial)
            .where(HandEnteredDenial.iss == iss, HandEnteredDenial.patient_id == patient_id)
            .order_by(HandEnteredDenial.id.desc())
        ).all()
        return [(int(row.id), json.loads(row.fields_json)) for row in rows]


def hand_entry(db: Database, *, iss: str, patient_id: str, entry_id: int) -> dict[str, Any] | None:
    """One hand-entered denial of this patient, or None (another patient's id is never returned)."""
    with db.session() as session:
        row = session.get(HandEnteredDenial, entry_id)
        if row is None or row.iss != iss or row.patient_id != patient_id:
            return None
        return dict(json.loads(row.fields_json))


def hand_entry_author(db: Database, *, iss: str, patient_id: str, entry_id: int) -> str | None:
    """Who typed one hand-entered denial of this patient (their ``fhirUser``), or None when unknown or not
    this patient's."""
    with db.session() as session:
        row = session.get(HandEnteredDenial, entry_id)
        if row is None or row.iss != iss or row.patient_id != patient_id:
            return None
        return row.entered_by
