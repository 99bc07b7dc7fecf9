"""Where the result of a form submitted under a one-time key is (the other forms than the call note and hand
entry, which keep their key on their own rows)."""

from __future__ import annotations

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
