"""``GET /case/<id>``: after the brief, the case — the scheduling log, the written requests ready to send, the
call record form, the notes in the chart and the next steps with their dates."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from smart_app.errors import InputError, NotFound
from smart_app.outcome import drafts as drafting
from smart_app.outcome.call_note import (
    DISPOSITIONS,
    OBJECTIONS,
    SAME_SPECIALTY_REQUEST,
    SPECIALTY_MATCH,
    CallRecord,
)
from smart_app.outcome.calls import current_call, held_on
from smart_app.outcome.letter import letter_of_medical_necessity, render_letter_html, render_letter_pdf
from smart_app.outcome.next_steps import NextStep, next_steps
from smart_app.outcome.render import render_draft_pdf, split_placeholders
from smart_app.outcome.scheduling import CHANNELS, EVENT_KINDS, parse_event_form, scheduling_status
from smart_app.smart.launch import LaunchContext
from smart_app.store.case_records import add_event, draft, drafts_for, events_for, mark_sent, save_draft
from smart_app.web.brief_views import edited_brief
from smart_app.web.case_access import require_case_access
from smart_app.web.case_state import calls, case_key, database, track_case
from smart_app.web.context import check_csrf, current_launch, settings, user_name
from smart_app.web.delivery import retry_due_notes
from smart_app.web.form_keys import earlier_submission, form_key_for, remember_submission
from smart_app.web.loading import clock

bp = Blueprint("case", __name__)
DRAFT_KINDS = {
    "p2p-request": "P2P request",
    "confirmation": "Confirmation of the scheduled call",
    "written-demand": "Written demand after failed attempts",
    "patient-summary": "Summary for the patient",
}


def _zone() -> ZoneInfo:
    return ZoneInfo(settings()["TIMEZONE"])


def _deadline(denial: dict[str, Any]) -> datetime | None:
    value = (denial.get("p2pWindow") or {}).get("deadline")
    return datetime.fromisoformat(value) if value else None


def _notice(denial: dict[str, Any], zone: ZoneInfo) -> datetime | None:
    value = denial.get("decidedOn")
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else datetime.combine(parsed.date(), time(), zone)


def steps_for(record: CallRecord, denial: dict[str, Any], zone: ZoneInfo) -> list[NextStep]:
    """The dated next steps after this call."""
    return next_steps(
        disposition=record.disposition,
        call_end=record.end(zone),
        denial_notice=_notice(denial, zone),
        plan_type=denial.get("planType"),
        urgent=record.urgent,
        reviewer_same_specialty=record.reviewer_same_specialty,
        requested_documents=record.documents_requested,
        documents_due=record.documents_due,
    )


def case_page(
    context: LaunchContext,
    denial_id: str,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    log_form: dict[str, str] | None = None,
    log_errors: dict[str, str] | None = None,
    draft_error: str | None = None,
    status: int = 200,
    brief: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """Render the case page, optionally with a form refilled and its errors (nothing typed is lost)."""
    brief = brief or edited_brief(context, denial_id)
    denial = brief["denials"][0]
    zone, now = _zone(), clock().now
    key = case_key(context, denial_id)
    events = events_for(database(), key)
    rows = calls(context, denial_id)
    current = current_call(rows)
    correcting = request.args.get("correct")
    if correcting and form is None:
        original = next((r for r in rows if r["note"].id == correcting and r["record"]), None)
        if original is None:
            raise NotFound("That call note is not one of this denial's.")
        form = {**original["record"].as_form(), "replaces": correcting}
    form = {**(form or {}), "form_key": form_key_for(form)}  # one key per rendered call form
    return render_template(
        "case.html",
        launch=context,
        brief=brief,
        patient=brief["patient"],
        denial=denial,
        events=events,
        schedule=scheduling_status(
            events,
            window_closes=_deadline(denial),
            now=now,
            call_held_on=held_on(current),
        ),
        drafts=drafts_for(database(), key),
        draft_kinds=DRAFT_KINDS,
        draft_error=draft_error,
        calls=rows,
        current=current,
        call_held_on=held_on(current),
        steps=steps_for(current["record"], denial, zone) if current else [],
        just_saved=request.args.get("note"),
        form=form,
        errors=errors or {},
        log_form=log_form or {},
        log_errors=log_errors or {},
        event_kinds=EVENT_KINDS,
        channels=CHANNELS,
        dispositions=DISPOSITIONS,
        specialty_match=SPECIALTY_MATCH,
        same_specialty_request=SAME_SPECIALTY_REQUEST,
        objections=OBJECTIONS,
        callback_phone=settings().get("CALLBACK_PHONE") or "",
        now=now,
    ), status


@bp.get("/case/<denial_id>")
def case(denial_id: str) -> ResponseReturnValue:
    """The case of one denial: scheduling, drafts, the call record and what comes next (notes waiting in the
    outbox whose backoff has passed are retried first)."""
    context = current_launch()
    require_case_access(context, denial_id)
    retry_due_notes(context)
    return case_page(context, denial_id)


@bp.post("/case/<denial_id>/log")
def log_event(denial_id: str) -> ResponseReturnValue:
    """Add one entry to the scheduling log."""
    context = current_launch()
    check_csrf(context)
    require_case_access(context, denial_id)
    if (earlier := earlier_submission(context)) is not None:
        return earlier
    event, errors = parse_event_form(request.form, clock().now)
    if event is None:
        return case_page(context, denial_id, log_form=dict(request.form), log_errors=errors, status=400)
    brief = edited_brief(context, denial_id)  # the denial must be this patient's before anything is stored
    add_event(database(), case_key(context, denial_id), event, context.fhir_user)
    track_case(context, brief["denials"][0], patient_name=brief["patient"]["name"], source="launch")
    page = url_for("case.case", denial_id=denial_id, ctx=context.handle) + "#schedule-h"
    return remember_submission(context, redirect(page, code=303))


def _compose(kind: str, brief: dict[str, Any], context: LaunchContext, denial_id: str) -> drafting.Draft:
    denial, patient = brief["denials"][0], brief["patient"]
    now = clock().now
    phone = (request.form.get("callback_phone") or "").strip() or None
    practice = settings().get("PRACTICE_NAME")
    events = events_for(database(), case_key(context, denial_id))
    if kind == "p2p-request":
        blocks = drafting.proposed_blocks(now, settings()["CALL_BLOCKS"])
        return drafting.p2p_request(
            denial, patient, blocks=blocks, callback_phone=phone, practice=practice, today=now.date()
        )
    if kind == "confirmation":
        scheduled = [e for e in events if e.kind == "scheduled"]
        if not scheduled:
            raise InputError("There is no scheduled call to confirm.", advice="Log the scheduled slot first.")
        return drafting.confirmation(
            denial, patient, event=scheduled[-1], callback_phone=phone, practice=practice, today=now.date()
        )
    if kind == "written-demand":
        if held_on(current_call(calls(context, denial_id))) is not None:
            raise InputError("The call has taken place: there is nothing to demand.", advice="Use the next steps.")
        try:
            return drafting.written_demand(
                denial, patient, attempts=events, callback_phone=phone, practice=practice, today=now.date()
            )
        except ValueError as exc:
            raise InputError(str(exc), advice="Log each failed attempt (who answered, what was said).") from exc
    rows = calls(context, denial_id)
    current = current_call(rows)
    if current is None:
        raise InputError("There is no call record to summarise yet.", advice="Record the call first.")
    steps = steps_for(current["record"], denial, _zone())
    return drafting.patient_summary(denial, patient, record=current["record"], steps=steps, practice=practice)


@bp.post("/case/<denial_id>/drafts")
def make_draft(denial_id: str) -> ResponseReturnValue:
    """Draft one written request from the case and keep it; the page says why when it cannot be drafted yet."""
    context = current_launch()
    check_csrf(context)
    require_case_access(context, denial_id)
    if (earlier := earlier_submission(context)) is not None:
        return earlier
    kind = request.form.get("kind", "")
    if kind not in DRAFT_KINDS:
        raise InputError("Choose which letter to draft.")
    brief = edited_brief(context, denial_id)
    try:
        composed = _compose(kind, brief, context, denial_id)
    except InputError as exc:
        return case_page(context, denial_id, draft_error=f"{exc.message} {exc.advice}", status=400, brief=brief)
    stored = save_draft(
        database(),
        case_key(context, denial_id),
        kind=kind,
        title=composed.title,
        text=composed.text,
        author=user_name(context),
    )
    page = url_for("case.show_draft", denial_id=denial_id, draft_id=stored.id, ctx=context.handle)
    return remember_submission(context, redirect(page, code=303))


def _draft_or_404(context: LaunchContext, denial_id: str, draft_id: int) -> Any:
    require_case_access(context, denial_id)
    found = draft(database(), case_key(context, denial_id), draft_id)
    if found is None:
        raise NotFound("That draft is not one of this denial's.")
    return found


@bp.get("/case/<denial_id>/drafts/<row_id:draft_id>")
def show_draft(denial_id: str, draft_id: int) -> ResponseReturnValue:
    """One draft: its text to copy into a portal, its PDF, and whether it was sent."""
    context = current_launch()
    found = _draft_or_404(context, denial_id, draft_id)
    return render_template("draft.html", launch=context, draft=found, denial_id=denial_id, kinds=DRAFT_KINDS,
                           parts=split_placeholders(found.text))  # fmt: skip


@bp.get("/case/<denial_id>/drafts/<row_id:draft_id>.pdf")
def draft_pdf(denial_id: str, draft_id: int) -> ResponseReturnValue:
    """One draft as a PDF, to fax or print."""
    found = _draft_or_404(current_launch(), denial_id, draft_id)
    return Response(
        render_draft_pdf(found.title, found.text),
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename={found.kind}.pdf"},
    )


@bp.get("/case/<denial_id>/drafts/<row_id:draft_id>.txt")
def draft_text(denial_id: str, draft_id: int) -> ResponseReturnValue:
    """One draft as plain text, to paste into a payer portal."""
    found = _draft_or_404(current_launch(), denial_id, draft_id)
    return Response(found.text, content_type="text/plain; charset=utf-8")


@bp.post("/case/<denial_id>/drafts/<row_id:draft_id>/sent")
def draft_sent(denial_id: str, draft_id: int) -> ResponseReturnValue:
    """Record that a person sent the draft."""
    context = current_launch()
    check_csrf(context)
    require_case_access(context, denial_id)
    if mark_sent(database(), case_key(context, denial_id), draft_id, user_name(context)) is None:
        raise NotFound("That draft is not one of this denial's.")
    return redirect(url_for("case.show_draft", denial_id=denial_id, draft_id=draft_id, ctx=context.handle), code=303)


def _upheld_record(context: LaunchContext, denial_id: str, note_id: str) -> CallRecord:
    require_case_access(context, denial_id)
    rows = calls(context, denial_id)
    row = next((r for r in rows if r["note"].id == note_id and r["record"] is not None), None)
    if row is None:
        raise NotFound("That call note is not one of this denial's.")
    if row["record"].disposition != "upheld":
        raise InputError("The letter of medical necessity is drafted after an upheld denial.")
    return row["record"]


def _callback_phone(context: LaunchContext, denial_id: str) -> str | None:
    """The physician's direct line: the practice's setting, else the one entered on this case's newest request."""
    typed = (
        drafting.callback_number_in(d.text) for d in reversed(drafts_for(database(), case_key(context, denial_id)))
    )
    return settings().get("CALLBACK_PHONE") or next((phone for phone in typed if phone), None)


@bp.get("/case/<denial_id>/letter/<note_id>")
def letter(denial_id: str, note_id: str) -> ResponseReturnValue:
    """The draft letter of medical necessity after an upheld call, for the physician to edit and sign."""
    context = current_launch()
    record = _upheld_record(context, denial_id, note_id)
    drafted = letter_of_medical_necessity(edited_brief(context, denial_id), record, today=clock().now.date(),
                                          callback_phone=_callback_phone(context, denial_id))  # fmt: skip
    return render_letter_html(drafted)


@bp.get("/case/<denial_id>/letter/<note_id>.pdf")
def letter_pdf(denial_id: str, note_id: str) -> ResponseReturnValue:
    """The same letter as a PDF."""
    context = current_launch()
    record = _upheld_record(context, denial_id, note_id)
    drafted = letter_of_medical_necessity(edited_brief(context, denial_id), record, today=clock().now.date(),
                                          callback_phone=_callback_phone(context, denial_id))  # fmt: skip
    return Response(
        render_letter_pdf(drafted),
        mimetype="application/pdf",
        headers={"Content-Disposition": "inline; filename=letter-of-medical-necessity.pdf"},
    )
