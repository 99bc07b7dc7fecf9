"""``p2p-brief sync`` through Bulk Data: one system-level ``$export`` per answer type (ClaimResponse, then PDex
ExplanationOfBenefit) of what changed after that type's last ``transactionTime``, read file by file, line by line,
in pages. Each type keeps its own export and mark, so one never moves the other's. After every page the export's
status URL, file and line are saved: a run that stops resumes inside the same export (or, once the server has
dropped it, starts a new one from the same mark). When every file is read, the mark moves to the export's
``transactionTime``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from smart_app.denials.assess import Clock
from smart_app.errors import FhirReadError, P2PError
from smart_app.fhir.bulk import ExportGone, export_lines, start_export, wait_for_manifest
from smart_app.fhir.client import FhirClient
from smart_app.practice import sync_pages
from smart_app.practice.sync_pages import SyncReport
from smart_app.store.db import Database
from smart_app.store.sync_progress import SyncProgress, load_progress, save_progress

log = logging.getLogger(__name__)
Recorder = Callable[[list[dict[str, Any]]], None]
KickOff = Callable[[list[str], str | None], str]


def _manifest(
    db: Database, client: FhirClient, iss: str, resource_type: str, progress: SyncProgress, kick_off: KickOff
) -> dict[str, Any]:
    """The manifest of the export being read, or of a new one started from the mark."""
    if progress.export:
        try:
            return wait_for_manifest(client, progress.export["status_url"])
        except ExportGone:
            log.info("sync %s: the saved export is gone; starting a new one", iss)
        except FhirReadError as exc:  # the job failed on the server: waiting on it again would fail every run
            log.info("sync %s: the saved export failed (%s); starting a new one", iss, type(exc).__name__)
    progress.export = {"status_url": kick_off([resource_type], progress.high_water), "file": 0, "lines": 0}
    save_progress(db, iss, progress, resource_type)
    return wait_for_manifest(client, progress.export["status_url"])


def sync_by_export(
    db: Database,
    client: FhirClient,
    iss: str,
    resource_type: str = "ClaimResponse",
    *,
    clock: Clock,
    practice_state: str | None,
    report: SyncReport | None = None,
    record: Recorder | None = None,
    kick_off: KickOff | None = None,
) -> SyncReport:
    """Read one export of ``resource_type`` to its end, recording each page's denials and saving the position
    after each page; counted in ``report`` (a new one when not given). ``kick_off`` starts the export (default: a
    system-level ``$export``) and ``record`` records a page (default: as the EHR's own, ``record_page``)."""
    progress = load_progress(db, iss, resource_type)
    report = report or SyncReport(via="export")
    report.marks[resource_type] = progress.high_water
    if record is None:
        record = partial(_record_page, db, client, iss, clock, practice_state, report)
    manifest = _manifest(
        db, client, iss, resource_type, progress, kick_off or (lambda types, since: start_export(client, types, since))
    )
    export = progress.export or {}
    files = [o for o in manifest["output"] if isinstance(o, dict) and o.get("type") == resource_type]
    requires_token = manifest.get("requiresAccessToken") is not False
    try:
        _read_files(db, client, iss, resource_type, progress, files, requires_token, record, report)
    except FhirReadError:
        # A file that cannot be read (expired, or the server failed): the next run starts a new export from the
        # same mark, so nothing is skipped; what was recorded stays recorded (one case per denial).
        progress.export = None
        save_progress(db, iss, progress, resource_type)
        raise
    status_url = export["status_url"]
    progress.high_water, progress.ids_at_mark, progress.export = str(manifest.get("transactionTime")), set(), None
    save_progress(db, iss, progress, resource_type)
    report.marks[resource_type] = progress.high_water
    if manifest.get("error"):
        log.warning("sync %s: the export reported %d error file(s)", iss, len(manifest["error"]))
    try:
        client.delete(status_url)  # the files are read: the server may drop them
    except P2PError:
        log.info("sync %s: the export could not be released", iss)
    return report


def _record_page(
    db: Database,
    client: FhirClient,
    iss: str,
    clock: Clock,
    practice_state: str | None,
    report: SyncReport,
    page: list[dict[str, Any]],
) -> None:
    sync_pages.record_page(db, client, iss, page, clock, practice_state, report)  # looked up now: tests replace it


def _read_files(
    db: Database,
    client: FhirClient,
    iss: str,
    resource_type: str,
    progress: SyncProgress,
    files: list[dict[str, Any]],
    requires_token: bool,
    record: Recorder,
    report: SyncReport,
) -> None:
    """Read the export's files of ``resource_type`` from the saved file and line, a page at a time."""
    export = progress.export or {}
    for index, output in enumerate(files):
        if index < export["file"]:
            continue
        skip = export["lines"] if index == export["file"] else 0
        page: list[dict[str, Any]] = []
        line = 0
        for resource in export_lines(client, str(output.get("url")), requires_token=requires_token):
            line += 1
            if line <= skip:
                continue
            if resource is None or resource.get("resourceType") != resource_type:
                report.unreadable += 1
                continue
            page.append(resource)
            if len(page) >= sync_pages.PAGE_SIZE:
                record(page)
                page = []
                export.update(file=index, lines=line)
                save_progress(db, iss, progress, resource_type)
        if page:
            record(page)
        export.update(file=index + 1, lines=0)
        save_progress(db, iss, progress, resource_type)
