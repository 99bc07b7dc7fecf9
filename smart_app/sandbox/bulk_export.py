"""The demo EHR's Bulk Data export (HL7 FHIR Bulk Data Access 2.0, system level): ``GET /fhir/$export`` with
``Prefer: respond-async`` starts a job and answers 202 with its status URL in ``Content-Location``; the status
URL answers 202 (in progress, ``Retry-After``) and then 200 with the manifest (``transactionTime``, ``output``
files of NDJSON, ``requiresAccessToken``); ``DELETE`` on it cancels the job. ``_since`` keeps resources whose
``meta.lastUpdated`` is later than it; ``_type`` names the types. Files are read with a token of the client that
started the job, and hold only what that token's scopes allow.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, request

from .ehr_state import current_ehr
from .fhir_api import serve_as_fhir
from .outcomes import error_response, fhir_response
from .search import last_updated, parse_instant

bp = Blueprint("ehr_bulk", __name__, url_prefix="/fhir")
bp.before_request(serve_as_fhir)
NDJSON_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
FILE_LINES = 1000  # resources per output file: a large type is split over several files
RETRY_AFTER_SECONDS = 1


@dataclass
class ExportJob:
    """One export: who asked, when it was cut, and its files (type, NDJSON text)."""

    client_id: str
    request_url: str
    transaction_time: str
    files: list[tuple[str, str, int]]
    polls_left: int
    lock: threading.Lock = field(default_factory=threading.Lock)


def _jobs() -> dict[str, ExportJob]:
    return current_ehr().exports


def _since(value: str | None) -> tuple[datetime | None, str | None]:
    if not value:
        return None, None
    moment = parse_instant(value)
    return (moment, None) if moment else (None, f"_since is not a FHIR instant with a time zone: {value[:40]}")


@bp.get("/$export")
def kick_off() -> Response:
    """Start a system-level export of the requested types changed since ``_since``."""
    checked = checked_request(request.args)
    return checked if isinstance(checked, Response) else start_job(*checked)


def checked_request(params: Mapping[str, str]) -> Response | tuple[list[str], datetime | None]:
    """The types and ``_since`` an export request asks for, or the error answer when it cannot be served."""
    ehr, access, token = current_ehr(), g.ehr_access, g.ehr_token
    if "respond-async" not in request.headers.get("Prefer", ""):
        return error_response(400, "A bulk export needs the header Prefer: respond-async")
    if token.patient:
        return error_response(403, "A system-level export needs a token without a patient context")
    output_format = params.get("_outputFormat")
    if output_format and output_format not in NDJSON_FORMATS:
        return error_response(400, f"Unsupported _outputFormat {output_format[:60]}: only NDJSON is offered")
    since, problem = _since(params.get("_since"))
    if problem:
        return error_response(400, problem)
    served = ehr.authorization_server.served_types()
    wanted = [t for t in (params.get("_type") or "").split(",") if t] or [t for t in served if access.may("r", t)]
    unknown = [t for t in wanted if t not in served]
    if unknown:
        return error_response(400, f"Unknown resource type in _type: {', '.join(unknown)[:120]}")
    refused = [t for t in wanted if not access.may("r", t)]
    if refused:
        return error_response(403, f"The token's scopes do not allow exporting {', '.join(refused)[:120]}")
    return wanted, since


def start_job(
    wanted: list[str], since: datetime | None, keep: Callable[[dict[str, Any]], bool] | None = None
) -> Response:
    """Cut an export of the ``wanted`` types (changed after ``since``; only what ``keep`` keeps, e.g. a Group's
    members' records) for the requesting client, and answer 202 with its status URL."""
    ehr, access, token = current_ehr(), g.ehr_access, g.ehr_token
    now = datetime.now(UTC)
    files: list[tuple[str, str, int]] = []
    for resource_type in wanted:
        kept = [
            r
            for r in ehr.store.all(resource_type)
            if access.permits("r", r)
            and (since is None or ((last_updated(r) or now) > since))
            and (keep is None or keep(r))
        ]
        for start in range(0, len(kept), FILE_LINES):
            chunk = kept[start : start + FILE_LINES]
            files.append(
                (resource_type, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in chunk), len(chunk))
            )
    job_id = secrets.token_urlsafe(12)
    _jobs()[job_id] = ExportJob(token.client_id, request.url, now.isoformat(timespec="milliseconds"), files, 1)
    return fhir_response(None, 202, {"Content-Location": f"{ehr.settings.fhir_base}/bulk-status/{job_id}"})


@bp.route("/bulk-status/<job_id>", methods=["GET", "DELETE"])
def status(job_id: str) -> Response:
    """The job's state: 202 while in progress, then the manifest; DELETE cancels it."""
    ehr, token = current_ehr(), g.ehr_token
    job = _jobs().get(job_id)
    if job is None or job.client_id != token.client_id:
        return error_response(404, "No such export (it may have expired or been cancelled)")
    if request.method == "DELETE":
        _jobs().pop(job_id, None)
        return fhir_response(None, 202)
    with job.lock:
        if job.polls_left > 0:
            job.polls_left -= 1
            return fhir_response(None, 202, {"X-Progress": "collecting", "Retry-After": str(RETRY_AFTER_SECONDS)})
    manifest: dict[str, Any] = {
        "transactionTime": job.transaction_time,
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": kind, "url": f"{ehr.settings.fhir_base}/bulk-files/{job_id}/{n}", "count": count}
            for n, (kind, _, count) in enumerate(job.files)
        ],
        "error": [],
    }
    response = Response(json.dumps(manifest), status=200, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/bulk-files/<job_id>/<int:number>")
def output_file(job_id: str, number: int) -> Response:
    """One NDJSON output file, for the client that started the export."""
    job = _jobs().get(job_id)
    if job is None or job.client_id != g.ehr_token.client_id or not 0 <= number < len(job.files):
        return error_response(404, "No such export file")
    response = Response(job.files[number][1], status=200, mimetype="application/fhir+ndjson")
    response.headers["Cache-Control"] = "no-store"
    return response
