"""Per-request access to the current launch, its FHIR client and its CSRF check.

Launches live in the server-side session under ``launches``, keyed by a random handle that every page carries
as ``?ctx=``. Two tabs of one browser share the session cookie but not the handle, so each tab keeps its own
patient; a request without a live handle gets "relaunch from the chart", never another launch's patient.
A launch ends after ``P2P_SESSION_MINUTES`` without activity, and ``P2P_SESSION_MAX_HOURS`` after its sign-in
whatever the activity; its tokens are stored sealed (``smart.token_vault``), never in plaintext.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

from flask import current_app, g, request, session

from smart_app.errors import P2PError, SessionExpired, StateMismatch, TokenError
from smart_app.fhir.client import FhirClient
from smart_app.fhir.facts import display_name
from smart_app.fhir.membership import user_organizations
from smart_app.smart.launch import LaunchContext
from smart_app.smart.token_vault import InvalidToken, TokenVault
from smart_app.smart.tokens import refresh_if_needed

log = logging.getLogger(__name__)
MAX_LAUNCHES = 10


def settings() -> dict[str, Any]:
    """The app's settings."""
    return current_app.config["P2P"]


def session_clock() -> float:
    """Now, as the session's idle and absolute limits read it (tests move it)."""
    return time.time()


def _vault() -> TokenVault:
    return current_app.extensions["p2p_token_vault"]


def sealed_launch(context: LaunchContext) -> dict[str, Any]:
    """The launch as the session keeps it: plain data, its tokens sealed (needs the app's context)."""
    data = context.to_dict()
    data["access_token"] = _vault().seal(context.access_token)
    data["refresh_token"] = _vault().seal(context.refresh_token)
    return data


def store_launch(context: LaunchContext) -> None:
    """Keep (or update) a launch in the session, its tokens sealed, dropping the least recently used beyond
    ``MAX_LAUNCHES`` (the worklist's own sign-in, used at every row opened, outlives the briefs opened from it)."""
    launches = dict(session.get("launches") or {})
    launches[context.handle] = sealed_launch(context)
    while len(launches) > MAX_LAUNCHES:
        stalest = min(
            (h for h in launches if h != context.handle),
            key=lambda h: launches[h].get("last_seen", launches[h]["created_at"]),
        )
        del launches[stalest]
    session["launches"] = launches


def current_launch(*, keep_if_unrefreshed: bool = False, touch: bool = True) -> LaunchContext:
    """The launch this request belongs to (from ``ctx``), refreshed if its token expired; else ``SessionExpired``.

    With ``keep_if_unrefreshed``, a token endpoint that cannot be reached (``TokenError``) does not end the request:
    the launch goes on with its expired token, so what the user typed is saved and its delivery waits for the EHR.
    With ``touch=False`` (a page's stylesheet, fetched beside the page) the session is read, never written: a
    write from a request still in flight would undo what the next page stored, such as a sign-in's state."""
    if "launch_context" in g:
        return g.launch_context
    handle = request.values.get("ctx", "")
    data = (session.get("launches") or {}).get(handle)
    if not handle or data is None:
        raise SessionExpired("This page does not belong to a live launch.")
    try:
        tokens = {k: _vault().open(data[k]) for k in ("access_token", "refresh_token")}
    except InvalidToken:
        _forget(handle)
        raise SessionExpired("This launch's sign-in can no longer be read (the app's secret changed).") from None
    context = LaunchContext.from_dict({**data, **tokens})
    now, max_hours = session_clock(), settings()["SESSION_MAX_HOURS"]
    if now - context.signed_in_at > max_hours * 3600:
        _forget(handle)
        raise SessionExpired(f"You were signed out: a sign-in lasts at most {max_hours:g} hours, however active.")
    if now - context.last_seen > settings()["SESSION_MINUTES"] * 60:
        _forget(handle)
        raise SessionExpired(f"You were signed out after {settings()['SESSION_MINUTES']} minutes without activity.")
    if not touch:
        return context
    try:
        refresh_if_needed(context, settings())
    except TokenError as exc:
        if not keep_if_unrefreshed:
            raise
        log.warning("the access token could not be refreshed (%s); going on to save what was typed", exc.message)
    context.last_seen = now
    store_launch(context)
    g.launch_context = context
    return context


def _forget(handle: str) -> None:
    launches = dict(session.get("launches") or {})
    launches.pop(handle, None)
    session["launches"] = launches


def fhir_client(context: LaunchContext) -> FhirClient:
    """A FHIR client for this launch's server and token."""
    s = settings()
    client = FhirClient.from_settings(context.iss, context.access_token, s)
    # one request of a page never outlives the brief's budget (a dripping server would hold its thread past it)
    client.request_deadline = min(client.request_deadline, s["BRIEF_BUDGET_SECONDS"])
    return client


PRACTICES_FRESH_SECONDS = 300


def user_name(context: LaunchContext) -> str:
    """The signed-in user as a person reads them ("Dr. Demo Clinician"), asked of the EHR once per launch; their
    reference (``Practitioner/…``) when the EHR cannot say."""
    if context.user_name is None and context.fhir_user:
        parts = context.fhir_user.rstrip("/").split("/")
        resource_type, resource_id = (parts[-2], parts[-1]) if len(parts) >= 2 else ("", "")
        try:
            context.user_name = display_name(fhir_client(context).read(resource_type, resource_id), with_prefix=True)
        except P2PError as exc:
            log.info("the user's name could not be read: %s", type(exc).__name__)
        context.user_name = context.user_name or ""  # asked: not asked again in this launch
        store_launch(context)
    return context.user_name or context.fhir_user or "the signed-in user"


def user_practices(context: LaunchContext) -> list[str]:
    """The practices the EHR links the user to (their PractitionerRoles' organizations), kept on the launch and
    asked again once older than ``PRACTICES_FRESH_SECONDS``: a user the EHR removes from a practice loses its cases
    within minutes. Raises ``FhirReadError`` when the EHR cannot be asked."""
    if context.organizations is None or time.time() - context.organizations_at > PRACTICES_FRESH_SECONDS:
        context.organizations = user_organizations(fhir_client(context), context.fhir_user)
        context.organizations_at = time.time()
        store_launch(context)
    return context.organizations


def check_csrf(context: LaunchContext) -> None:
    """Refuse a POST whose ``csrf`` field is not this launch's token."""
    _require_form_token(context.csrf)


def _require_form_token(expected: str) -> None:
    if not hmac.compare_digest(request.form.get("csrf", ""), expected):
        raise StateMismatch(
            "The form did not come from this launch's page.", advice="Reload the page and submit it again."
        )


def end_session() -> None:
    """Sign out (a POST carrying a live launch's ``ctx`` and its CSRF token): every launch of this browser ends,
    the server-side session with its sealed tokens is deleted and its cookie cleared. Nothing is asked of the EHR,
    so a sign-out works even when the EHR or its token endpoint does not answer."""
    data = (session.get("launches") or {}).get(request.form.get("ctx", ""))
    if data is None:
        raise SessionExpired("This page does not belong to a live launch.")
    _require_form_token(data["csrf"])
    session.clear()
