"""After the call: the call record, its plain-text note, and the local save that keeps every note until it lands."""

from smart_app.outcome.call_note import DISPOSITIONS, CallRecord, call_note_text, parse_call_form
from smart_app.outcome.outbox import deliver, notes_for_denial, save_note

__all__ = [
    "DISPOSITIONS",
    "CallRecord",
    "call_note_text",
    "deliver",
    "notes_for_denial",
    "parse_call_form",
    "save_note",
]
