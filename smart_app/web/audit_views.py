"""``GET /audit``: the audit log for the practice manager, under a practice-wide sign-in: every access to the
patients of the viewer's practices (who, what, which patient and resource, when), newest first."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from smart_app.store.audit import ACTIONS, audit_rows
from smart_app.web.case_state import database
from smart_app.web.loading import clock
from smart_app.web.worklist_views import practice_launch

bp = Blueprint("audit", __name__)


@bp.get("/audit")
def index() -> ResponseReturnValue:
    """The newest 500 events, filtered by patient id, user or action when the query names one."""
    context = practice_launch()
    zone = clock().zone
    rows = audit_rows(database(), context.iss, organizations=context.organizations or [], user=context.fhir_user)
    wanted = {k: request.args.get(k, "").strip() for k in ("patient", "user", "action")}
    shown = [
        r
        for r in rows
        if (not wanted["patient"] or r.patient_id == wanted["patient"])
        and (not wanted["user"] or r.user == wanted["user"])
        and (not wanted["action"] or r.action == wanted["action"])
    ]
    return render_template(
        "audit.html", launch=context, rows=shown, wanted=wanted, actions=ACTIONS, zone=zone,
        users=sorted({r.user for r in rows}),
    )  # fmt: skip
