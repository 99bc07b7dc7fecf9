"""``GET /``: the launched patient's prior-authorization denials, newest first."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from smart_app.brief.model import denial_summary, patient_header
from smart_app.web.case_access import reachable_denials
from smart_app.web.case_state import track_case
from smart_app.web.context import current_launch
from smart_app.web.letter_pages import visible_letters
from smart_app.web.loading import clock, denials_unread, load_open_denials, practice_state

bp = Blueprint("denials", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """List the open denials for the patient in context (opened from the worklist: only the user's practices'; when
    the EHR's answers could not be read, the page says so rather than that there are none)."""
    context = current_launch()
    chart, denials = load_open_denials(context)
    now = clock()
    patient = patient_header(chart)
    summaries = [denial_summary(d, patient=chart.patient, clock=now, practice_state=practice_state()) for d in denials]
    for summary in summaries:  # every denial seen at a chart launch goes on the practice's worklist
        source = "hand" if summary["enteredByHand"] else "launch"
        track_case(context, summary, patient_name=patient["name"], source=source)
    reachable = reachable_denials(context, [s["id"] for s in summaries])
    shown = [s for s in summaries if s["id"] in reachable]
    return render_template(
        "denials.html",
        launch=context,
        patient=patient,
        denials=shown,
        other_practices=len(summaries) - len(shown),
        letters=visible_letters(context),
        unread=denials_unread(chart),
        warnings=chart.warnings,
    )
