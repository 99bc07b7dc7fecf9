"""``POST /outcome/<id>``: record the call, keep the note locally, write it to the chart as a DocumentReference."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from smart_app.denials.hand_entry import is_hand_denial_id
from smart_app.denials.pas import Denial, service_text
from smart_app.errors import FhirError, NotFound, SessionExpired
from smart_app.fhir.writeback import (
    build_document_reference,
    supports_conditional_create,
    write_document_reference,
)
from smart_app.outcome.call_note import FIELDS, call_note_text, parse_call_form
from smart_app.outcome.outbox import deliver, save_note
from smart_app.smart.launch import LaunchContext
from smart_app.store.models import CallNote
from smart_app.web.brief_views import brief_page
from smart_app.web.context import check_csrf, current_launch, fhir_client, settings
from smart_app.web.loading import load_denial

log = logging.getLogger(__name__)
bp = Blueprint("outcome", __name__)


def _deliver(context: LaunchContext, note_id: str) -> None:
    client = fhir_client(context)

    def write(resource: dict) -> str:
        conditional = supports_conditional_create(client.capabilities())
        return write_document_reference(client, resource, conditional=conditional)

    note = deliver(current_app.extensions["p2p_db"], note_id, write)
    log.info("call note %s: %s after %d attempt(s)", note_id, note.status, note.attempts)


def _denial_or_none(context: LaunchContext, claim_response_id: str) -> Denial | None:
    """The denial, or None when the EHR cannot be read right now: the note is saved either way."""
    try:
        return load_denial(context, claim_response_id)[1]
    except FhirError as exc:
        log.warning("chart unreadable while recording a call: %s", type(exc).__name__)
        return None


def _reference_number(denial: Denial | None) -> str | None:
    if denial is None:
        return None
    return denial.pre_auth_ref or next(
        (i.reference_number or i.review_number for i in denial.items if i.reference_number or i.review_number), None
    )


def _expired_with_typed_text(error: SessionExpired) -> tuple[str, int]:
    """The session ended while the call was being typed: say so and hand the typed record back to copy."""
    typed = {name: request.form.get(name, "") for name in FIELDS if request.form.get(name)}
    html = render_template(
        "error.html",
        title=error.title,
        message=error.message + " The call note was not saved; what you typed is below.",
        advice="Copy the text below, relaunch the app from the patient's chart, and record the call again.",
        typed=typed,
    )
    return html, error.status


@bp.post("/outcome/<claim_response_id>")
def record_call(claim_response_id: str) -> ResponseReturnValue:
    """Check the form, save the note, try the write, and show the brief with the result (nothing typed is lost)."""
    try:
        context = current_launch()
    except SessionExpired as exc:
        return _expired_with_typed_text(exc)
    check_csrf(context)
    record, errors = parse_call_form(request.form)
    if record is None:
        return brief_page(context, claim_response_id, form=dict(request.form), errors=errors, status=400)
    denial = _denial_or_none(context, claim_response_id)
    zone = ZoneInfo(settings()["TIMEZONE"])
    note_id = str(uuid.uuid4())
    if denial:
        claim_response_ref = denial.claim_response_ref  # None for a denial entered by hand
    else:
        claim_response_ref = None if is_hand_denial_id(claim_response_id) else f"ClaimResponse/{claim_response_id}"
    text = call_note_text(
        record,
        service=service_text(denial) if denial else "see the prior-authorization request",
        payer=(denial.payer_name if denial else None) or "payer not named",
        claim_response_ref=claim_response_ref,
        reference_number=_reference_number(denial),
    )
    resource = build_document_reference(
        note_id=note_id,
        patient_id=context.patient or "",
        note_text=text,
        written_at=datetime.now(zone),
        call_start=record.start(zone),
        call_end=record.end(zone),
        claim_ref=denial.claim_ref if denial else None,
        claim_response_ref=claim_response_ref,
        encounter_id=context.encounter,
        author_ref=context.fhir_user,
    )
    save_note(
        current_app.extensions["p2p_db"],
        note_id=note_id,
        iss=context.iss,
        patient_id=context.patient or "",
        claim_response_id=claim_response_id,
        form=record.as_form(),
        note_text=text,
        resource=resource,
    )
    _deliver(context, note_id)
    return redirect(
        url_for("brief.brief", claim_response_id=claim_response_id, ctx=context.handle, note=note_id), code=303
    )


@bp.post("/outcome/<claim_response_id>/retry/<note_id>")
def retry(claim_response_id: str, note_id: str) -> ResponseReturnValue:
    """Send a saved note that has not reached the chart yet."""
    context = current_launch()
    check_csrf(context)
    with current_app.extensions["p2p_db"].session() as session:
        note = session.get(CallNote, note_id)
        if note is None or note.iss != context.iss or note.patient_id != context.patient:
            raise NotFound("That call note is not one of this patient's.")
    _deliver(context, note_id)
    return redirect(
        url_for("brief.brief", claim_response_id=claim_response_id, ctx=context.handle, note=note_id), code=303
    )
