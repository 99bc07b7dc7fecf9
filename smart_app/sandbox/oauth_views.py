"""The authorization server's endpoints: ``/oauth/authorize`` (with the consent page), ``/oauth/token``."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, request

from .chart_summary import patient_name
from .ehr_pages import page
from .ehr_state import DemoEhr, current_ehr
from .oauth_models import LaunchContext

log = logging.getLogger("smart_app.sandbox")
bp = Blueprint("ehr_oauth", __name__, url_prefix="/oauth")
#: Form fields the consent page adds; they are not part of the authorize request the ticket is bound to.
CONSENT_FIELDS = ("consent_ticket", "patient", "deny")


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Response:
    """Validate the request, show the consent form (or approve at once), then redirect with a code."""
    ehr = current_ehr()
    server = ehr.authorization_server
    try:
        grant = server.get_consent_grant(end_user=ehr.user)
    except OAuth2Error as error:
        return _refuse(ehr, error)
    ticket = request.values.get("consent_ticket")
    if ehr.settings.require_consent and not ticket:
        return _consent_page(ehr, grant)
    if ticket and not ehr.registry.redeem_consent_ticket(ticket, _fingerprint()):
        return page(
            "ehr/error.html",
            400,
            title="This approval has expired",
            message="The approval form was already used or is too old. Launch the app again from the chart.",
        )
    if request.values.get("deny"):
        log.info("authorize: the user denied %s", grant.request.client.get_client_id())
        return server.create_authorization_response(grant=grant, grant_user=None)
    context = _context(ehr, grant.request)
    if context is None:
        return page("ehr/error.html", 400, title="Choose a patient", message="The chosen patient is not known.")
    grant.request.smart_context = context
    log.info("authorize: %s granted %s", grant.request.client.get_client_id(), grant.request.scope)
    return server.create_authorization_response(grant=grant, grant_user=context.user or ehr.user)


@bp.post("/token")
def token() -> Response:
    """The token endpoint: authorization_code, refresh_token and client_credentials grants."""
    return current_ehr().authorization_server.create_token_response()


def _refuse(ehr: DemoEhr, error: OAuth2Error) -> Response:
    """RFC 6749 §4.1.2.1: redirect the error to a validated redirect_uri, else explain it on an EHR page."""
    log.info("authorize refused: %s", error.error)
    if error.redirect_uri:
        return ehr.authorization_server.handle_error_response(None, error)
    return page(
        "ehr/error.html",
        400,
        title="The app's sign-in request is not valid",
        message=f"{error.error}: {error.description}",
    )


def _consent_page(ehr: DemoEhr, grant: Any) -> Response:
    context: LaunchContext | None = getattr(grant.request, "smart_context", None)
    scopes = grant.request.scope.split()
    patient = ehr.store.get("Patient", context.patient) if context and context.patient else None
    choices = []
    if context is None and "launch/patient" in scopes:
        choices = sorted(((p["id"], patient_name(p)) for p in ehr.store.all("Patient")), key=lambda c: c[1])
    fields = [(k, v) for k, v in request.values.items(multi=True) if k not in CONSENT_FIELDS]
    ticket = ehr.registry.issue_consent_ticket(_fingerprint())
    return page(
        "ehr/consent.html",
        client=grant.request.client.registered,
        scopes=scopes,
        patient_name=patient_name(patient) if patient else None,
        choices=choices,
        fields=fields,
        ticket=ticket,
        deny_query=[*fields, ("consent_ticket", ticket), ("deny", "1")],
    )


def _context(ehr: DemoEhr, oauth_request: Any) -> LaunchContext | None:
    """The EHR launch's context, or for a standalone launch the patient picked on the consent page."""
    context: LaunchContext | None = getattr(oauth_request, "smart_context", None)
    if context is not None:
        return context
    patient_id = None
    if "launch/patient" in oauth_request.scope.split():
        patients = ehr.store.all("Patient")
        patient_id = request.values.get("patient") or (patients[0]["id"] if patients else None)
        if patient_id is None or ehr.store.get("Patient", patient_id) is None:
            return None
    return LaunchContext(
        patient=patient_id,
        encounter=None,
        user=ehr.user,
        smart_style_url=ehr.settings.origin + "/smart-style.json",
        need_patient_banner=True,
    )


def _fingerprint() -> str:
    """A digest of the authorize request's own parameters, binding a consent ticket to that request."""
    pairs = sorted((k, v) for k, v in request.values.items(multi=True) if k not in CONSENT_FIELDS)
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()
