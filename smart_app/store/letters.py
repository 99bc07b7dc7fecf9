"""Storage of uploaded denial letters, always scoped to one EHR (``iss``) and one patient.

A letter is saved the moment it arrives (status ``received``), before anything reads it: a read that fails or a
process that dies leaves the file and its row, listed with its error. Values are plain JSON and bytes; what they
mean is the ``letters`` package's business.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import defer

from smart_app.store.db import Database
from smart_app.store.form_submissions import store_once
from smart_app.store.models import MAX_ROW_ID, UploadedLetter

STATUSES = ("received", "read", "unreadable", "confirmed", "refused")


@dataclass(frozen=True)
class StoredLetter:
    """One uploaded letter as stored (without its bytes: ``letter_file`` reads those)."""

    id: int
    practice: str | None
    uploaded_by: str | None
    uploaded_at: datetime
    filename: str
    media_type: str
    size: int
    status: str
    error: str | None
    reading: dict[str, Any] | None
    confirmed: dict[str, Any] | None
    denial_id: str | None


def _stored(row: UploadedLetter) -> StoredLetter:
    return StoredLetter(
        id=int(row.id),
        practice=row.practice,
        uploaded_by=row.uploaded_by,
        uploaded_at=row.uploaded_at,
        filename=row.filename,
        media_type=row.media_type,
        size=int(row.size),
        status=row.status,
        error=row.error,
        reading=json.loads(row.reading_json) if row.reading_json else None,
        confirmed=json.loads(row.confirmed_json) if row.confirmed_json else None,
        denial_id=row.denial_id,
    )


def save_letter(
    db: Database,
    *,
    iss: str,
    patient_id: str,
    practice: str | None,
    uploaded_by: str | None,
    filename: str,
    media_type: str,
    content: bytes,
    size: int | None = None,
    status: str = "received",
    error: str | None = None,
    form_key: str | None = None,
) -> tuple[int, bool]:
    """Store one uploaded letter before it is read; its id and True. A form whose one-time ``form_key`` already
    stored a letter for this patient stores nothing: that letter's id and False (a second submit of the form).
    ``size`` is the upload's size when ``content`` is not kept (a file past the cap keeps its name and error)."""
    return store_once(
        db,
        lambda: UploadedLetter(iss=iss, patient_id=patient_id, practice=practice, uploaded_by=uploaded_by,
                               filename=_fitted_name(filename), media_type=media_type[:100], content=content,
                               size=len(content) if size is None else size, status=status, error=error,
                               form_key=form_key),
        lambda: _letter_for_key(db, iss=iss, patient_id=patient_id, form_key=form_key),
    )  # fmt: skip


def _fitted_name(filename: str, width: int = 255) -> str:
    """The file's name as the column keeps it: control characters dropped (PostgreSQL refuses a NUL, and the
    letter with it), cut to ``width`` characters keeping its extension."""
    name = "".join(char for char in filename if unicodedata.category(char) != "Cc")
    if len(name) <= width:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 10:
        return name[:width]
    return stem[: width - len(extension) - 1] + "." + extension


def _letter_for_key(db: Database, *, iss: str, patient_id: str, form_key: str | None) -> int | None:
    if not form_key:
        return None
    with db.session() as session:
        found = session.scalar(
            select(UploadedLetter.id).where(
                UploadedLetter.iss == iss, UploadedLetter.patient_id == patient_id, UploadedLetter.form_key == form_key
            )
        )
        return None if found is None else int(found)


def _own_row(session: Any, *, iss: str, patient_id: str, letter_id: int) -> UploadedLetter | None:
    if not 0 < letter_id <= MAX_ROW_ID:
        return None
    row = session.get(UploadedLetter, letter_id)
    if row is None or row.iss != iss or row.patient_id != patient_id:
        return None
    return row


def letter(db: Database, *, iss: str, patient_id: str, letter_id: int) -> StoredLetter | None:
    """One letter of this patient, or None (another patient's id is never returned)."""
    with db.session() as session:
        row = _own_row(session, iss=iss, patient_id=patient_id, letter_id=letter_id)
        return None if row is None else _stored(row)


def letter_file(db: Database, *, iss: str, patient_id: str, letter_id: int) -> bytes | None:
    """The bytes of one letter of this patient, or None."""
    with db.session() as session:
        row = _own_row(session, iss=iss, patient_id=patient_id, letter_id=letter_id)
        return None if row is None else bytes(row.content)


def letters_for(db: Database, *, iss: str, patient_id: str) -> list[StoredLetter]:
    """The patient's uploaded letters, newest first."""
    with db.session() as session:
        rows = session.scalars(
            select(UploadedLetter)
            .options(defer(UploadedLetter.content))
            .where(UploadedLetter.iss == iss, UploadedLetter.patient_id == patient_id)
            .order_by(UploadedLetter.id.desc())
        ).all()
        return [_stored(row) for row in rows]


def record_reading(
    db: Database, *, iss: str, patient_id: str, letter_id: int, reading: dict[str, Any] | None, error: str | None
) -> None:
    """Keep what was read off a letter (status ``read``), or why it could not be read (``unreadable``)."""
    with db.session() as session:
        row = _own_row(session, iss=iss, patient_id=patient_id, letter_id=letter_id)
        if row is None:
            return
        row.reading_json = None if reading is None else json.dumps(reading, ensure_ascii=False)
        row.status, row.error = ("unreadable", error) if error else ("read", None)


def confirm_letter(
    db: Database,
    *,
    iss: str,
    patient_id: str,
    letter_id: int,
    confirmed: dict[str, Any],
    denial_id: str,
    practice: str | None,
) -> bool:
    """Keep the fields the liaison confirmed, the practice whose case it is, and the case they became; False when
    the letter is not waiting for review (already confirmed or refused: a second submit changes nothing)."""
    with db.session() as session:
        row = _own_row(session, iss=iss, patient_id=patient_id, letter_id=letter_id)
        if row is None or row.status != "read":
            return False
        row.confirmed_json = json.dumps(confirmed, ensure_ascii=False)
        row.status, row.error, row.denial_id, row.practice = "confirmed", None, denial_id, practice
        return True


def refuse_letter(
    db: Database, *, iss: str, patient_id: str, letter_id: int, reason: str, confirmed: dict[str, Any] | None = None
) -> None:
    """Refuse a letter waiting for review, with the reason (the file and its reading are kept)."""
    with db.session() as session:
        row = _own_row(session, iss=iss, patient_id=patient_id, letter_id=letter_id)
        if row is None or row.status != "read":
            return
        if confirmed is not None:
            row.confirmed_json = json.dumps(confirmed, ensure_ascii=False)
        row.status, row.error = "refused", reason


def join_letter(db: Database, *, iss: str, patient_id: str, letter_id: int, denial_id: str) -> None:
    """Record that a confirmed letter is the payer's letter for another denial (``denial_id``), whose case it joins."""
    with db.session() as session:
        row = _own_row(session, iss=iss, patient_id=patient_id, letter_id=letter_id)
        if row is not None and row.status == "confirmed":
            row.denial_id = denial_id


def confirmed_letters(db: Database, *, iss: str, patient_id: str) -> list[StoredLetter]:
    """The patient's confirmed letters, newest first: each is a case."""
    return [s for s in letters_for(db, iss=iss, patient_id=patient_id) if s.status == "confirmed" and s.confirmed]
