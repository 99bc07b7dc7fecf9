"""The demo payer's own API (the sandbox started with a payer's data, ``EhrSettings.payer_api``):

- Da Vinci PDex Provider Access: ``POST /fhir/Group/<id>/$davinci-data-export`` with ``Prefer: respond-async`` and
  a Parameters body (``_type``, ``_since``), cut as the Bulk Data export is, restricted to the Group's members'
  records; then the same status URL and NDJSON files (``bulk_export``).
- Da Vinci PAS: ``POST /fhir/Claim/$inquire`` with an inquiry Bundle whose first entry is the Claim: the answer is a
  Bundle of the ClaimResponse to that request (by the Claim's id or identifier) and what it references, or 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request

from smart_app.fhir.chart import record_owner

from .bulk_export import checked_request, start_job
from .ehr_state import current_ehr
from .fhir_api import serve_as_fhir
from .outcomes import error_response, fhir_response

bp = Blueprint("payer_api", __name__, url_prefix="/fhir")
bp.before_request(serve_as_fhir)
FOLLOWED = ("patient", "insurer", "requestor")


@bp.post("/Group/<group_id>/$davinci-data-export")
def data_export(group_id: str) -> Response:
    """Start an export of the Group's members' records of the asked types."""
    group = current_ehr().store.get("Group", group_id)
    if group is None:
        return error_response(404, f"No Group {group_id[:64]}")
    members = {str((m.get("entity") or {}).get("reference")) for m in group.get("member") or [] if isinstance(m, dict)}
    checked = checked_request(_parameters(request.get_json(silent=True)))
    if isinstance(checked, Response):
        return checked
    wanted, since = checked
    return start_job(wanted, since, keep=lambda r: record_owner(r) in members)


def _parameters(body: Any) -> dict[str, str]:
    """A Parameters body's string values by name (the query string's, when the body has none)."""
    found = dict(request.args)
    for parameter in (body or {}).get("parameter") or [] if isinstance(body, dict) else []:
        if isinstance(parameter, dict) and parameter.get("name") and "valueString" in parameter:
            found[str(parameter["name"])] = str(parameter["valueString"])
    return found


@bp.post("/Claim/$inquire")
def inquire() -> Response:
    """The payer's answer to one request it holds, as a PAS inquiry response Bundle."""
    store, access = current_ehr().store, g.ehr_access
    if not access.may("r", "ClaimResponse"):
        return error_response(403, "The token's scopes do not allow reading ClaimResponse")
    body = request.get_json(silent=True)
    entries = body.get("entry") if isinstance(body, dict) and body.get("resourceType") == "Bundle" else None
    claim = ((entries or [{}])[0] or {}).get("resource") if entries else None
    if not isinstance(claim, dict) or claim.get("resourceType") != "Claim":
        return error_response(400, "An inquiry is a Bundle whose first entry is the Claim")
    wanted = {f"Claim/{claim.get('id')}"} | {
        str(i.get("value")) for i in claim.get("identifier") or [] if isinstance(i, dict) and i.get("value")
    }
    answers = [r for r in store.all("ClaimResponse") if _answers(r, wanted)]
    if not answers:
        return error_response(404, "The payer holds no decision for this request")
    found = [answers[-1]] + _referenced(answers[-1])
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"{current_ehr().settings.fhir_base}/{r['resourceType']}/{r['id']}",
                         "resource": r} for r in found]}  # fmt: skip
    return fhir_response(bundle)


def _answers(claim_response: dict[str, Any], wanted: set[str]) -> bool:
    request_ref = claim_response.get("request") or {}
    identifier = (request_ref.get("identifier") or {}).get("value")
    return str(request_ref.get("reference")) in wanted or (identifier is not None and str(identifier) in wanted)


def _referenced(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The patient, payer and requestor the answer names, and its Coverage."""
    store = current_ehr().store
    refs = [str((resource.get(k) or {}).get("reference") or "") for k in FOLLOWED]
    refs += [str((i.get("coverage") or {}).get("reference") or "") for i in resource.get("insurance") or []]
    found = []
    for ref in refs:
        kind, _, ident = ref.partition("/")
        target = store.get(kind, ident) if kind and ident else None
        if target is not None:
            found.append(target)
    return found
