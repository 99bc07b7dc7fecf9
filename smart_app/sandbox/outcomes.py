"""FHIR JSON responses: resources with the FHIR media type, and OperationOutcome errors."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Response

FHIR_JSON = "application/fhir+json"

#: HTTP status -> OperationOutcome issue code for errors raised by the API itself.
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    412: "duplicate",
    422: "processing",
    429: "throttled",
}


def fhir_response(body: dict[str, Any] | None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A FHIR JSON response (an empty body when ``body`` is None)."""
    text = "" if body is None else json.dumps(body, separators=(",", ":"))
    response = Response(text, status=status, headers=headers or {})
    if body is not None:
        response.mimetype = FHIR_JSON
    response.headers["Cache-Control"] = "no-store"
    return response


def operation_outcome(issues: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """An OperationOutcome resource from issue dicts."""
    return {"resourceType": "OperationOutcome", "issue": list(issues)}


def issue(text: str, *, code: str = "processing", expression: str | None = None, severity: str = "error") -> dict:
    """One OperationOutcome issue with ``details.text`` and, when given, the FHIRPath ``expression``."""
    item: dict[str, Any] = {
        "severity": severity,
        "code": code,
        "details": {"text": text},
        "diagnostics": text,
    }
    if expression:
        item["expression"] = [expression]
    return item


def error_response(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    """An error answered as an OperationOutcome with one issue."""
    outcome = operation_outcome([issue(text, code=ISSUE_CODES.get(status, "exception"))])
    return fhir_response(outcome, status, headers)
