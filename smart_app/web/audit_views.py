"""``GET /audit``: the audit log for the practice manager, under a practice-wide sign-in: every access to the
patients of the viewer's practices (who, what, which patient and resource, when), newest first."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from smart_app.store.audit import ACTIONS, audit_rows, audit_users
from smart_app.web.case_state import database
from smart_app.web.loading import clock
from smart_app.web.worklist_views import practice_launch

bp = Blueprint("audit", __name__)


@bp.get("/audit")
def index() -> ResponseReturnValue:
    """The newest 500 events matching the query's patient id, user and action."""
    context = practice_launch()
    zone = clock().zone
    wanted = {k: request.args.get(k, "").strip() for k in ("patient", "user", "action")}
    rows = audit_rows(
        database(), context.tenant, organizations=context.organizations or [], user=context.fhir_user,
        patient=wanted["patient"] or None, by_user=wanted["user"] or None, action=wanted["action"] or None,
    )  # fmt: skip
    users = audit_users(database(), context.tenant, organizations=context.organizations or [], user=context.fhir_user)
    return render_template(
        "audit.html", launch=context, rows=rows, wanted=wanted, actions=ACTIONS, zone=zone, users=users
    )  # fmt: skip
