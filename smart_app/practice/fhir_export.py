"""The tracking log as FHIR: a ``collection`` Bundle with one Task per case (status, owner, patient, the denial
it answers, the P2P deadline) and the call notes as the DocumentReferences written to the chart."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from smart_app.practice.worklist import STATUSES, WorklistRow

CASE_SYSTEM = "urn:p2p-brief:case"
STATUS_SYSTEM = "urn:p2p-brief:case-status"
TASK_STATUS = {
    "new": "requested",
    "p2p-requested": "in-progress",
    "scheduled": "in-progress",
    "overturned": "completed",
    "upheld": "in-progress",  # the appeal is next
    "pending": "on-hold",  # waiting on documents
    "appeal-due": "in-progress",
    "closed": "completed",
}


def case_task(row: WorklistRow) -> dict[str, Any]:
    """One case as a FHIR R4 Task."""
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": f"p2p-case-{row.case_id}",
        "identifier": [{"system": CASE_SYSTEM, "value": str(row.case_id)}],
        "status": TASK_STATUS.get(row.status, "in-progress"),
        "businessStatus": {
            "coding": [{"system": STATUS_SYSTEM, "code": row.status}],
            "text": STATUSES.get(row.status, row.status),
        },
        "intent": "order",
        "code": {"text": "Peer-to-peer review of a prior-authorization denial"},
        "description": " — ".join(p for p in (row.payer, row.service) if p) or "Prior-authorization denial",
        "for": {"reference": f"Patient/{row.patient_id}"},
    }
    if not row.denial_id.startswith("hand-"):
        task["focus"] = {"reference": f"ClaimResponse/{row.denial_id}"}
    if row.assignee:
        task["owner"] = {"display": row.assignee}
    if row.deadline:
        task["restriction"] = {"period": {"end": row.deadline.isoformat(timespec="seconds")}}
    return task


def export_bundle(rows: Iterable[WorklistRow], notes: Iterable[dict[str, Any]], *, now: datetime) -> dict[str, Any]:
    """The Bundle: the cases' Tasks, then every call note the EHR accepted (with the id the EHR gave it)."""
    entries = [{"fullUrl": f"urn:p2p-brief:Task/p2p-case-{r.case_id}", "resource": case_task(r)} for r in rows]
    entries += [{"fullUrl": f"urn:p2p-brief:DocumentReference/{n['id']}", "resource": n} for n in notes]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now.isoformat(timespec="seconds"),
        "entry": entries,
    }
