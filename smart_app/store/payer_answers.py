"""Storage of the decisions read from a payer's own API (table ``payer_answers``): per EHR chart and denial id, the
payer's answer and the records it references, as sent. Holds PHI at rest, like the cases and notes."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from smart_app.store.db import Database
from smart_app.store.models import PayerAnswer


def save_payer_answer(
    db: Database, *, tenant: str, patient_id: str, denial_id: str, payer: str, resources: list[dict[str, Any]]
) -> None:
    """Keep (or replace with the newer read) the payer's answer for one denial of one chart. Two runs keeping it at
    once (an overlapping ``sync --payer``) keep one row: the one that finds the other's insert updates it."""
    try:
        _save(db, tenant, patient_id, denial_id, payer, resources)
    except IntegrityError:
        _save(db, tenant, patient_id, denial_id, payer, resources)  # the row another run just inserted


def _save(
    db: Database, tenant: str, patient_id: str, denial_id: str, payer: str, resources: list[dict[str, Any]]
) -> None:
    with db.session() as session:
        row = session.scalars(
            select(PayerAnswer).where(
                PayerAnswer.tenant == tenant, PayerAnswer.patient_id == patient_id, PayerAnswer.denial_id == denial_id
            )
        ).first()
        if row is None:
            row = PayerAnswer(tenant=tenant, patient_id=patient_id, denial_id=denial_id)
            session.add(row)
        row.payer = payer
        row.resources_json = json.dumps(resources, ensure_ascii=False)


def payer_answers_for(db: Database, *, tenant: str, patient_id: str) -> dict[str, list[dict[str, Any]]]:
    """The payer answers kept for one chart, by denial id."""
    with db.session() as session:
        rows = session.scalars(
            select(PayerAnswer).where(PayerAnswer.tenant == tenant, PayerAnswer.patient_id == patient_id)
        ).all()
        return {row.denial_id: json.loads(row.resources_json) for row in rows}
