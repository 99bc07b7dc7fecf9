"""A denial's call records as the app stored them: each note's record read back, which correction replaced which,
and the current call (the newest one no correction replaced)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from smart_app.outcome.call_note import CallRecord, record_from_form
from smart_app.outcome.outbox import may_be_in_chart
from smart_app.store.models import CallNote


def call_records(notes: list[CallNote]) -> list[dict[str, Any]]:
    """Each note with its record read back, newest first, and which note (if any) replaced it."""
    replaced_by = {n.replaces_note_id: n for n in notes if n.replaces_note_id}
    rows = []
    for note in notes:
        try:
            record: CallRecord | None = record_from_form(_json(note.form_json))
        except ValueError:
            record = None
        rows.append({"note": note, "record": record, "replaced_by": replaced_by.get(note.id),
                     "maybe_in_chart": may_be_in_chart(note)})  # fmt: skip
    return rows


def _json(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def current_call(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest call record that no correction has replaced."""
    return next((r for r in rows if r["record"] is not None and r["replaced_by"] is None), None)


def held_on(current: dict[str, Any] | None) -> date | None:
    """The date of the call, when one took place (a call that was not reached did not)."""
    if current is None or current["record"].disposition == "not-reached":
        return None
    return current["record"].call_date
