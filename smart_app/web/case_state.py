"""What the app knows of one case, read from its own records: the call notes with their records, the current
call, and the case's row on the practice worklist (kept current whenever the case moves)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from flask import current_app

from smart_app.outcome.call_note import CallRecord, record_from_form
from smart_app.outcome.outbox import notes_for_denial
from smart_app.practice.worklist import case_status
from smart_app.smart.launch import LaunchContext
from smart_app.store.case_records import CaseKey, events_for
from smart_app.store.cases import record_case
from smart_app.store.models import CallNote


def case_key(context: LaunchContext, denial_id: str) -> CaseKey:
    """The case of one denial of the launched patient."""
    return CaseKey(context.iss, context.patient or "", denial_id)


def database() -> Any:
    return current_app.extensions["p2p_db"]


def call_records(notes: list[CallNote]) -> list[dict[str, Any]]:
    """Each note with its record read back, newest first, and which note (if any) replaced it."""
    replaced_by = {n.replaces_note_id: n for n in notes if n.replaces_note_id}
    rows = []
    for note in notes:
        try:
            record: CallRecord | None = record_from_form(_json(note.form_json))
        except ValueError:
            record = None
        rows.append({"note": note, "record": record, "replaced_by": replaced_by.get(note.id)})
    return rows


def _json(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def calls(context: LaunchContext, denial_id: str) -> list[dict[str, Any]]:
    """This denial's call notes for the launched patient, each with its record read back."""
    key = case_key(context, denial_id)
    return call_records(
        notes_for_denial(database(), iss=key.iss, patient_id=key.patient_id, claim_response_id=denial_id)
    )


def current_call(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest call record that no correction has replaced."""
    return next((r for r in rows if r["record"] is not None and r["replaced_by"] is None), None)


def held_on(current: dict[str, Any] | None) -> date | None:
    """The date of the call, when one took place (a call that was not reached did not)."""
    if current is None or current["record"].disposition == "not-reached":
        return None
    return current["record"].call_date


def track_case(context: LaunchContext, denial: dict[str, Any], *, patient_name: str | None, source: str) -> None:
    """Record (or refresh) the denial's row on the worklist with its current status."""
    denial_id = str(denial["id"])
    key = case_key(context, denial_id)
    current = current_call(calls(context, denial_id))
    window = denial.get("p2pWindow") or {}
    deadline = window.get("deadline")
    status = case_status(
        events_for(database(), key),
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
    record_case(
        database(),
        tenant=key.iss,
        patient_id=key.patient_id,
        denial_id=denial_id,
        summary=summary,
        deadline=datetime.fromisoformat(deadline) if deadline else None,
        status=status,
        source=source,
    )
