"""Storage of the practice's cases (``denial_cases``): one row per denial per patient per tenant, written when the
app sees the denial (chart launch, hand entry, sync) and when the case moves (scheduling, call)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from smart_app.practice.worklist import WorklistRow
from smart_app.store.db import Database
from smart_app.store.models import DenialCase


def record_case(
    db: Database,
    *,
    tenant: str,
    patient_id: str,
    denial_id: str,
    summary: dict[str, Any],
    deadline: datetime | None,
    status: str,
    source: str,
) -> tuple[int, bool]:
    """Create the case, or refresh its snapshot (a value the new read lacks is kept), deadline and status; its
    first source and assignee stay. Two
    processes seeing the same denial at once still leave one row (the unique key decides, the loser updates).
    Returns the case id and whether it was created."""
    for _ in range(2):
        try:
            with db.session() as session:
                row = session.scalars(
                    select(DenialCase).where(
                        DenialCase.tenant == tenant,
                        DenialCase.patient_id == patient_id,
                        DenialCase.denial_id == denial_id,
                    )
                ).first()
                created = row is None
                if row is None:
                    row = DenialCase(tenant=tenant, patient_id=patient_id, denial_id=denial_id, source=source)
                    session.add(row)
                known = json.loads(row.summary_json) if row.summary_json else {}
                merged = {
                    **known,
                    **{k: v for k, v in summary.items() if v is not None},
                }  # a lighter read adds, never erases
                row.summary_json = json.dumps(merged, ensure_ascii=False)
                row.deadline = deadline.astimezone(UTC) if deadline else None  # SQLite keeps no offset: store UTC
                if row.status != "closed":
                    row.status = status
                session.flush()
                return int(row.id), created
        except IntegrityError:
            continue
    raise RuntimeError("the case could not be recorded")  # pragma: no cover - two lost races in a row


def _aware(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _row(case: DenialCase) -> WorklistRow:
    summary = json.loads(case.summary_json)
    return WorklistRow(
        case_id=int(case.id),
        patient_id=case.patient_id,
        denial_id=case.denial_id,
        patient_name=summary.get("patientName") or "",
        payer=summary.get("payer") or "",
        service=summary.get("service") or "",
        category=summary.get("category") or "",
        recommendation=summary.get("recommendation") or "",
        physician=summary.get("physician") or "",
        assignee=case.assignee or "",
        status=case.status,
        deadline=_aware(case.deadline),
    )


def cases_for(db: Database, tenant: str) -> list[WorklistRow]:
    """Every case of one tenant (the worklist's rows before ordering and filters)."""
    with db.session() as session:
        return [_row(c) for c in session.scalars(select(DenialCase).where(DenialCase.tenant == tenant))]


def case_row(db: Database, tenant: str, case_id: int) -> WorklistRow | None:
    """One case of the tenant, or None (another tenant's id reads as absent)."""
    with db.session() as session:
        case = session.get(DenialCase, case_id)
        return _row(case) if case is not None and case.tenant == tenant else None


def assign(db: Database, tenant: str, case_id: int, assignee: str | None) -> bool:
    """Set who works the case (empty clears it); False when the case is not the tenant's."""
    with db.session() as session:
        case = session.get(DenialCase, case_id)
        if case is None or case.tenant != tenant:
            return False
        case.assignee = (assignee or "").strip()[:200] or None
        return True


def close(db: Database, tenant: str, case_id: int) -> bool:
    """Mark the case closed (it stays closed when the denial is seen again); False when not the tenant's."""
    with db.session() as session:
        case = session.get(DenialCase, case_id)
        if case is None or case.tenant != tenant:
            return False
        case.status = "closed"
        return True


def close_superseded(db: Database, *, tenant: str, patient_id: str, claim: str, keep: str) -> int:
    """Close the patient's other cases that answer the same request (``claim``): the payer's newer answer is the
    one to work. Returns how many were closed."""
    closed = 0
    with db.session() as session:
        rows = session.scalars(
            select(DenialCase).where(
                DenialCase.tenant == tenant,
                DenialCase.patient_id == patient_id,
                DenialCase.denial_id != keep,
                DenialCase.status != "closed",
            )
        )
        for row in rows:
            if json.loads(row.summary_json).get("claim") == claim:
                row.status = "closed"
                closed += 1
    return closed
