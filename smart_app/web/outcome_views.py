"""``POST /outcome/<id>``: record the call (``outcome.recording.record_call``: the note is saved before the EHR is
asked anything, then completed from the chart and written to it as a DocumentReference), and Retry."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from smart_app.errors import ChartUnavailable, FhirError, NotFound, SessionExpired
from smart_app.fhir.write_profiles import profile_for
from smart_app.outcome import recording
from smart_app.outcome.call_note import form_values
from smart_app.outcome.outbox import not_in_chart, own_note
from smart_app.smart.launch import LaunchContext
from smart_app.web.brief_views import edited_brief
from smart_app.web.case_access import require_case_access
from smart_app.web.case_state import track_case
from smart_app.web.case_views import case_page
from smart_app.web.context import check_csrf, current_launch, settings
from smart_app.web.delivery import deliver_note, note_writer
from smart_app.web.form_keys import submitted_form_key

log = logging.getLogger(__name__)
bp = Blueprint("outcome", __name__)


def _brief_or_none(context: LaunchContext, denial_id: str) -> dict[str, Any] | None:
    """The brief, or None when the EHR cannot be read right now (``NotFound`` when it was read and the denial is
    not the patient's)."""
    try:
        return edited_brief(context, denial_id)
    except FhirError as exc:
        log.warning("chart unreadable while recording a call: %s", type(exc).__name__)
        return None


def _typed_text_page(title: str, message: str, advice: str, status: int) -> tuple[str, int]:
    """A page that hands back everything typed into the call form, to copy (nothing typed is lost)."""
    values = form_values(request.form)
    typed = {k: (", ".join(v) if isinstance(v, list) else v) for k, v in values.items() if v}
    return render_template("error.html", title=title, message=message, advice=advice, typed=typed), status


def _expired_with_typed_text(error: SessionExpired) -> tuple[str, int]:
    """The session ended while the call was being typed: say so and hand the typed record back to copy."""
    return _typed_text_page(
        error.title,
        error.message + " The call note was not saved; what you typed is below.",
        "Copy the text below, relaunch the app from the patient's chart, and record the call again.",
        error.status,
    )


def _submission(context: LaunchContext, denial_id: str) -> recording.CallSubmission:
    return recording.CallSubmission(
        iss=context.tenant,
        patient_id=context.patient or "",
        denial_id=denial_id,
        form=request.form,
        zone=ZoneInfo(settings()["TIMEZONE"]),
        form_key=submitted_form_key(),
        replaces=(request.form.get("replaces") or "").strip() or None,
        correction_reason=request.form.get("correction_reason") or "",
        author=context.fhir_user,
        encounter_id=context.encounter,
    )


def _form_errors_page(context: LaunchContext, denial_id: str, recorded: recording.RecordedCall) -> ResponseReturnValue:
    """The case page with the form as typed and its errors; the typed text to copy when the chart cannot be read."""
    brief = recorded.brief or _brief_or_none(context, denial_id)  # read once: the brief the recording read
    if brief is None:
        return _typed_text_page(
            ChartUnavailable.title,
            "The call note was not saved: the form needs correcting, and the chart could not be read to show it again.",
            "Copy the text below, wait a minute, and record the call again from the patient's chart.",
            503,
        )
    form: dict[str, Any] = {**form_values(request.form), "form_key": submitted_form_key()}
    if request.form.get("replaces"):
        form.update(replaces=request.form["replaces"], correction_reason=request.form.get("correction_reason", ""))
    return case_page(context, denial_id, form=form, errors=recorded.errors, status=400, brief=brief)


@bp.post("/outcome/<claim_response_id>")
def record_call(claim_response_id: str) -> ResponseReturnValue:
    """Save the note, complete it from the chart, try the write, and show the case with the result (nothing typed is
    lost; a second submit of the same form shows the note the first one saved)."""
    try:
        context = current_launch(keep_if_unrefreshed=True)  # a token endpoint that is down must not lose the note
    except SessionExpired as exc:
        return _expired_with_typed_text(exc)
    check_csrf(context)
    require_case_access(context, claim_response_id)
    recorded = recording.record_call(
        current_app.extensions["p2p_db"],
        _submission(context, claim_response_id),
        read_brief=lambda: _brief_or_none(context, claim_response_id),
        profile=profile_for(context.iss, settings()["WRITE_PROFILES"]),
        write=note_writer(context),
        track=lambda brief: track_case(
            context, brief["denials"][0], patient_name=brief["patient"]["name"], source="launch"
        ),
    )
    if recorded.note_id is None:
        return _form_errors_page(context, claim_response_id, recorded)
    if recorded.brief is None and not recorded.repeated:
        return _typed_text_page(
            "The call note is saved; the EHR could not be reached",
            "The note is kept in the app and will be written to the chart once the EHR answers. "
            "What you typed is below.",
            "Nothing to retype. Open the case again in a few minutes to see it in the chart; if the EHR stays "
            "unreachable, tell your EHR administrator.",
            202,
        )
    return redirect(
        url_for("case.case", denial_id=claim_response_id, ctx=context.handle, note=recorded.note_id), code=303
    )


def _own_saved_note(claim_response_id: str, note_id: str) -> LaunchContext:
    """The launch of a POST on one of this denial's saved notes (CSRF and practice checked); else an error."""
    context = current_launch()
    check_csrf(context)
    require_case_access(context, claim_response_id)
    mine = own_note(current_app.extensions["p2p_db"], iss=context.tenant, patient_id=context.patient or "",
                    claim_response_id=claim_response_id, note_id=note_id)  # fmt: skip
    if mine is None:
        raise NotFound("That call note is not one of this denial's.")
    return context


@bp.post("/outcome/<claim_response_id>/retry/<note_id>")
def retry(claim_response_id: str, note_id: str) -> ResponseReturnValue:
    """Send a saved note that has not reached the chart yet."""
    context = _own_saved_note(claim_response_id, note_id)
    deliver_note(context, note_id)
    return redirect(url_for("case.case", denial_id=claim_response_id, ctx=context.handle, note=note_id), code=303)


@bp.post("/outcome/<claim_response_id>/not-in-chart/<note_id>")
def send_again(claim_response_id: str, note_id: str) -> ResponseReturnValue:
    """A person looked in the chart for a note whose write lost its answer and did not find it: send it again.
    (The app never decides this alone where the EHR cannot be asked by identifier, as at Epic and Oracle.)"""
    context = _own_saved_note(claim_response_id, note_id)
    if not_in_chart(current_app.extensions["p2p_db"], note_id):
        deliver_note(context, note_id)
    return redirect(url_for("case.case", denial_id=claim_response_id, ctx=context.handle, note=note_id), code=303)
