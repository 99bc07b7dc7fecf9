"""``/launch`` and ``/callback``: the SMART EHR (and standalone) launch, and the app's public JWKS."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from smart_app.errors import AuthorizationDenied, IssuerNotAllowed, LaunchError, StateMismatch
from smart_app.smart.client_auth import load_private_key, public_jwks
from smart_app.smart.launch import PendingAuthorization, begin_authorization, complete_authorization
from smart_app.web.context import end_session, settings, store_launch

log = logging.getLogger(__name__)
bp = Blueprint("launch", __name__)

PENDING_SECONDS = 600
MAX_PENDING = 5


def _redirect_uri() -> str:
    public = settings().get("PUBLIC_URL")
    return f"{public.rstrip('/')}/callback" if public else url_for("launch.callback", _external=True)


def _allowed_iss(iss: str) -> str:
    normalized = iss.strip().rstrip("/")
    if not normalized or normalized not in settings()["ALLOWED_ISS"]:
        raise IssuerNotAllowed("The app was launched from a FHIR server it is not configured to trust.")
    return normalized


@bp.get("/launch")
def launch() -> ResponseReturnValue:
    """Start an EHR launch (``iss`` + ``launch``) or a standalone one (``iss`` only)."""
    iss = _allowed_iss(request.args.get("iss", ""))
    launch_value = request.args.get("launch") or None
    config = current_app.extensions["p2p_discovery"].get(
        iss, timeout=settings()["FHIR_TIMEOUT"], trusted_origins=settings()["AUTH_ORIGINS"]
    )
    url, pending = begin_authorization(config, launch=launch_value, redirect_uri=_redirect_uri(), settings=settings())
    now = time.time()
    kept = {s: p for s, p in (session.get("pending") or {}).items() if now - p["created_at"] < PENDING_SECONDS}
    kept[pending.state] = pending.to_dict()
    session["pending"] = dict(sorted(kept.items(), key=lambda kv: kv[1]["created_at"])[-MAX_PENDING:])
    log.info("launch started for iss %s (%s)", iss, "EHR" if launch_value else "standalone")
    return redirect(url, code=302)


def _take_pending(state: str) -> PendingAuthorization:
    pending = dict(session.get("pending") or {})
    data = pending.pop(state, None) if state else None
    session["pending"] = pending
    if data is None:
        raise StateMismatch("The sign-in response's state does not match a launch started in this browser.")
    if time.time() - data["created_at"] > PENDING_SECONDS:
        raise StateMismatch("The launch took too long to complete.")
    return PendingAuthorization(**data)


@bp.get("/callback")
def callback() -> ResponseReturnValue:
    """Finish the launch: check ``state``, trade the code for tokens, keep them here, show the patient's denials."""
    pending = _take_pending(request.args.get("state", ""))
    if request.args.get("error"):
        error = request.args["error"][:100]
        description = request.args.get("error_description", "")[:300]
        raise AuthorizationDenied(f"The EHR answered '{error}'" + (f": {description}" if description else "."))
    code = request.args.get("code")
    if not code:
        raise LaunchError("The EHR's response carried no authorization code.")
    config = current_app.extensions["p2p_discovery"].get(
        pending.iss, timeout=settings()["FHIR_TIMEOUT"], trusted_origins=settings()["AUTH_ORIGINS"]
    )
    context = complete_authorization(pending, code, config, settings=settings())
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]  # Flask-Session's interface
    store_launch(context)
    log.info("launch completed for iss %s", pending.iss)
    if context.patient is None:  # a standalone sign-in with no patient: the practice's worklist
        return redirect(url_for("worklist.index", ctx=context.handle), code=302)
    return redirect(url_for("denials.index", ctx=context.handle), code=302)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: every launch of this browser ends (``end_session``), and the page says so."""
    end_session()
    log.info("signed out")
    return render_template("signed_out.html", launch=None)


@bp.get("/.well-known/jwks.json")
def jwks() -> ResponseReturnValue:
    """The public key the EHR uses to check the app's private_key_jwt assertions."""
    s = settings()
    if s["CLIENT_AUTH"] != "private_key_jwt":
        abort(404)
    key = s.get("_PRIVATE_KEY") or load_private_key(s["PRIVATE_KEY_FILE"])
    response = jsonify(public_jwks(key, s["ASSERTION_ALG"]))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
