"""Keep a denial's case row current: its snapshot for the worklist and its status from the app's own records
(scheduling log and call notes). Used at chart launches, on every case action and by ``p2p-brief sync``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from smart_app.outcome.calls import call_records, current_call
from smart_app.outcome.outbox import notes_for_denial
from smart_app.practice.worklist import case_status
from smart_app.store.case_records import CaseKey, events_for
from smart_app.store.cases import record_case
from smart_app.store.db import Database


def track_denial(
    db: Database,
    *,
    tenant: str,
    patient_id: str,
    denial: dict[str, Any],
    patient_name: str | None,
    source: str,
) -> bool:
    """Record (or refresh) one denial (a brief-JSON denial) as a case; True when the case is new."""
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
    )
    return created
