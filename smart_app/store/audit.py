"""The audit log (table ``audit_events``): each access to a patient's data through the app, by whom and when, as
ids only. The practice manager reads it at ``GET /audit``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, exists, or_, select

from smart_app.store.db import Database
from smart_app.store.models import AuditEvent, DenialCase

ACTIONS: dict[str, str] = {
    "denials.opened": "Opened the patient's denials",
    "brief.opened": "Opened the brief",
    "brief.pdf": "Downloaded the brief PDF",
    "script.opened": "Opened the call script",
    "script.pdf": "Downloaded the call script PDF",
    "case.opened": "Opened the call and follow-up page",
    "draft.downloaded": "Downloaded a written request",
    "letter.opened": "Opened the letter of medical necessity",
    "letter.pdf": "Downloaded the letter PDF",
    "denial.entered": "Entered a denial by hand",
    "payer-letter.uploaded": "Uploaded the payer's letter",
    "payer-letter.opened": "Opened the payer's letter for review",
    "payer-letter.confirmed": "Reviewed the payer's letter (confirmed, or refused as another patient's)",
    "note.recorded": "Recorded a call note",
    "note.written": "Call note written to the chart",
    "worklist.csv": "Exported the worklist (CSV)",
    "worklist.fhir": "Exported the worklist (FHIR)",
    "audit.viewed": "Viewed the audit log",
}


@dataclass(frozen=True)
class AuditRow:
    """One audit event as the audit page shows it."""

    at: datetime
    user: str
    action: str
    patient_id: str | None
    resource: str | None

    @property
    def label(self) -> str:
        """The action in words."""
        return ACTIONS.get(self.action, self.action)


def record_event(
    db: Database, *, tenant: str, user: str | None, action: str, patient_id: str | None, resource: str | None
) -> None:
    """Add one event (an unknown ``action`` is a programming error)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action}")
    with db.session() as session:
        session.add(
            AuditEvent(
                at=datetime.now(UTC),
                tenant=tenant,
                user=(user or "unknown user")[:200],
                action=action,
                patient_id=patient_id[:128] if patient_id else None,
                resource=resource[:300] if resource else None,
            )
        )


def audit_rows(
    db: Database,
    tenant: str,
    *,
    organizations: Collection[str],
    user: str | None,
    patient: str | None = None,
    by_user: str | None = None,
    action: str | None = None,
    limit: int = 500,
) -> list[AuditRow]:
    """The newest events of the tenant about patients with a case of one of ``organizations`` (the practices the
    viewer belongs to), plus the practice-wide ones (no patient) made by ``user``; only those of ``patient``,
    ``by_user`` and ``action`` when given (filtered before the ``limit``); newest first."""
    query = (
        select(AuditEvent)
        .where(_visible(tenant, organizations, user))
        .where(
            *(
                column == value
                for column, value in (
                    (AuditEvent.patient_id, patient),
                    (AuditEvent.user, by_user),
                    (AuditEvent.action, action),
                )
                if value
            )
        )  # fmt: skip
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    with db.session() as session:
        return [
            AuditRow(e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC), e.user, e.action, e.patient_id, e.resource)
            for e in session.scalars(query)
        ]


def audit_users(db: Database, tenant: str, *, organizations: Collection[str], user: str | None) -> list[str]:
    """Everyone with an event the viewer may see (for the page's user filter)."""
    query = select(AuditEvent.user).where(_visible(tenant, organizations, user)).distinct()
    with db.session() as session:
        return sorted(session.scalars(query))


def _visible(tenant: str, organizations: Collection[str], user: str | None) -> ColumnElement[bool]:
    """Events about patients with a case of one of ``organizations``, and the practice-wide ones of ``user``."""
    of_my_practices = exists().where(
        DenialCase.tenant == AuditEvent.tenant,
        DenialCase.patient_id == AuditEvent.patient_id,
        DenialCase.organization.in_(sorted(organizations)),
    )
    mine = AuditEvent.patient_id.is_(None) & (AuditEvent.user == (user or ""))
    return (AuditEvent.tenant == tenant) & or_(of_my_practices, mine)
