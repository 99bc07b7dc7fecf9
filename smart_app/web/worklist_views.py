"""``GET /worklist``: the practice's open denials across patients, opened by a standalone launch (no patient in
context, user-level scopes). Each row opens that patient's brief under the same sign-in."""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from dataclasses import replace

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from smart_app.errors import NotFound, PracticeSignInRequired
from smart_app.outcome.outbox import written_documents
from smart_app.practice.fhir_export import export_bundle
from smart_app.practice.spreadsheet import spreadsheet_safe
from smart_app.practice.worklist import STATUSES, WorklistRow, counts, filtered, on_the_clock
from smart_app.smart.launch import LaunchContext
from smart_app.store.cases import assign, case_row, cases_for, close, unattributed_count
from smart_app.web.case_state import database
from smart_app.web.context import check_csrf, current_launch, store_launch, user_practices
from smart_app.web.loading import clock

bp = Blueprint("worklist", __name__)
PRACTICE_SCOPES = ("user/",)


def practice_launch() -> LaunchContext:
    """The current launch, if it is a practice-wide sign-in: no patient in context, user-level read scopes, and a
    user the EHR lists in at least one practice (PractitionerRole). A launch from one patient's chart (patient/
    scopes) never sees the other patients' cases, and a user sees only their own practices' cases."""
    context = current_launch()
    if context.patient is not None or not any(s.startswith(PRACTICE_SCOPES) for s in context.scope.split()):
        raise PracticeSignInRequired("This page lists every patient's cases.")
    if not user_practices(context):
        raise PracticeSignInRequired(
            "The EHR lists no practice for your account, so the app cannot tell whose cases you may see.",
            advice=(
                "Sign in with your own EHR account (the app needs the openid and fhirUser scopes to know who you "
                "are); your EHR administrator can add a PractitionerRole linking you to your practice."
            ),
        )
    return context


@bp.get("/worklist")
def index() -> ResponseReturnValue:
    """Every case of this EHR on the clock: due within 24 h first, then by deadline; filters in the query."""
    context = practice_launch()
    now = clock().now
    local = [
        replace(r, deadline=r.deadline.astimezone(now.tzinfo) if r.deadline else None)
        for r in cases_for(database(), context.tenant, context.organizations)
    ]
    every = on_the_clock(local, now)
    criteria = {k: request.args.get(k, "") for k in ("payer", "physician", "status", "due_before")}
    return render_template(
        "worklist.html",
        launch=context,
        rows=filtered(every, criteria),
        totals=counts(every),
        criteria=criteria,
        payers=sorted({r.payer for r in every if r.payer}),
        physicians=sorted({r.physician for r in every if r.physician}),
        statuses=STATUSES,
        now=now,
        unattributed=unattributed_count(database(), context.tenant),
        letter_patients=_patients(every),
    )


def _patients(rows: list[WorklistRow]) -> list[tuple[int, str]]:
    """Each patient on the worklist once (one of their cases' ids, their name), A to Z: whom a letter may be for."""
    first: dict[str, WorklistRow] = {}
    for row in rows:
        first.setdefault(row.patient_id, row)
    return sorted(((r.case_id, r.patient_name or "name not documented") for r in first.values()),
                  key=lambda pair: pair[1].casefold())  # fmt: skip


def _case_or_404(context: LaunchContext, case_id: int) -> WorklistRow:
    row = case_row(database(), context.tenant, case_id, context.organizations)
    if row is None:
        raise NotFound("That case is not on this practice's worklist.")
    return row


CSV_COLUMNS = ("case", "patient_id", "patient", "payer", "service", "category", "next_step", "physician",
               "assignee", "status", "p2p_deadline", "hours_left", "due_within_24h", "missed")  # fmt: skip


@bp.get("/worklist.csv")
def export_csv() -> ResponseReturnValue:
    """The whole tracking log of this EHR's cases as CSV (the same rows as the worklist, unfiltered)."""
    context = practice_launch()
    now = clock().now
    rows = on_the_clock(cases_for(database(), context.tenant, context.organizations), now)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([spreadsheet_safe(v) for v in (
            r.case_id, r.patient_id, r.patient_name, r.payer, r.service, r.category, r.recommendation, r.physician,
            r.assignee, r.status, r.deadline.astimezone(now.tzinfo).isoformat() if r.deadline else "",
            round(r.hours_left, 1) if r.hours_left is not None else None, "yes" if r.alert else "no",
            "yes" if r.missed else "no",
        )])  # fmt: skip
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=p2p-cases.csv", "Cache-Control": "no-store"},
    )


@bp.get("/worklist.fhir.json")
def export_fhir() -> ResponseReturnValue:
    """The tracking log as a FHIR Bundle: a Task per case and the call notes written to the chart."""
    context = practice_launch()
    now = clock().now
    rows = cases_for(database(), context.tenant, context.organizations)
    notes = written_documents(database(), context.tenant, {(r.patient_id, r.denial_id) for r in rows})
    bundle = export_bundle(rows, notes, now=now)
    return Response(
        json.dumps(bundle, ensure_ascii=False),
        mimetype="application/fhir+json",
        headers={"Content-Disposition": "attachment; filename=p2p-cases.fhir.json", "Cache-Control": "no-store"},
    )


@bp.get("/worklist/<row_id:case_id>/open")
def open_case(case_id: int) -> ResponseReturnValue:
    """Open one case's brief: a launch for that patient under the same sign-in (the EHR still checks the token
    allows that patient's chart on every read)."""
    context = practice_launch()
    row = _case_or_404(context, case_id)
    opened = patient_launch(context, row.patient_id)
    return redirect(url_for("brief.brief", claim_response_id=row.denial_id, ctx=opened.handle), code=303)


def patient_launch(context: LaunchContext, patient_id: str) -> LaunchContext:
    """A launch for one patient under the worklist's sign-in (kept in the session; the EHR still checks the token
    allows that patient's chart on every read)."""
    opened = replace(
        context,
        handle=secrets.token_urlsafe(16),
        patient=patient_id,
        encounter=None,
        need_patient_banner=True,
        csrf=secrets.token_urlsafe(32),
        created_at=time.time(),
    )
    store_launch(opened)
    return opened


def patient_of_case(context: LaunchContext, case_id: int) -> str:
    """The patient of one of the worklist's cases; ``NotFound`` when the case is not this practice's."""
    return str(_case_or_404(context, case_id).patient_id)


@bp.post("/worklist/<row_id:case_id>/assign")
def assign_case(case_id: int) -> ResponseReturnValue:
    """Set who works the case."""
    context = practice_launch()
    check_csrf(context)
    _case_or_404(context, case_id)
    assign(database(), context.tenant, case_id, request.form.get("assignee"), context.organizations)
    return redirect(url_for("worklist.index", ctx=context.handle) + f"#case-{case_id}", code=303)


@bp.post("/worklist/<row_id:case_id>/close")
def close_case(case_id: int) -> ResponseReturnValue:
    """Close the case (it leaves the alerts and stays closed if the denial is seen again)."""
    context = practice_launch()
    check_csrf(context)
    _case_or_404(context, case_id)
    close(database(), context.tenant, case_id, context.organizations)
    return redirect(url_for("worklist.index", ctx=context.handle), code=303)
