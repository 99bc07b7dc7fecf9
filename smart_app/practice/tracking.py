"""Keep a denial's case row current: its snapshot for the worklist and its status from the app's own records
(scheduling log and call notes). Used at chart launches, on every case action and by ``p2p-brief sync``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from smart_app.outcome.calls import call_records, current_call
from smart_app.outcome.outbox import notes_for_denials
from smart_app.outcome.scheduling import SchedulingEvent
from smart_app.practice.rates import CaseOutcome
from smart_app.practice.worklist import case_status
from smart_app.store.case_records import CaseKey, events_for_denials
from smart_app.store.cases import (
    CaseSnapshot,
    Organizations,
    cases_for,
    record_cases,
)
from smart_app.store.db import Database


@dataclass(frozen=True)
class Sighting:
    """One denial seen for one patient (a brief-JSON denial and the patient's name)."""

    patient_id: str
    denial: dict[str, Any]
    patient_name: str | None
    organization_if_unknown: str | None = None


def _snapshot(sighting: Sighting, notes: list[Any], events: list[SchedulingEvent]) -> CaseSnapshot:
    """The case row a sighting gives: snapshot for the worklist, deadline, status from the app's own records."""
    denial = sighting.denial
    current = current_call(call_records(notes))
    window = denial.get("p2pWindow") or {}
    deadline = window.get("deadline")
    status = case_status(
        events, current["record"].disposition if current else None, window_closed=bool(window.get("closed"))
    )
    summary = {
        "patientName": sighting.patient_name,
        "payer": (denial.get("payer") or {}).get("name"),
        "service": denial.get("serviceText"),
        "category": denial.get("category"),
        "recommendation": denial.get("recommendation"),
        "physician": (denial.get("orderingProvider") or {}).get("name"),
        "decidedOn": denial.get("decidedOn"),
        "claim": denial.get("claim"),
    }
    return CaseSnapshot(
        patient_id=sighting.patient_id,
        denial_id=str(denial["id"]),
        summary=summary,
        deadline=datetime.fromisoformat(deadline) if deadline else None,
        status=status,
        organization=(denial.get("orderingProvider") or {}).get("organization"),
        organization_if_unknown=sighting.organization_if_unknown,
    )


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
    sighting = Sighting(patient_id, denial, patient_name, organization_if_unknown)
    return track_denials(db, tenant=tenant, sightings=[sighting], source=source)[0]


def track_denials(db: Database, *, tenant: str, sightings: list[Sighting], source: str) -> list[bool]:
    """Record denials as cases (a page of them for ``p2p-brief sync``): their call notes and scheduling logs read
    in two queries, every case written in one transaction; whether each is new."""
    if not sightings:
        return []
    ids = {str(s.denial["id"]) for s in sightings}
    notes = notes_for_denials(db, iss=tenant, claim_response_ids=ids)
    events = events_for_denials(db, tenant, ids)
    cases = [
        _snapshot(
            s,
            notes.get((s.patient_id, str(s.denial["id"])), []),
            events.get(CaseKey(tenant, s.patient_id, str(s.denial["id"])), []),
        )
        for s in sightings
    ]
    return [created for _, created in record_cases(db, tenant=tenant, cases=cases, source=source)]


def case_outcomes(
    db: Database, tenant: str, *, zone: ZoneInfo, now: datetime, organizations: Organizations = None
) -> list[CaseOutcome]:
    """Every case of the tenant (and organisations, when given) as the rates read it: dates of denial, request
    and call, the disposition, the reviewer's specialty against the ordering physician's, whether the P2P window
    was missed, and how many of its notes are not yet in the chart."""
    rows = cases_for(db, tenant, organizations)
    ids = {row.denial_id for row in rows}
    all_notes = notes_for_denials(db, iss=tenant, claim_response_ids=ids)  # three queries, whatever the case count
    all_events = events_for_denials(db, tenant, ids)
    outcomes = []
    for row in rows:
        events = all_events.get(CaseKey(tenant, row.patient_id, row.denial_id), [])
        notes = all_notes.get((row.patient_id, row.denial_id), [])
        current = current_call(call_records(notes))
        record = current["record"] if current else None
        requested_at = events[0].at if events else None
        missed = row.deadline is not None and (
            (requested_at is None and record is None and now > row.deadline)
            or (requested_at is not None and requested_at > row.deadline)
        )
        outcomes.append(
            CaseOutcome(
                payer=row.payer,
                service=row.service,
                physician=row.physician,
                decided_at=_instant(row.decided_on, zone),
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
