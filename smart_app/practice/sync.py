"""``p2p-brief sync``: find new denials without anybody launching the app.

Two kinds of answer are read, each with its own saved position: PAS ClaimResponses, and Da Vinci PDex
ExplanationOfBenefits (``use = preauthorization``, filtered here: ``use`` is no base R4 search parameter). Where the
server offers Bulk Data, one system-level ``$export`` per type of what changed since that type's last run
(``sync_export``); otherwise a ``_lastUpdated`` search, oldest first, page by page. Either way each page's
references are followed in concurrent bursts, the denials read exactly as a chart launch reads them and recorded as
cases (``sync_pages``). The position is saved after every page, so a run that stops resumes where it left off; the
case's unique key means a page read twice never duplicates a denial. The client it is given authenticates as the
app itself (SMART Backend Services).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from smart_app.denials.assess import Clock
from smart_app.errors import FhirAuthError
from smart_app.fhir.bulk import offers_export
from smart_app.fhir.client import FhirClient
from smart_app.practice import sync_pages
from smart_app.practice.sync_export import sync_by_export
from smart_app.practice.sync_pages import ANSWER_TYPES, SyncReport
from smart_app.store.db import Database
from smart_app.store.sync_progress import load_progress, save_progress

log = logging.getLogger(__name__)
VIA = ("auto", "export", "search")
SYNC_SCOPE = " ".join(
    f"system/{t}.rs"
    for t in (
        "ClaimResponse",
        "ExplanationOfBenefit",
        "Claim",
        "Patient",
        "Coverage",
        "Organization",
        "Practitioner",
        "PractitionerRole",
    )  # fmt: skip
)


def _last_updated(resource: dict[str, Any]) -> str | None:
    meta = resource.get("meta")
    return meta.get("lastUpdated") if isinstance(meta, dict) else None


def sync(
    db: Database, client: FhirClient, *, clock: Clock, practice_state: str | None = None, via: str = "auto"
) -> SyncReport:
    """Read the ClaimResponses and PDex EOBs changed since the last run and record each open denial as a case;
    ``via`` is ``export`` (Bulk Data), ``search`` or ``auto`` (export where the CapabilityStatement offers it)."""
    if via not in VIA:
        raise ValueError(f"via must be one of {', '.join(VIA)}")
    iss = client.base_url.rstrip("/")
    by_export = via == "export" or (via == "auto" and offers_export(client.capabilities()))
    report = SyncReport(via="export" if by_export else "search")
    for resource_type in ANSWER_TYPES:
        try:
            if by_export:
                sync_by_export(db, client, iss, resource_type, clock=clock, practice_state=practice_state,
                               report=report)  # fmt: skip
            else:
                _sync_by_search(db, client, iss, resource_type, clock=clock, practice_state=practice_state,
                                report=report)  # fmt: skip
        except FhirAuthError as exc:
            if exc.status_code != 403 or resource_type == ANSWER_TYPES[0]:
                raise
            # A backend client registered before EOBs were read lacks system/ExplanationOfBenefit.rs: the
            # ClaimResponses are still synced, and the run says what it could not read.
            report.not_read[resource_type] = exc.message
            log.warning("sync %s: %s not read (refused: %s)", iss, resource_type, exc.message)
    log.info(
        "sync %s via %s: %d page(s), %d ClaimResponse(s) and %d EOB(s) read, %d new case(s)", iss, report.via,
        report.pages, report.read, report.eobs_read, report.new_cases,
    )  # fmt: skip
    return report


def _sync_by_search(
    db: Database,
    client: FhirClient,
    iss: str,
    resource_type: str,
    *,
    clock: Clock,
    practice_state: str | None,
    report: SyncReport,
) -> None:
    def record(page: list[dict[str, Any]]) -> None:
        sync_pages.record_page(db, client, iss, page, clock, practice_state, report)

    sync_by_search(db, client, iss, resource_type, record=record, report=report)


def sync_by_search(
    db: Database,
    client: FhirClient,
    iss: str,
    resource_type: str,
    *,
    record: Callable[[list[dict[str, Any]]], None],
    report: SyncReport,
) -> None:
    """Search ``resource_type`` changed since the saved mark (``_lastUpdated=ge``, oldest first), give each page
    to ``record``, and save the mark after each page; the ids at the mark are skipped the next time."""
    progress = load_progress(db, iss, resource_type)
    mark, seen_at_mark = progress.high_water, progress.ids_at_mark
    report.marks[resource_type] = mark
    params = {"_sort": "_lastUpdated", "_count": str(sync_pages.PAGE_SIZE)}
    if mark:
        params["_lastUpdated"] = f"ge{mark}"
    for page in client.search_pages(resource_type, params):
        fresh = [r for r in page if not (_last_updated(r) == mark and str(r.get("id")) in seen_at_mark)]
        if fresh:
            record(fresh)
        else:
            report.pages += 1
        for resource in page:
            stamp = _last_updated(resource)
            if stamp and (mark is None or stamp > mark):
                mark, seen_at_mark = stamp, set()
            if stamp == mark:
                seen_at_mark.add(str(resource.get("id")))
        progress.high_water, progress.ids_at_mark = mark, seen_at_mark
        save_progress(db, iss, progress, resource_type)
        report.marks[resource_type] = mark
