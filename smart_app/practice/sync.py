"""``p2p-brief sync``: find new denials without anybody launching the app.

Reads the EHR's ClaimResponses changed since the last run (``_lastUpdated`` search, oldest first, page by page),
follows each page's references in one concurrent burst (Claim, Patient, Coverage, payer and provider), reads the
denials exactly as a chart launch would, and records each as a case. After every page the high-water mark is saved,
so a run that stops resumes where it left off; the case's unique key means a page read twice never duplicates a
denial. The client it is given authenticates as the app itself (SMART Backend Services).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from smart_app.brief.model import denial_summary
from smart_app.denials.assess import Clock
from smart_app.denials.pas import open_denials
from smart_app.fhir.chart import build_chart
from smart_app.fhir.client import FhirClient
from smart_app.fhir.facts import display_name
from smart_app.fhir.reader import missing_references
from smart_app.practice.tracking import track_denial
from smart_app.store.db import Database
from smart_app.store.models import SyncState

log = logging.getLogger(__name__)
SYNC_REFERENCES = ("Claim", "Patient", "Coverage", "Organization", "Practitioner", "PractitionerRole")
PAGE_SIZE = 200
ID_CHUNK = 50  # ids per ``_id`` search, to keep URLs short
SYNC_SCOPE = " ".join(
    f"system/{t}.rs"
    for t in ("ClaimResponse", "Claim", "Patient", "Coverage", "Organization", "Practitioner", "PractitionerRole")
)


@dataclass
class SyncReport:
    """What one run did: ClaimResponses read, denials found, cases created, and the new ones ready for a P2P."""

    pages: int = 0
    read: int = 0
    denials: int = 0
    new_cases: int = 0
    new_p2p_eligible: int = 0
    high_water: str | None = None


def _state(db: Database, iss: str) -> tuple[str | None, set[str]]:
    with db.session() as session:
        state = session.get(SyncState, iss)
        return (state.high_water, set(json.loads(state.ids_at_mark_json))) if state else (None, set())


def _save_state(db: Database, iss: str, high_water: str | None, ids_at_mark: set[str]) -> None:
    with db.session() as session:
        state = session.get(SyncState, iss) or SyncState(iss=iss)
        state.high_water, state.ids_at_mark_json = high_water, json.dumps(sorted(ids_at_mark))
        session.merge(state)


def _last_updated(resource: dict[str, Any]) -> str | None:
    meta = resource.get("meta")
    return meta.get("lastUpdated") if isinstance(meta, dict) else None


def _with_references(client: FhirClient, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page plus what it references, three levels deep (Claim -> Coverage -> payer; PractitionerRole ->
    Practitioner), each level one concurrent burst."""
    resources = list(page)
    for _ in range(3):
        missing = missing_references(resources, client.base_url, SYNC_REFERENCES)
        if not missing:
            break
        queries = {
            f"{t}:{i}": (t, {"_id": ",".join(chunk), "_count": str(ID_CHUNK)})
            for t, ids in missing.items()
            for i, chunk in enumerate(_chunks(sorted(ids), ID_CHUNK))
        }
        for result in client.search_all(queries).values():
            resources.extend(result.resources)
    return resources


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def sync(db: Database, client: FhirClient, *, clock: Clock, practice_state: str | None = None) -> SyncReport:
    """Read the ClaimResponses changed since the last run and record each open denial as a case."""
    iss = client.base_url.rstrip("/")
    mark, seen_at_mark = _state(db, iss)
    report = SyncReport(high_water=mark)
    params = {"_sort": "_lastUpdated", "_count": str(PAGE_SIZE)}
    if mark:
        params["_lastUpdated"] = f"ge{mark}"
    for page in client.search_pages("ClaimResponse", params):
        report.pages += 1
        fresh = [r for r in page if not (_last_updated(r) == mark and str(r.get("id")) in seen_at_mark)]
        report.read += len(fresh)
        if fresh:
            _record_page(db, client, iss, fresh, clock, practice_state, report)
        for resource in page:
            stamp = _last_updated(resource)
            if stamp and (mark is None or stamp > mark):
                mark, seen_at_mark = stamp, set()
            if stamp == mark:
                seen_at_mark.add(str(resource.get("id")))
        _save_state(db, iss, mark, seen_at_mark)
        report.high_water = mark
    log.info("sync %s: %d page(s), %d read, %d new case(s)", iss, report.pages, report.read, report.new_cases)
    return report


def _record_page(
    db: Database,
    client: FhirClient,
    iss: str,
    claim_responses: list[dict[str, Any]],
    clock: Clock,
    practice_state: str | None,
    report: SyncReport,
) -> None:
    chart = build_chart(_with_references(client, claim_responses))
    wanted = {str(r.get("id")) for r in claim_responses}
    current = [r for r in chart.of_type("ClaimResponse") if str(r.get("id")) in wanted]
    for denial in open_denials(current, chart.resolve):
        report.denials += 1
        claim_response = chart.index.get(f"ClaimResponse/{denial.claim_response_id}") or {}
        patient = chart.resolve(claim_response.get("patient")) or {}
        patient_id = str(
            patient.get("id") or str((claim_response.get("patient") or {}).get("reference", "")).split("/")[-1]
        )
        summary = denial_summary(denial, patient=patient, clock=clock, practice_state=practice_state)
        created = track_denial(
            db, tenant=iss, patient_id=patient_id, denial=summary, patient_name=display_name(patient), source="sync"
        )
        if created:
            report.new_cases += 1
            window = summary.get("p2pWindow") or {}
            if summary.get("recommendation") == "peer-to-peer" and not window.get("closed"):
                report.new_p2p_eligible += 1
