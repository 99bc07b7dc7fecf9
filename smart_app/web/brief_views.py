"""``GET /brief/<id>``: one denial's brief with the call form; ``GET /brief/<id>.pdf``: the same, printed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from smart_app.brief.edits import apply_edits, parse_edit
from smart_app.brief.model import build_brief
from smart_app.brief.render import DoesNotFit, render_pdf, render_script_pdf
from smart_app.brief.script import call_script
from smart_app.errors import InputError
from smart_app.outcome.outbox import notes_for_denial
from smart_app.smart.launch import LaunchContext
from smart_app.store.brief_edits import edits_for, save_edit
from smart_app.web.case_access import require_case_access
from smart_app.web.case_state import track_case
from smart_app.web.context import check_csrf, current_launch
from smart_app.web.delivery import retry_due_notes
from smart_app.web.form_keys import earlier_submission, remember_submission
from smart_app.web.letter_cases import joined_to
from smart_app.web.loading import clock, load_denial, practice_state

bp = Blueprint("brief", __name__)


def edited_brief(context: LaunchContext, claim_response_id: str) -> dict[str, Any]:
    """The brief of one denial with the practice's stored edits laid over it (the script follows the edits)."""
    chart, denial = load_denial(context, claim_response_id)
    now = clock()
    brief = build_brief(chart, [denial], clock=now, practice_state=practice_state())
    brief["asOf"] = now.now.strftime("%Y-%m-%d %H:%M %Z")
    edits = edits_for(
        current_app.extensions["p2p_db"],
        iss=context.tenant,
        patient_id=context.patient or "",
        denial_id=claim_response_id,
    )
    if edits:
        edited = apply_edits(brief["denials"][0], edits, now.zone)
        edited["callScript"] = call_script(brief, edited, now.now.date())
        brief["denials"][0] = edited
    return brief


def brief_page(
    context: LaunchContext,
    claim_response_id: str,
    *,
    edit_form: dict[str, str] | None = None,
    edit_errors: dict[str, str] | None = None,
    status: int = 200,
    brief: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """Render the brief page, optionally with the edit form refilled and its errors (after a bad submit).

    ``brief`` is the brief the request has already built, so the chart is not read from the EHR twice."""
    brief = brief or edited_brief(context, claim_response_id)
    notes = notes_for_denial(
        current_app.extensions["p2p_db"],
        iss=context.tenant,
        patient_id=context.patient or "",
        claim_response_id=claim_response_id,
    )
    html = render_template(
        "brief.html",
        launch=context,
        brief=brief,
        patient=brief["patient"],
        denial=brief["denials"][0],
        notes=notes,
        edit_form=edit_form or {},
        edit_errors=edit_errors or {},
    )
    return html, status


@bp.get("/brief/<claim_response_id>")
def brief(claim_response_id: str) -> ResponseReturnValue:
    """The brief for one denial of the launched patient (due outbox notes of this patient are retried first)."""
    context = current_launch()
    require_case_access(context, claim_response_id)
    joined = joined_to(current_app.extensions["p2p_db"], context, context.patient or "", claim_response_id)
    if joined:  # a letter case that joined the payer's answer for the same decision: that case is the one worked
        return redirect(url_for("brief.brief", claim_response_id=joined, ctx=context.handle), code=303)
    retry_due_notes(context)
    brief = edited_brief(context, claim_response_id)
    track_case(context, brief["denials"][0], patient_name=brief["patient"]["name"], source="launch")
    return brief_page(context, claim_response_id, brief=brief)


@bp.get("/brief/<claim_response_id>.pdf")
def brief_pdf(claim_response_id: str) -> ResponseReturnValue:
    """The brief as a PDF (WeasyPrint), for printing and for the record."""
    context = current_launch()
    require_case_access(context, claim_response_id)
    try:
        pdf = render_pdf(edited_brief(context, claim_response_id))
    except DoesNotFit as exc:
        raise InputError(
            "The printed brief does not fit on one page.",
            advice=f"Shorten the practice's additions (talking points, bottom line, attestations): {exc}.",
        ) from exc
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": "inline; filename=brief.pdf"})


@bp.get("/brief/<claim_response_id>/script")
def script(claim_response_id: str) -> ResponseReturnValue:
    """The call script as a page of the app (its PDF one click away), to read during the call."""
    context = current_launch()
    require_case_access(context, claim_response_id)
    brief = edited_brief(context, claim_response_id)
    return render_template("script.html", launch=context, brief=brief, patient=brief["patient"],
                           denial=brief["denials"][0])  # fmt: skip


@bp.get("/brief/<claim_response_id>/script.pdf")
def script_pdf(claim_response_id: str) -> ResponseReturnValue:
    """The call script as a PDF page."""
    context = current_launch()
    require_case_access(context, claim_response_id)
    pdf = render_script_pdf(edited_brief(context, claim_response_id))
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": "inline; filename=script.pdf"})


@bp.post("/brief/<claim_response_id>/edits")
def add_edit(claim_response_id: str) -> ResponseReturnValue:
    """Store one edit the practice makes before printing; a bad form comes back with what was typed."""
    context = current_launch()
    check_csrf(context)
    require_case_access(context, claim_response_id)
    if (earlier := earlier_submission(context)) is not None:
        return earlier
    brief = edited_brief(context, claim_response_id)
    ids = {c["id"] for c in brief["denials"][0]["criteria"]}
    edit, errors = parse_edit(request.form, ids)
    if edit is None:
        return brief_page(
            context, claim_response_id, edit_form=dict(request.form), edit_errors=errors, status=400, brief=brief
        )
    kind, payload = edit
    save_edit(
        current_app.extensions["p2p_db"],
        iss=context.tenant,
        patient_id=context.patient or "",
        denial_id=claim_response_id,
        kind=kind,
        payload=payload,
        author=context.fhir_user,
    )
    page = url_for("brief.brief", claim_response_id=claim_response_id, ctx=context.handle) + "#prepare-h"
    return remember_submission(context, redirect(page, code=303))
