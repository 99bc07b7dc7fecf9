"""The demo EHR's Flask app factory."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from smart_app.content import content_dir
from smart_app.log_safety import cap_secret_bearing_loggers

from . import bulk_export, discovery, ehr_pages, fhir_api, oauth_views, payer_api
from .ehr_state import EXTENSION_KEY, DemoEhr
from .keys import generate_signing_key
from .oauth import build_authorization_server, build_resource_protector
from .oauth_models import DemoUser, OAuthRegistry
from .outcomes import error_response
from .sample_practice import sample_denials
from .settings import EhrSettings
from .store import FhirStore
from .write_rules import profile

log = logging.getLogger("smart_app.sandbox")

#: Signs in as this Practitioner when the demo Bundles hold none.
FALLBACK_PRACTITIONER = {
    "resourceType": "Practitioner",
    "id": "demo-clinician",
    "name": [{"use": "official", "family": "Clinician", "given": ["Demo"], "prefix": ["Dr."]}],
}


def create_ehr_app(settings: EhrSettings) -> Flask:
    """Build the demo EHR: a SMART-on-FHIR authorization server, FHIR R4 API and EHR screens as one WSGI app.

    It does not bind a socket (``smart_app.serving`` does, on 127.0.0.1 only).
    """
    _check(settings)
    cap_secret_bearing_loggers()  # Authlib's server logs each token it issues at DEBUG
    write_profile = profile(settings.profile)
    app = Flask("smart_app.sandbox", template_folder=str(content_dir("templates")), static_folder=None)
    store = FhirStore()
    now = settings.now or datetime.now(UTC)
    store.load_bundles(settings.data_dir, today=now.date())
    if settings.sample_cases:
        store.add_all(sample_denials(store, settings.sample_cases, now=now))
    registry = OAuthRegistry()
    key = generate_signing_key()
    ehr = DemoEhr(
        settings=settings,
        store=store,
        registry=registry,
        signing_key=key,
        write_profile=write_profile,
        user=DemoUser(_signed_in_practitioner(store, settings.signed_in_user)),
        authorization_server=build_authorization_server(app, settings, store, registry, key),
        resource_protector=build_resource_protector(registry, settings.inspector_token),
        charts_dated=now.date(),
    )
    app.extensions[EXTENSION_KEY] = ehr
    for blueprint in (discovery.bp, bulk_export.bp, fhir_api.bp, oauth_views.bp, ehr_pages.bp):
        app.register_blueprint(blueprint)
    if settings.payer_api:  # the demo payer: the same server, with a payer's data and operations
        app.register_blueprint(payer_api.bp)
    app.register_error_handler(HTTPException, _http_error)
    log.info(
        "demo EHR for %s (profile %s, %d clients); serve it on 127.0.0.1 only",
        settings.fhir_base,
        settings.profile,
        len(settings.clients),
    )
    return app


def _check(settings: EhrSettings) -> None:
    if not settings.clients:
        raise ValueError("the demo EHR needs at least one registered client")
    if not settings.inspector_token:
        raise ValueError("the demo EHR needs an inspector token")
    for client in settings.clients:
        client.check()


def _signed_in_practitioner(store: FhirStore, wanted: str) -> str:
    """The EHR's signed-in user: ``wanted`` when the store holds that Practitioner, else "Dr. Demo Clinician"
    (added when missing), never one of the charts' own physicians, so a note's author is the person who wrote
    it."""
    if wanted != FALLBACK_PRACTITIONER["id"] and store.get("Practitioner", wanted) is not None:
        return wanted
    if wanted != FALLBACK_PRACTITIONER["id"]:
        log.warning("the demo EHR has no Practitioner %s; signed in as the demo clinician", wanted)
    if store.get("Practitioner", str(FALLBACK_PRACTITIONER["id"])) is None:
        store.add_all([FALLBACK_PRACTITIONER])
    return str(FALLBACK_PRACTITIONER["id"])


def _http_error(error: HTTPException) -> Response | HTTPException:
    """FHIR paths answer errors as OperationOutcome; the EHR screens keep Werkzeug's pages."""
    if request.path.startswith("/fhir"):
        return error_response(error.code or 500, error.description or error.name)
    return error
