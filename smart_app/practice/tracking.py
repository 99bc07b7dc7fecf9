"""Keep a denial's case row current: its snapshot for the worklist and its status from the app's own records
(scheduling log and call notes). Used at chart launches, on every case action and by ``p2p-brief sync``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from smart_app.outcome.calls import call_records, current_call
from smart_app.outcome.outbox import notes_for_denial
from smart_app.practice.rates import CaseOutcome
from smart_app.practice.worklist import case_status
from smart_app.store.case_records import CaseKey, events_for
from smart_app.store.cases import Organizations, cases_for, close_superseded, record_case
from smart_app.store.db import Database
from smart_app.store.models import DenialCase


def track_denial(
    db: Database,
    *,
    tenant: str,
    patient_id: str,
    denial: dict[str, Any],
    patient_name: str | None,
    source: str,
    organization_if_unknown: str | None = None,
) -> bool:
    """Record (or refresh) one denial (a brief-JSON denial) as a case; True when the case is new. The case's
    practice is the one the request names; ``organization_if_unknown`` is used only while none is on file."""
    denial_id = str(denial["id"])
    key = CaseKey(tenant, patient_id, denial_id)
    current = current_call(
        call_records(notes_for_denial(db, iss=tenant, patient_id=patient_id, claim_response_id=denial_id))
    )
    window = denial.get("p2pWindow") or {}
    deadline = window.get("deadline")
    status = case_status(
        events_for(db, key),
        current["record"].disposition if current else None,
        window_closed=bool(window.get("closed")),
    )
    summary = {
        "patientName": patient_name,
        "payer": (denial.get("payer") or {}).get("name"),
        "service": denial.get("serviceText"),
        "category": denial.get("category"),
        "recommendation": denial.get("recommendation"),
        "physician": (denial.get("orderingProvider") or {}).get("name"),
        "decidedOn": denial.get("decidedOn"),
        "claim": denial.get("claim"),
    }
    _, created = record_case(
        db,
        tenant=tenant,
        patient_id=patient_id,
        denial_id=denial_id,
        summary=summary,
        deadline=datetime.fromisoformat(deadline) if deadline else None,
        status=status,
        source=source,
        organization=(denial.get("orderingProvider") or {}).get("organization"),
        organization_if_unknown=organization_if_unknown,
    )
    if denial.get("claim"):  # a newer answer to the same request replaces the older one on the worklist
        close_superseded(db, tenant=tenant, patient_id=patient_id, claim=denial["claim"], keep=denial_id)
    return created


def case_outcomes(
    db: Database, tenant: str, *, zone: ZoneInfo, now: datetime, organizations: Organizations = None
) -> list[CaseOutcome]:
    """Every case of the tenant (and organisations, when given) as the rates read it: dates of denial, request
    and call, the disposition, the reviewer's specialty against the ordering physician's, whether the P2P window
    was missed, and how many of its notes are not yet in the chart."""
    outcomes = []
    for row in cases_for(db, tenant, organizations):
        with db.session() as session:
            case = session.get(DenialCase, row.case_id)
            summary = json.loads(case.summary_json) if case else {}
        events = events_for(db, CaseKey(tenant, row.patient_id, row.denial_id))
        notes = notes_for_denial(db, iss=tenant, patient_id=row.patient_id, claim_response_id=row.denial_id)
        current = current_call(call_records(notes))
        record = current["record"] if current else None
        requested_at = events[0].at if events else None
        decided = summary.get("decidedOn")
        missed = row.deadline is not None and (
            (requested_at is None and record is None and now > row.deadline)
            or (requested_at is not None and requested_at > row.deadline)
        )
        outcomes.append(
            CaseOutcome(
                payer=row.payer,
                service=row.service,
                physician=row.physician,
                decided_at=_instant(decided, zone),
                requested_at=requested_at,
                call_at=record.start(zone) if record else None,
                disposition=record.disposition if record else None,
                same_specialty=record.reviewer_same_specialty if record else None,
                missed=missed,
                notes_waiting=sum(1 for n in notes if n.status != "written"),
            )
        )
    return outcomes


def _instant(value: str | None, zone: ZoneInfo) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
