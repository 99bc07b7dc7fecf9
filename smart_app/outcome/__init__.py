"""After the call: recording it (saved first, then delivered), the call record and its note, the scheduling log, the
drafted letters, the next steps with their dates, and the local save (outbox) that keeps every note until it lands."""

from smart_app.outcome.call_note import DISPOSITIONS, CallRecord, NoteContext, call_note_text, parse_call_form
from smart_app.outcome.outbox import deliver, notes_for_denial, save_note
from smart_app.outcome.recording import CallSubmission, RecordedCall, record_call

__all__ = [
    "DISPOSITIONS",
    "CallRecord",
    "CallSubmission",
    "NoteContext",
    "RecordedCall",
    "call_note_text",
    "deliver",
    "notes_for_denial",
    "parse_call_form",
    "record_call",
    "save_note",
]
