"""``GET /brief/<id>``: one denial's brief with the call form; ``GET /brief/<id>.pdf``: the same, printed."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue

from smart_app.brief.model import build_brief
from smart_app.brief.render import render_pdf, render_script_html, render_script_pdf
from smart_app.outcome.call_note import DISPOSITIONS
from smart_app.outcome.outbox import notes_for_denial
from smart_app.smart.launch import LaunchContext
from smart_app.web.context import current_launch
from smart_app.web.loading import clock, load_denial, practice_state

bp = Blueprint("brief", __name__)


def brief_page(
    context: LaunchContext,
    claim_response_id: str,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """Render the brief page, optionally with the call form refilled and its errors (after a bad submit)."""
    chart, denial = load_denial(context, claim_response_id)
    brief = build_brief(chart, [denial], clock=clock(), practice_state=practice_state())
    notes = notes_for_denial(
        current_app.extensions["p2p_db"],
        iss=context.iss,
        patient_id=context.patient or "",
        claim_response_id=claim_response_id,
    )
    html = render_template(
        "brief.html",
        launch=context,
        brief=brief,
        denial=brief["denials"][0],
        notes=notes,
        just_saved=request.args.get("note"),
        form=form or {},
        errors=errors or {},
        dispositions=DISPOSITIONS,
    )
    return html, status


@bp.get("/brief/<claim_response_id>")
def brief(claim_response_id: str) -> ResponseReturnValue:
    """The brief for one denial of the launched patient."""
    return brief_page(current_launch(), claim_response_id)


@bp.get("/brief/<claim_response_id>.pdf")
def brief_pdf(claim_response_id: str) -> ResponseReturnValue:
    """The brief as a PDF (WeasyPrint), for printing and for the record."""
    context = current_launch()
    chart, denial = load_denial(context, claim_response_id)
    pdf = render_pdf(build_brief(chart, [denial], clock=clock(), practice_state=practice_state()))
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": "inline; filename=brief.pdf"})


@bp.get("/brief/<claim_response_id>/script")
def script(claim_response_id: str) -> ResponseReturnValue:
    """The call script as its own printable page."""
    context = current_launch()
    chart, denial = load_denial(context, claim_response_id)
    return render_script_html(build_brief(chart, [denial], clock=clock(), practice_state=practice_state()))


@bp.get("/brief/<claim_response_id>/script.pdf")
def script_pdf(claim_response_id: str) -> ResponseReturnValue:
    """The call script as a PDF page."""
    context = current_launch()
    chart, denial = load_denial(context, claim_response_id)
    pdf = render_script_pdf(build_brief(chart, [denial], clock=clock(), practice_state=practice_state()))
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": "inline; filename=script.pdf"})
