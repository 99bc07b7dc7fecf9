"""The demo EHR's FHIR R4 REST API: read, search with paging, and DocumentReference create, scope-enforced."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, g, request

from . import search
from .capability import capability_statement
from .ehr_state import DemoEhr, current_ehr
from .oauth_models import IssuedToken
from .outcomes import error_response, fhir_response, issue, operation_outcome
from .scopes import Access
from .store import PreconditionFailed
from .write_rules import WriteContext

log = logging.getLogger("smart_app.sandbox")
bp = Blueprint("ehr_fhir", __name__, url_prefix="/fhir")
WRITABLE_TYPES = ("DocumentReference",)


@bp.before_request
def serve_as_fhir() -> Response | None:
    """Count the request, add the configured latency, and authenticate the bearer token (not for metadata)."""
    ehr = current_ehr()
    ehr.count_request()
    if ehr.settings.latency_ms:
        time.sleep(ehr.settings.latency_ms / 1000)
    if ehr.outage.status is not None:
        return error_response(ehr.outage.status, "The FHIR server is down (injected outage)")
    resource_type = (request.view_args or {}).get("resource_type")
    if resource_type and request.method == "GET" and ehr.read_delays.delay_for(resource_type):
        time.sleep(ehr.read_delays.delay_for(resource_type))
    if request.endpoint == "ehr_fhir.metadata":
        return None
    try:
        token: IssuedToken = ehr.resource_protector.acquire_token()
    except OAuth2Error as error:
        challenge = {k: v for k, v in error.get_headers() if k == "WWW-Authenticate"}
        return error_response(error.status_code, error.description or "A valid bearer token is required", challenge)
    g.ehr_token = token
    g.ehr_access = Access.from_scope(token.scope, patient=token.patient, read_only=token.read_only)
    return None


@bp.get("/metadata")
def metadata() -> Response:
    """The CapabilityStatement (public, as SMART requires)."""
    ehr = current_ehr()
    return fhir_response(capability_statement(ehr.settings, ehr.authorization_server.served_types(), ehr.write_profile))


@bp.get("/<resource_type>")
def search_type(resource_type: str) -> Response:
    """Search one type; results outside the token's scopes are left out, as real servers do."""
    ehr, access = current_ehr(), g.ehr_access
    refused = _refuse_unknown_type(ehr, resource_type) or _refuse_unless(access.may("s", resource_type), "search")
    if refused:
        return refused
    query = search.parse_query(resource_type, request.args.items(multi=True))
    query.criteria = ehr.search_faults.criteria(query.criteria)
    broken = ehr.search_faults.ignore_patient  # answers every patient's records, whatever the token's patient
    found = search.sort_found(
        query,
        [
            r
            for r in ehr.store.find(resource_type, query.criteria, copies=False)
            if access.permits("s", r) or (broken and access.may("s", resource_type))
        ],
    )
    return fhir_response(search.searchset(query, found, ehr.settings.base_for(request.root_url)))


@bp.get("/<resource_type>/<resource_id>")
def read(resource_type: str, resource_id: str) -> Response:
    """Read one resource."""
    return _read(resource_type, resource_id, version=None)


@bp.get("/<resource_type>/<resource_id>/_history/<version>")
def vread(resource_type: str, resource_id: str, version: str) -> Response:
    """Read one version (the store keeps only the current one)."""
    return _read(resource_type, resource_id, version=version)


def _read(resource_type: str, resource_id: str, version: str | None) -> Response:
    ehr, access = current_ehr(), g.ehr_access
    refused = _refuse_unknown_type(ehr, resource_type) or _refuse_unless(access.may("r", resource_type), "read")
    if refused:
        return refused
    resource = ehr.store.get(resource_type, resource_id)
    if resource is None or (version is not None and version != _version(resource)):
        return error_response(404, f"{resource_type}/{resource_id} is not known")
    if not access.permits("r", resource):
        return error_response(403, f"{resource_type}/{resource_id} is outside the token's scopes")
    return fhir_response(resource, headers={"ETag": f'W/"{_version(resource)}"'})


@bp.post("/<resource_type>")
def create(resource_type: str) -> Response:
    """Create a DocumentReference, validated by the EHR profile, conditional via If-None-Exist."""
    ehr, access, token = current_ehr(), g.ehr_access, g.ehr_token
    refused = _refuse_unknown_type(ehr, resource_type)
    if refused:
        return refused
    if resource_type not in WRITABLE_TYPES:
        return error_response(405, f"This EHR does not accept {resource_type} creates")
    if not access.may("c", resource_type):
        return error_response(403, f"The token's scopes do not allow creating {resource_type}")
    fault = ehr.faults.take()
    if fault is not None and not fault.after_store:
        retry = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return error_response(fault.status, "The EHR could not take the write (injected failure)", retry)
    document = _json_body()
    if document is None:
        return error_response(400, "The request body is not a JSON object")
    issues = ehr.write_profile.validate(document, WriteContext(ehr.store, _user_reference(token)))
    if issues:
        outcome = operation_outcome(issue(i.text, code=i.code, expression=i.expression) for i in issues)
        return fhir_response(outcome, 422)
    if not access.permits("c", document):
        return error_response(403, "The document is outside the token's patient or scope filter")
    stored = _store_document(ehr, ehr.write_profile.prepare(document))
    if fault is not None:  # stored, but the answer is "lost"
        return error_response(fault.status, "The EHR's answer to this write was lost (injected failure)")
    return stored


def _store_document(ehr: DemoEhr, document: dict[str, Any]) -> Response:
    criteria = None
    header = request.headers.get("If-None-Exist")
    if header and ehr.write_profile.conditional_create:
        criteria = search.parse_query(document["resourceType"], parse_qsl(header)).criteria
        if not criteria:
            return error_response(400, "If-None-Exist names no supported search parameter")
    try:
        stored, created = ehr.store.create(document, if_none_exist=criteria)
    except PreconditionFailed:
        return error_response(412, "If-None-Exist matches more than one resource")
    log.info("%s %s/%s", "created" if created else "matched existing", stored["resourceType"], stored["id"])
    return _write_response(ehr, stored, created)


def _write_response(ehr: DemoEhr, stored: dict[str, Any], created: bool) -> Response:
    base = ehr.settings.base_for(request.root_url)
    location = f"{base}/{stored['resourceType']}/{stored['id']}/_history/{_version(stored)}"
    headers = {"Location": location, "ETag": f'W/"{_version(stored)}"'}
    if isinstance(stored.get("meta"), dict) and stored["meta"].get("lastUpdated"):
        headers["Last-Modified"] = str(stored["meta"]["lastUpdated"])
    prefer = request.headers.get("Prefer", "").replace(" ", "")
    profile = ehr.write_profile
    representation = "return=representation" in prefer and profile.honours_prefer_representation
    if "return=minimal" in prefer or (created and profile.empty_create_body and not representation):
        return fhir_response(None, 201 if created else 200, headers)
    if "return=OperationOutcome" in prefer:
        text = "Created" if created else "A matching resource already exists"
        return fhir_response(
            operation_outcome([issue(text, code="informational", severity="information")]),
            201 if created else 200,
            headers,
        )
    return fhir_response(stored, 201 if created else 200, headers)


@bp.route("/<resource_type>/<resource_id>", methods=["PUT", "PATCH", "DELETE"])
def not_supported(resource_type: str, resource_id: str) -> Response:
    """Updates and deletes are not offered."""
    return error_response(405, f"{request.method} is not supported by this EHR")


def _refuse_unknown_type(ehr: DemoEhr, resource_type: str) -> Response | None:
    if resource_type not in ehr.authorization_server.served_types():
        return error_response(404, f"Unknown resource type {resource_type}")
    return None


def _refuse_unless(allowed: bool, interaction: str) -> Response | None:
    return None if allowed else error_response(403, f"The token's scopes do not allow {interaction} on this type")


def _json_body() -> dict[str, Any] | None:
    try:
        body = json.loads(request.get_data(as_text=True))
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _user_reference(token: IssuedToken) -> str | None:
    return token.user.reference if token.user else None


def _version(resource: dict[str, Any]) -> str:
    meta = resource.get("meta")
    return str(meta.get("versionId") or "1") if isinstance(meta, dict) else "1"
