"""Filing a confirmed letter in the patient's chart: its DocumentReference is saved in the outbox first (so a chart
that cannot be reached now gets it on a later page or from the timer's flush) and tried at once with the user's
token, where the EHR's write profile takes the letter's file type."""

from __future__ import annotations

import logging

from smart_app.errors import LetterUnreadable, P2PError
from smart_app.fhir.letter_document import chart_takes_letter, letter_document, letter_document_id
from smart_app.fhir.write_profiles import profile_for
from smart_app.letters.document import sniff
from smart_app.outcome.outbox import own_note, save_note
from smart_app.smart.launch import LaunchContext
from smart_app.store.letters import StoredLetter, letter_file
from smart_app.store.models import CallNote
from smart_app.web.case_state import database
from smart_app.web.context import settings
from smart_app.web.delivery import deliver_note
from smart_app.web.loading import clock

log = logging.getLogger(__name__)
MEDIA_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff"}


def _outbox_key(letter_id: int) -> str:
    """The outbox's name for a letter's document (never a case id: the case's call notes do not list it)."""
    return f"letter-{letter_id}-file"


def media_type(data: bytes) -> str | None:
    """The letter file's type by its bytes, or None when it is none the app reads."""
    try:
        return MEDIA_TYPES[sniff(data)]
    except LetterUnreadable:
        return None


def chart_takes(context: LaunchContext, stored: StoredLetter) -> bool:
    """Whether this launch's EHR takes this letter's file as a DocumentReference (its write profile)."""
    profile = profile_for(context.iss, settings()["WRITE_PROFILES"])
    return chart_takes_letter(profile.name, stored.media_type if stored.media_type in MEDIA_TYPES.values() else "")


def file_in_chart(context: LaunchContext, stored: StoredLetter) -> None:
    """Save the letter's DocumentReference in the outbox (once) and try to write it now."""
    patient_id = context.patient or ""
    data = letter_file(database(), iss=context.tenant, patient_id=patient_id, letter_id=stored.id)
    kind = media_type(data or b"")
    profile = profile_for(context.iss, settings()["WRITE_PROFILES"])
    if not data or kind is None or not chart_takes_letter(profile.name, kind):
        return
    document_id = letter_document_id(context.tenant, stored.id)
    if filed(context, stored.id) is None:
        resource = letter_document(
            document_id=document_id,
            patient_id=patient_id,
            data=data,
            media_type=kind,
            title=stored.filename,
            filed_at=clock().now,
            author_ref=context.fhir_user,
        )
        save_note(database(), note_id=document_id, iss=context.tenant, patient_id=patient_id,
                  claim_response_id=_outbox_key(stored.id), form={"letter": stored.id}, note_text="",
                  resources=[resource])  # fmt: skip
    try:
        deliver_note(context, document_id)
    except P2PError as exc:  # stays in the outbox with its reason: the next page or the flush sends it
        log.warning("letter %s not filed now: %s", stored.id, type(exc).__name__)


def filed(context: LaunchContext, letter_id: int) -> CallNote | None:
    """The outbox's record of the letter's document in the chart (written, pending or parked), or None."""
    return own_note(
        database(),
        iss=context.tenant,
        patient_id=context.patient or "",
        claim_response_id=_outbox_key(letter_id),
        note_id=letter_document_id(context.tenant, letter_id),
    )
