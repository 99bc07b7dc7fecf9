"""Forms submitted under a one-time key store once: the rows that keep their key themselves (hand entry, letters)
through ``store_once``; the other forms' results (where each led) in ``form_submissions``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from smart_app.store.db import Database
from smart_app.store.models import FormSubmission


def earlier_result(db: Database, *, form_key: str, tenant: str, patient_id: str) -> str | None:
    """The path the form submitted under ``form_key`` led to, for this EHR and patient; None when it is new."""
    with db.session() as session:
        row = session.get(FormSubmission, form_key)
        if row is None or row.tenant != tenant or row.patient_id != patient_id:
            return None
        return row.result_path


def remember_result(db: Database, *, form_key: str, tenant: str, patient_id: str, result_path: str) -> None:
    """Keep where the form's result is (the first one wins when two submits race)."""
    try:
        with db.session() as session:
            session.add(FormSubmission(form_key=form_key, tenant=tenant, patient_id=patient_id,
                                       result_path=result_path))  # fmt: skip
    except IntegrityError:
        pass


def store_once(db: Database, make_row: Callable[[], Any], earlier: Callable[[], int | None]) -> tuple[int, bool]:
    """Insert the row ``make_row`` builds (one with an integer ``id`` and a unique form key) unless ``earlier`` finds
    the row its form already stored: (the new id, True), else (the earlier id, False) — also when a second submit of
    the same form raced this one and stored it first."""
    found = earlier()
    if found is not None:
        return found, False
    try:
        with db.session() as session:
            row = make_row()
            session.add(row)
            session.flush()
            return int(row.id), True
    except IntegrityError:
        raced = earlier()
        if raced is None:
            raise
        return raced, False
