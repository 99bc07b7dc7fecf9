"""``POST /outcome/<id>``: record the call, keep the note locally, write it to the chart as a DocumentReference."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from smart_app.brief.render import DoesNotFit, render_pdf, render_text
from smart_app.denials.hand_entry import is_hand_denial_id
from smart_app.errors import FhirError, NotFound, SessionExpired
from smart_app.fhir.write_profiles import PDF, TargetProfile, call_documents, profile_for
from smart_app.fhir.writeback import build_document_reference
from smart_app.outcome.call_note import NoteContext, call_note_text, form_values, parse_call_form
from smart_app.outcome.outbox import note_placeholder, save_note
from smart_app.smart.launch import LaunchContext
from smart_app.store.audit import record_event
from smart_app.store.models import CallNote
from smart_app.web.brief_views import edited_brief
from smart_app.web.case_access import require_case_access
from smart_app.web.case_state import track_case
from smart_app.web.case_views import case_page
from smart_app.web.context import check_csrf, current_launch, settings
from smart_app.web.delivery import deliver_note

log = logging.getLogger(__name__)
bp = Blueprint("outcome", __name__)


def _brief_or_none(context: LaunchContext, denial_id: str) -> dict[str, Any] | None:
    """The brief, or None when the EHR cannot be read right now: the note is saved either way."""
    try:
        return edited_brief(context, denial_id)
    except FhirError as exc:
        log.warning("chart unreadable while recording a call: %s", type(exc).__name__)
        return None


def _reference_number(denial: dict[str, Any]) -> str | None:
    return denial.get("preAuthRef") or next(
        (
            i.get("referenceNumber") or i.get("reviewNumber")
            for i in denial.get("items") or []
            if i.get("referenceNumber") or i.get("reviewNumber")
        ),
        None,
    )


def _note_context(denial: dict[str, Any] | None, denial_id: str, corrects: str | None, reason: str) -> NoteContext:
    if denial is None:
        ref = None if is_hand_denial_id(denial_id) else f"ClaimResponse/{denial_id}"
        return NoteContext(
            "see the prior-authorization request",
            "payer not named",
            ref,
            None,
            corrects=corrects,
            correction_reason=reason,
        )
    specialty = ((denial.get("orderingProvider") or {}).get("specialty") or {}).get("display")
    return NoteContext(
        service=denial.get("serviceText") or "see the prior-authorization request",
        payer=(denial.get("payer") or {}).get("name") or "payer not named",
        claim_response_ref=denial.get("claimResponse"),
        reference_number=_reference_number(denial),
        ordering_specialty=specialty,
        criteria={c["id"]: c["text"] for c in denial.get("criteria") or []},
        corrects=corrects,
        correction_reason=reason,
    )


def _typed_text_page(title: str, message: str, advice: str, status: int) -> tuple[str, int]:
    """An error page that hands back everything typed into the call form, to copy (nothing typed is lost)."""
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


def _own_note(context: LaunchContext, denial_id: str, note_id: str) -> CallNote:
    """The saved note, if it belongs to this launch's EHR, patient and denial; else ``NotFound``."""
    with current_app.extensions["p2p_db"].session() as session:
        note = session.get(CallNote, note_id)
    if (
        note is None
        or note.iss != context.tenant
        or note.patient_id != context.patient
        or note.claim_response_id != denial_id
    ):
        raise NotFound("That call note is not one of this denial's.")
    return note


def _printed_brief(brief: dict[str, Any] | None, profile: TargetProfile) -> tuple[bytes | None, str | None]:
    """The brief in the one form this EHR takes: the PDF (a WeasyPrint render, up to a second) only where it is
    kept, the text otherwise."""
    if brief is None:
        return None, None
    if profile.brief_content_type != PDF:
        return None, render_text(brief)
    try:
        return render_pdf(brief), None
    except DoesNotFit:
        return None, None


@bp.post("/outcome/<claim_response_id>")
def record_call(claim_response_id: str) -> ResponseReturnValue:
    """Check the form, save the note, try the write, and show the case with the result (nothing typed is lost)."""
    try:
        context = current_launch()
    except SessionExpired as exc:
        return _expired_with_typed_text(exc)
    check_csrf(context)
    require_case_access(context, claim_response_id)
    brief = _brief_or_none(context, claim_response_id)
    denial = brief["denials"][0] if brief else None
    replaces = (request.form.get("replaces") or "").strip() or None
    original = _own_note(context, claim_response_id, replaces) if replaces else None
    criteria_ids = {c["id"] for c in denial["criteria"]} if denial else None
    record, errors = parse_call_form(request.form, criteria_ids)
    if record is None and brief is None:
        return _typed_text_page(
            "The EHR cannot be read right now",
            "The call note was not saved: the form needs correcting, and the chart could not be read to show it again.",
            "Copy the text below, wait a minute, and record the call again from the patient's chart.",
            503,
        )
    if record is None:
        form: dict[str, Any] = form_values(request.form)
        if replaces:
            form.update(replaces=replaces, correction_reason=request.form.get("correction_reason", ""))
        return case_page(context, claim_response_id, form=form, errors=errors, status=400, brief=brief)
    zone = ZoneInfo(settings()["TIMEZONE"])
    note_id = str(uuid.uuid4())
    corrects = None
    if original is not None:
        recorded = json.loads(original.form_json).get("call_date", "")
        corrects = f"the note recorded {original.created_at:%Y-%m-%d %H:%M} UTC for the call of {recorded}"
        if original.document_reference:
            corrects += f" ({original.document_reference})"
    context_for_note = _note_context(
        denial, claim_response_id, corrects, (request.form.get("correction_reason") or "").strip()[:2000]
    )
    text = call_note_text(record, context_for_note)
    note = build_document_reference(
        note_id=note_id,
        patient_id=context.patient or "",
        note_text=text,
        written_at=datetime.now(zone),
        call_start=record.start(zone),
        call_end=record.end(zone),
        claim_ref=denial.get("claim") if denial else None,
        claim_response_ref=context_for_note.claim_response_ref,
        encounter_id=context.encounter,
        author_ref=context.fhir_user,
        replaces=note_placeholder(original.id) if original else None,
    )
    profile = profile_for(context.iss, settings()["WRITE_PROFILES"])
    brief_pdf, brief_text = _printed_brief(brief, profile)
    resources = call_documents(
        profile,
        note,
        brief_pdf=brief_pdf,
        brief_text=brief_text,
        note_reference=note_placeholder(note_id),
    )
    save_note(
        current_app.extensions["p2p_db"],
        note_id=note_id,
        iss=context.tenant,
        patient_id=context.patient or "",
        claim_response_id=claim_response_id,
        form=record.as_form(),
        note_text=text,
        resources=resources,
        replaces_note_id=original.id if original else None,
    )
    # Logged here, not after the response: the write to the chart below logs its own event, which must come after.
    record_event(current_app.extensions["p2p_db"], tenant=context.tenant, user=context.fhir_user,
                 action="note.recorded", patient_id=context.patient, resource=f"call-note/{note_id}")  # fmt: skip
    deliver_note(context, note_id)
    if brief is not None:
        track_case(context, brief["denials"][0], patient_name=brief["patient"]["name"], source="launch")
    return redirect(url_for("case.case", denial_id=claim_response_id, ctx=context.handle, note=note_id), code=303)


@bp.post("/outcome/<claim_response_id>/retry/<note_id>")
def retry(claim_response_id: str, note_id: str) -> ResponseReturnValue:
    """Send a saved note that has not reached the chart yet."""
    context = current_launch()
    check_csrf(context)
    require_case_access(context, claim_response_id)
    _own_note(context, claim_response_id, note_id)
    deliver_note(context, note_id)
    return redirect(url_for("case.case", denial_id=claim_response_id, ctx=context.handle, note=note_id), code=303)
