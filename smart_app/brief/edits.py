"""The practice's edits to a brief: check the form, and lay the stored edits over the brief model.

Edits never overwrite a chart fact. A replaced bottom line keeps the app's version beside it; an added citation is
marked "added by the practice"; a confirmed criterion keeps its chart status and shows the attestation (who,
when, the note) next to it, never as chart evidence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

KINDS = ("bottom-line", "guideline", "attestation", "talking-point")
LIMIT = 1200


def parse_edit(
    form: Mapping[str, str], criterion_ids: set[str]
) -> tuple[tuple[str, dict[str, Any]] | None, dict[str, str]]:
    """``((kind, payload), {})`` for a valid edit form, else ``(None, {field: message})``."""
    kind = (form.get("kind") or "").strip()
    text = (form.get("text") or "").strip()
    if kind not in KINDS:
        return None, {"kind": "Choose what to add."}
    if not text:
        return None, {"text": "Write the text to add."}
    if len(text) > LIMIT:
        return None, {"text": f"Keep it under {LIMIT} characters."}
    if kind == "bottom-line":
        lines = [line.strip() for line in text.splitlines() if line.strip()][:5]
        return (kind, {"lines": lines}), {}
    if kind == "guideline":
        source = (form.get("source") or "").strip()
        if source and not re.match(r"^https?://", source):
            return None, {"source": "The source must be a web address (https://…), or left empty."}
        return (kind, {"citation": text, "source": source or None}), {}
    if kind == "attestation":
        criterion = (form.get("criterion") or "").strip()
        if criterion not in criterion_ids:
            return None, {"criterion": "Choose the criterion you confirmed."}
        return (kind, {"criterion": criterion, "note": text}), {}
    return (kind, {"text": text}), {}


def _by(edit: dict[str, Any], zone: ZoneInfo | None) -> str:
    """Who (the user's FHIR reference, e.g. Practitioner/123) and when, in the practice's time zone."""
    who = edit.get("author") or "a user of the practice"
    when = datetime.fromisoformat(edit["at"])
    if when.tzinfo is None:  # SQLite drops the zone: the app stores UTC
        when = when.replace(tzinfo=UTC)
    local = when.astimezone(zone) if zone else when
    return f"{who}, {local:%Y-%m-%d %H:%M %Z}"


def apply_edits(denial: dict[str, Any], edits: list[dict[str, Any]], zone: ZoneInfo | None = None) -> dict[str, Any]:
    """The denial's brief with the practice's edits laid over it (a new dict; the chart facts are untouched)."""
    result = dict(denial)
    result["guidelines"] = list(denial.get("guidelines") or [])
    result["criteria"] = [dict(c) for c in denial.get("criteria") or []]
    result["talkingPoints"] = []
    result["edits"] = len(edits)
    for edit in edits:
        payload = edit["payload"]
        if edit["kind"] == "bottom-line":
            result.setdefault("bottomLineFromChart", denial.get("bottomLine"))
            result["bottomLine"] = payload["lines"]
            result["bottomLineBy"] = f"edited by {_by(edit, zone)}"
        elif edit["kind"] == "guideline":
            result["guidelines"].append(
                {
                    "citation": payload["citation"],
                    "source": payload.get("source"),
                    "short": payload["citation"][:80],
                    "addedBy": f"added by the practice ({_by(edit, zone)})",
                }
            )
        elif edit["kind"] == "attestation":
            for criterion in result["criteria"]:
                if criterion["id"] == payload["criterion"]:
                    criterion["attested"] = f"confirmed by {_by(edit, zone)}: {payload['note']}"
        else:
            result["talkingPoints"].append({"text": payload["text"], "by": _by(edit, zone)})
    return result
