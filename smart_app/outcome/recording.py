"""Recording a P2P call: the one use case behind the web form, with no Flask and no HTTP, so tests (and any other
caller, such as a future command) record a call exactly as the page does.

What the person typed is saved before the EHR is asked anything: the note is kept, leased to this recording, from
the typed record alone. Then the chart is read (``read_brief``, passed in: this module knows no HTTP) and, when it
can be read, the note is completed with the denial's facts and the printed brief; when it cannot, the note goes as
it was saved and the caller says the EHR could not be reached. Only then is it delivered, through the outbox's one
leased path. A form's one-time key finds the note that form already created: a second submit writes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from smart_app.brief.render import DoesNotFit, render_pdf, render_text
from smart_app.denials.hand_entry import is_hand_denial_id
from smart_app.denials.pdex import answer_reference
from smart_app.errors import NotFound
from smart_app.fhir.write_profiles import PDF, TargetProfile, call_documents
from smart_app.fhir.writeback import build_document_reference
from smart_app.outcome.call_note import CallRecord, NoteContext, call_note_text, parse_call_form
from smart_app.outcome.outbox import (
    Writer,
    complete_note,
    deliver,
    discard_note,
    note_for_key,
    note_placeholder,
    own_note,
    save_note,
)
from smart_app.store.audit import record_event
from smart_app.store.db import Database
from smart_app.store.models import CallNote


@dataclass(frozen=True)
class CallSubmission:
    """One submitted call form and where it belongs: the EHR (``iss``), patient and denial of the launch."""

    iss: str
    patient_id: str
    denial_id: str
    form: Mapping[str, Any]
    zone: ZoneInfo
    form_key: str | None = None
    replaces: str | None = None  # the id of the note this one corrects
    correction_reason: str = ""
    author: str | None = None  # the user's fhirUser reference
    encounter_id: str | None = None


@dataclass
class RecordedCall:
    """The outcome: the note saved (``note_id``), or the form's errors (nothing saved). ``repeated`` when the form's
    key had already recorded this note (nothing new written); ``brief`` is the one read (None when the chart could not
    be read, or was not read because the form was refused first)."""

    note_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    repeated: bool = False
    brief: dict[str, Any] | None = None
    status: str | None = None  # the note's outbox status after the delivery attempt


def record_call(
    db: Database,
    call: CallSubmission,
    *,
    read_brief: Callable[[], dict[str, Any] | None],
    profile: TargetProfile,
    write: Writer,
    track: Callable[[dict[str, Any]], None] | None = None,
) -> RecordedCall:
    """Save the typed call note, complete it from the chart, and deliver it (nothing typed depends on the EHR).

    ``read_brief()`` returns the denial's brief, None when the EHR cannot be read, or raises ``NotFound`` when the
    chart was read and the denial is not the patient's (the saved note is then discarded and the error raised).
    ``track(brief)`` refreshes the case on the worklist. Raises ``NotFound`` when ``replaces`` is not one of this
    denial's notes."""
    earlier = note_for_key(db, iss=call.iss, patient_id=call.patient_id, form_key=call.form_key)
    if earlier is not None:
        return RecordedCall(note_id=earlier.id, repeated=True, status=earlier.status)
    original = _own_note(db, call, call.replaces) if call.replaces else None
    record, errors = parse_call_form(call.form)  # the ticked criteria are checked against the brief once it is read
    if record is None:
        return RecordedCall(errors=errors)
    note_id, lease = str(uuid.uuid4()), uuid.uuid4().hex
    text, resources = _documents(record, call, note_id, original, profile, brief=None)
    try:
        save_note(db, note_id=note_id, iss=call.iss, patient_id=call.patient_id, claim_response_id=call.denial_id,
                  form=record.as_form(), note_text=text, resources=resources,
                  replaces_note_id=original.id if original else None, form_key=call.form_key,
                  lease_owner=lease)  # fmt: skip
    except IntegrityError:  # the same form submitted twice at once: the other request saved it first
        raced = note_for_key(db, iss=call.iss, patient_id=call.patient_id, form_key=call.form_key)
        if raced is None:
            raise
        return RecordedCall(note_id=raced.id, repeated=True, status=raced.status)
    try:
        brief = read_brief()
    except NotFound:
        discard_note(db, note_id)
        raise
    if brief is not None:
        known = {c["id"] for c in brief["denials"][0].get("criteria") or []}
        checked, errors = parse_call_form(call.form, known)  # a ticked criterion the brief does not have: refused
        if checked is None:
            discard_note(db, note_id)  # the form comes back with every field as typed and the reason
            return RecordedCall(errors=errors, brief=brief)
        text, resources = _documents(record, call, note_id, original, profile, brief=brief)
        complete_note(db, note_id, lease, note_text=text, resources=resources)
    # Logged here, before the write to the chart, which logs its own event after it.
    record_event(db, tenant=call.iss, user=call.author, action="note.recorded", patient_id=call.patient_id,
                 resource=f"call-note/{note_id}")  # fmt: skip
    sent = deliver(db, note_id, write, owner=lease)
    if brief is not None and track is not None:
        track(brief)
    return RecordedCall(note_id=note_id, brief=brief, status=sent.note.status if sent.note else "pending")


def _own_note(db: Database, call: CallSubmission, note_id: str) -> CallNote:
    """The note being corrected, if it is one of this denial's; else ``NotFound``."""
    note = own_note(db, iss=call.iss, patient_id=call.patient_id, claim_response_id=call.denial_id, note_id=note_id)
    if note is None:
        raise NotFound("That call note is not one of this denial's.")
    return note


def _documents(
    record: CallRecord,
    call: CallSubmission,
    note_id: str,
    original: CallNote | None,
    profile: TargetProfile,
    *,
    brief: dict[str, Any] | None,
) -> tuple[str, list[dict[str, Any]]]:
    """The note's text and the resources to create: from the typed record alone, or with the brief's facts."""
    denial = brief["denials"][0] if brief else None
    context = _note_context(denial, call, _corrects(original))
    text = call_note_text(record, context)
    note = build_document_reference(
        note_id=note_id,
        patient_id=call.patient_id,
        note_text=text,
        written_at=datetime.now(call.zone),
        call_start=record.start(call.zone),
        call_end=record.end(call.zone),
        claim_ref=denial.get("claim") if denial else None,
        claim_response_ref=context.claim_response_ref,
        encounter_id=call.encounter_id,
        author_ref=call.author,
        replaces=note_placeholder(original.id) if original else None,
    )
    brief_pdf, brief_text = _printed_brief(brief, profile)
    resources = call_documents(
        profile, note, brief_pdf=brief_pdf, brief_text=brief_text, note_reference=note_placeholder(note_id)
    )
    return text, resources


def _corrects(original: CallNote | None) -> str | None:
    if original is None:
        return None
    recorded = json.loads(original.form_json).get("call_date", "")
    corrects = f"the note recorded {original.created_at:%Y-%m-%d %H:%M} UTC for the call of {recorded}"
    return corrects + (f" ({original.document_reference})" if original.document_reference else "")


def _reference_number(denial: dict[str, Any]) -> str | None:
    return denial.get("preAuthRef") or next(
        (
            i.get("referenceNumber") or i.get("reviewNumber")
            for i in denial.get("items") or []
            if i.get("referenceNumber") or i.get("reviewNumber")
        ),
        None,
    )


def _note_context(denial: dict[str, Any] | None, call: CallSubmission, corrects: str | None) -> NoteContext:
    reason = call.correction_reason.strip()[:2000]
    if denial is None:  # the chart could not be read: the typed record, and the denial it was typed for
        ref = None if is_hand_denial_id(call.denial_id) else answer_reference(call.denial_id)
        return NoteContext("see the prior-authorization request", "payer not named", ref, None,
                           corrects=corrects, correction_reason=reason)  # fmt: skip
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
