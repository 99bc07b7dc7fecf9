"""Storage of the practice's cases (``denial_cases``): one row per denial per patient per tenant, written when the
app sees the denial (chart launch, hand entry, sync) and when the case moves (scheduling, call)."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from smart_app.practice.worklist import WorklistRow
from smart_app.store.db import Database
from smart_app.store.models import DenialCase


@dataclass(frozen=True)
class CaseSnapshot:
    """What one sighting of a denial says about its case."""

    patient_id: str
    denial_id: str
    summary: dict[str, Any]
    deadline: datetime | None
    status: str
    organization: str | None = None
    organization_if_unknown: str | None = None


def _apply(row: DenialCase, case: CaseSnapshot) -> None:
    """Refresh a row from a sighting: a value the new read lacks is kept, a closed case stays closed, and a guessed
    practice never replaces one on file."""
    known = json.loads(row.summary_json) if row.summary_json else {}
    merged = {**known, **{k: v for k, v in case.summary.items() if v is not None}}  # a lighter read adds, never erases
    row.summary_json = json.dumps(merged, ensure_ascii=False)
    row.deadline = case.deadline.astimezone(UTC) if case.deadline else None  # SQLite keeps no offset: store UTC
    row.organization = case.organization or row.organization or case.organization_if_unknown
    if row.status != "closed":
        row.status = case.status


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
    organization: str | None = None,
    organization_if_unknown: str | None = None,
) -> tuple[int, bool]:
    """Record one sighting (``record_cases`` for a page of one); the case id and whether it was created."""
    case = CaseSnapshot(patient_id, denial_id, summary, deadline, status, organization, organization_if_unknown)
    return record_cases(db, tenant=tenant, cases=[case], source=source)[0]


def record_cases(db: Database, *, tenant: str, cases: list[CaseSnapshot], source: str) -> list[tuple[int, bool]]:
    """Record sightings in one transaction, ending as if they were recorded one after another: a new case is
    created, a known one refreshed (``_apply``: a value a lighter read lacks is kept, a closed case stays closed, a
    guessed practice never replaces one on file; the first source and the assignee stay), and a newer answer to the
    same request (``claim``) closes the patient's older case. Two processes seeing one denial at once still leave
    one row: the unique key decides, and the loser's retry updates it. Each case's id, and whether it was new."""
    for _ in range(2):
        try:
            return _record_cases(db, tenant, cases, source)
        except IntegrityError:
            continue
    raise RuntimeError("the cases could not be recorded")  # pragma: no cover - two lost races in a row


def _record_cases(db: Database, tenant: str, cases: list[CaseSnapshot], source: str) -> list[tuple[int, bool]]:
    ids = sorted({c.denial_id for c in cases})
    patients = sorted({c.patient_id for c in cases})
    with db.session() as session:
        rows = {
            (r.patient_id, r.denial_id): r
            for r in session.scalars(
                select(DenialCase).where(DenialCase.tenant == tenant, DenialCase.denial_id.in_(ids))
            )
        }
        existing, created = set(rows), []
        for case in cases:
            row = rows.get((case.patient_id, case.denial_id))
            created.append(row is None)
            if row is None:
                row = DenialCase(tenant=tenant, patient_id=case.patient_id, denial_id=case.denial_id, source=source)
                session.add(row)
                rows[(case.patient_id, case.denial_id)] = row
            _apply(row, case)
        session.flush()
        open_rows = session.scalars(
            select(DenialCase).where(
                DenialCase.tenant == tenant, DenialCase.patient_id.in_(patients), DenialCase.status != "closed"
            )
        ).all()
        order = {(c.patient_id, c.denial_id): i for i, c in enumerate(cases)}
        for i, case in enumerate(cases):
            if not case.summary.get("claim"):
                continue
            for row in open_rows:
                key = (row.patient_id, row.denial_id)
                later = key not in existing and order.get(key, -1) > i  # not yet recorded at step i
                if (row.patient_id == case.patient_id and row.denial_id != case.denial_id and not later
                        and json.loads(row.summary_json).get("claim") == case.summary["claim"]):  # fmt: skip
                    row.status = "closed"
        return [(int(rows[(c.patient_id, c.denial_id)].id), new) for c, new in zip(cases, created, strict=True)]


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
        decided_on=summary.get("decidedOn"),
    )


Organizations = Collection[str] | None
"""The organisations a user may see (``Organization/<id>``); None only for the app's own jobs (sync, tracking)."""


def _visible(case: DenialCase | None, tenant: str, organizations: Organizations) -> TypeGuard[DenialCase]:
    if case is None or case.tenant != tenant:
        return False
    return organizations is None or case.organization in organizations


def cases_for(db: Database, tenant: str, organizations: Organizations = None) -> list[WorklistRow]:
    """Every case of one tenant (the worklist's rows before ordering and filters), only the given organisations'
    when ``organizations`` is given."""
    query = select(DenialCase).where(DenialCase.tenant == tenant)
    if organizations is not None:
        query = query.where(DenialCase.organization.in_(sorted(organizations)))
    with db.session() as session:
        return [_row(c) for c in session.scalars(query)]


def unattributed_count(db: Database, tenant: str) -> int:
    """Open cases of the tenant whose request names no practice organisation: on nobody's worklist."""
    query = select(func.count(DenialCase.id)).where(
        DenialCase.tenant == tenant, DenialCase.organization.is_(None), DenialCase.status != "closed"
    )
    with db.session() as session:
        return int(session.scalar(query) or 0)


def case_practices(db: Database, tenant: str, patient_id: str, denial_ids: Collection[str]) -> dict[str, str | None]:
    """The practice on file (``Organization/<id>``, or None when the request named none) of each of the patient's
    cases the app has recorded; a denial the app has not recorded yet is absent from the answer."""
    query = select(DenialCase.denial_id, DenialCase.organization).where(
        DenialCase.tenant == tenant, DenialCase.patient_id == patient_id, DenialCase.denial_id.in_(sorted(denial_ids))
    )
    with db.session() as session:
        return {denial_id: organization for denial_id, organization in session.execute(query)}


def case_decided_on(db: Database, tenant: str, patient_id: str, denial_id: str) -> str | None:
    """The decision date on file for one case of the patient (ISO, as its snapshot keeps it), or None."""
    query = select(DenialCase.summary_json).where(
        DenialCase.tenant == tenant, DenialCase.patient_id == patient_id, DenialCase.denial_id == denial_id
    )
    with db.session() as session:
        found = session.scalar(query)
    return json.loads(found).get("decidedOn") if found else None


def case_row(db: Database, tenant: str, case_id: int, organizations: Organizations = None) -> WorklistRow | None:
    """One case of the tenant and organisations, or None (another tenant's or practice's id reads as absent)."""
    with db.session() as session:
        case = session.get(DenialCase, case_id)
        return _row(case) if _visible(case, tenant, organizations) else None


def assign(db: Database, tenant: str, case_id: int, assignee: str | None, organizations: Organizations = None) -> bool:
    """Set who works the case (empty clears it); False when the case is not the tenant's (or organisations')."""
    with db.session() as session:
        case = session.get(DenialCase, case_id)
        if not _visible(case, tenant, organizations):
            return False
        case.assignee = (assignee or "").strip()[:200] or None
        return True


def close(db: Database, tenant: str, case_id: int, organizations: Organizations = None) -> bool:
    """Mark the case closed (it stays closed when the denial is seen again); False when not visible."""
    with db.session() as session:
        case = session.get(DenialCase, case_id)
        if not _visible(case, tenant, organizations):
            return False
        case.status = "closed"
        return True


def close_superseded(db: Database, tenant: str, keys: Collection[tuple[str, str]]) -> int:
    """Close the open cases named by (patient id, denial id): a request's PDex EOB case once its ClaimResponse is a
    case of its own, so one request is worked once. How many were closed."""
    if not keys:
        return 0
    wanted = set(keys)
    with db.session() as session:
        rows = session.scalars(
            select(DenialCase).where(
                DenialCase.tenant == tenant,
                DenialCase.denial_id.in_(sorted({d for _, d in wanted})),
                DenialCase.status != "closed",
            )
        ).all()
        closing = [r for r in rows if (r.patient_id, r.denial_id) in wanted]
        for row in closing:
            row.status = "closed"
        return len(closing)
