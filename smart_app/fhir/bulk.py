"""A client for FHIR Bulk Data export (HL7 FHIR Bulk Data Access 2.0, system level), on top of ``FhirClient``.

Kick-off ``GET [base]/$export`` with ``Prefer: respond-async`` answers 202 and a status URL (``Content-Location``);
polling it answers 202 (``Retry-After``) until 200 with the manifest; each output file is NDJSON, read as a stream
line by line so a large export never sits in memory. A file that ``requiresAccessToken`` is fetched only from the
FHIR server's own origin (the token never leaves it); one that does not is fetched without the token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from smart_app.errors import FhirReadError
from smart_app.fhir.client import FhirClient, operation_outcome_text

BULK_DATA = "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"
EXPORT_OPERATION = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
DEFAULT_WAIT_SECONDS = 2.0
MAX_WAIT_SECONDS = 60.0


class ExportGone(FhirReadError):
    """The export's status URL is no longer known to the server (expired or cancelled): start a new one."""


def offers_export(capabilities: Mapping[str, Any]) -> bool:
    """Whether the CapabilityStatement declares Bulk Data (``instantiates``) or a system ``export`` operation."""
    if BULK_DATA in (capabilities.get("instantiates") or []):
        return True
    return any(
        isinstance(op, dict) and (op.get("name") == "export" or op.get("definition") == EXPORT_OPERATION)
        for rest in capabilities.get("rest") or []
        if isinstance(rest, dict)
        for op in rest.get("operation") or []
    )


def start_export(client: FhirClient, types: list[str], since: str | None) -> str:
    """Kick off a system-level export of ``types`` changed after ``since``; return its status URL."""
    return start_export_at(client, "$export", types, since)


def start_export_at(client: FhirClient, path: str, types: list[str], since: str | None, *, post: bool = False) -> str:
    """Kick off the export operation at ``path`` (``$export``, or a payer's ``Group/<id>/$davinci-data-export``,
    which PDex requires as a ``POST`` of Parameters) for ``types`` changed after ``since``; its status URL."""
    params = {"_type": ",".join(types), "_outputFormat": "application/fhir+ndjson"}
    if since:
        params["_since"] = since
    headers = {"Prefer": "respond-async"}
    if post:
        parameters = {"resourceType": "Parameters",
                      "parameter": [{"name": k, "valueString": v} for k, v in params.items()]}  # fmt: skip
        response = client.operation(path, parameters, headers=headers)
    else:
        response = client.get(path, params=params, headers=headers)
    location = response.headers.get("Content-Location")
    if response.status_code != 202 or not location:
        detail = operation_outcome_text(_json(response)) or f"HTTP {response.status_code}"
        raise FhirReadError(f"the bulk export could not be started: {detail}")
    return location


def wait_for_manifest(
    client: FhirClient, status_url: str, *, patience: float = 3600.0, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """Poll the status URL (as ``Retry-After`` asks, at most a minute apart) until the manifest arrives."""
    waited = 0.0
    while True:
        response = client.get(status_url, headers={"Accept": "application/json"})
        if response.status_code == 200:
            manifest = _json(response)
            if not isinstance(manifest, dict) or not isinstance(manifest.get("output"), list):
                raise FhirReadError("the bulk export's manifest is not a Bulk Data manifest")
            if not isinstance(manifest.get("transactionTime"), str):
                raise FhirReadError("the bulk export's manifest has no transactionTime")
            return manifest
        if response.status_code in (404, 410):
            raise ExportGone("the bulk export is no longer available on the server")
        if response.status_code != 202:
            detail = operation_outcome_text(_json(response)) or f"HTTP {response.status_code}"
            raise FhirReadError(f"the bulk export failed: {detail}")
        delay = _retry_after(response)
        if waited + delay > patience:
            raise FhirReadError(f"the bulk export was not ready after {patience:g} s")
        sleep(delay)
        waited += delay


def export_lines(client: FhirClient, url: str, *, requires_token: bool) -> Iterator[dict[str, Any] | None]:
    """Each line of one NDJSON output file as a resource, or None for a line that is not a JSON object."""
    if requires_token:
        response = client.get(url, headers={"Accept": "application/fhir+ndjson"}, stream=True)
    else:
        try:
            response = requests.get(url, headers={"Accept": "application/fhir+ndjson"}, stream=True,
                                    timeout=client.timeout)  # fmt: skip
        except requests.RequestException as exc:
            raise FhirReadError(f"an export file could not be read: {type(exc).__name__}") from exc
    with response:
        if response.status_code != 200:
            raise FhirReadError(f"an export file could not be read: HTTP {response.status_code}")
        for line in bounded_lines(response, max_line=client.max_response_bytes, line_seconds=client.request_deadline):
            if not line.strip():
                continue
            try:
                resource = json.loads(line)
            except (ValueError, RecursionError):  # not JSON, or nested past what the parser takes
                resource = None
            yield resource if isinstance(resource, dict) else None


def bounded_lines(response: requests.Response, *, max_line: int, line_seconds: float) -> Iterator[bytes]:
    """The lines of a streamed NDJSON body, each within ``max_line`` bytes and ``line_seconds`` of arriving: a file
    may be long and slow as a whole, but one resource that never ends, or drips in, is abandoned with an error
    (``requests``' ``iter_lines`` would hold a file with no newline whole in memory, and wait on it forever)."""
    pending = b""
    started = time.monotonic()
    try:
        for chunk in response.iter_content(chunk_size=64 * 1024):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if lines:
                started = time.monotonic()
            yield from lines
            if len(pending) > max_line:
                raise FhirReadError(f"an export file holds a line over {max_line // (1024 * 1024)} MB; abandoned")
            if pending and time.monotonic() - started > line_seconds:
                raise FhirReadError(f"an export file's line did not arrive within {line_seconds:g} s; abandoned")
    except requests.RequestException as exc:
        raise FhirReadError(f"an export file could not be read: {type(exc).__name__}") from exc
    if pending:
        yield pending


def _retry_after(response: requests.Response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", DEFAULT_WAIT_SECONDS)), 0.0), MAX_WAIT_SECONDS)
    except ValueError:  # an HTTP date: wait the default
        return DEFAULT_WAIT_SECONDS


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None
