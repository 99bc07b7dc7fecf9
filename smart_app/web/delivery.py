"""Sending saved call notes to the EHR with the signed-in user's token: the note just recorded, a Retry, and, on
the user's next page, every note of this patient whose backoff has passed (the timer's `outbox flush` does the
same for everyone through SMART Backend Services). Every one goes through the outbox's one leased path, so a page
and a flush never both write the same note."""

from __future__ import annotations

import logging

from flask import current_app

from smart_app.errors import P2PError
from smart_app.fhir.write_profiles import profile_for
from smart_app.fhir.writeback import document_writer
from smart_app.outcome.outbox import Writer, deliver, due_notes
from smart_app.smart.launch import LaunchContext
from smart_app.web.context import fhir_client, settings

log = logging.getLogger(__name__)


def note_writer(context: LaunchContext) -> Writer:
    """The writer for this launch's EHR, as its write profile allows."""
    profile = profile_for(context.iss, settings()["WRITE_PROFILES"])
    return document_writer(fhir_client(context), search_first=profile.identifier_search)


def deliver_note(context: LaunchContext, note_id: str) -> None:
    """Try to write one saved note now (unless another process holds its lease); the outbox records what happened."""
    sent = deliver(current_app.extensions["p2p_db"], note_id, note_writer(context))
    if sent.note is None:
        log.info("call note %s: being sent by another process, or no longer pending", note_id)
    else:
        log.info("call note %s: %s after %d attempt(s)", note_id, sent.note.status, sent.note.attempts)


def retry_due_notes(context: LaunchContext) -> int:
    """Retry this patient's pending notes whose backoff has passed (the user's next action); how many were tried.

    A failure here never stops the page: the note stays in the outbox with its reason."""
    due = due_notes(current_app.extensions["p2p_db"], iss=context.tenant, patient_id=context.patient or "")
    for note in due:
        try:
            deliver_note(context, note.id)
        except P2PError as exc:  # e.g. the session's token cannot be refreshed: the timer's flush will send it
            log.warning("call note %s not retried: %s", note.id, type(exc).__name__)
    return len(due)
