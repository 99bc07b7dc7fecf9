"""Code tables the app ships in ``fhir/codes/``: X12 306 review actions, and denial reason codes with the
triage category each one signals (X12 901 reject reasons, CARC, two RARCs, HL7 decision reasons, and the X12 886
codes a practice adds under its own X12 licence)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from smart_app.content import content_dir

REVIEW_ACTION_TABLE = "x12-306-review-action.json"
REASON_TABLES = "denial-reason-codes.json"


@cache
def review_action_table() -> dict[str, Any]:
    """The X12 306 table: ``{"system", "alternateSystems", "codes": {code: {"display", "decision"}}}``."""
    return json.loads((content_dir("fhir") / "codes" / REVIEW_ACTION_TABLE).read_text(encoding="utf-8"))


def review_action_systems() -> frozenset[str]:
    """Every system URL under which a 306 code may arrive (PAS 1.x used http, 2.x https)."""
    table = review_action_table()
    return frozenset([table["system"], *table.get("alternateSystems", [])])


def review_action(code: str) -> dict[str, str] | None:
    """``{"display", "decision"}`` for a 306 code, or None when the code is not in the table."""
    entry = review_action_table()["codes"].get(code)
    return dict(entry) if entry else None


@cache
def reason_tables() -> list[dict[str, Any]]:
    """The reason-code tables: each ``{"title", "systems", "source", "codes": {code: {"display", "category"}}}``."""
    data = json.loads((content_dir("fhir") / "codes" / REASON_TABLES).read_text(encoding="utf-8"))
    return list(data["tables"])


def _normalised(system: str | None) -> str:
    return (system or "").replace("http://", "https://").rstrip("/")


def reason_entry(system: str | None, code: str | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``(table, entry)`` for a reason code (http and https system URLs match), or None when no table has it."""
    if not code:
        return None
    wanted = _normalised(system)
    for table in reason_tables():
        if wanted in {_normalised(s) for s in table["systems"]} and code in table["codes"]:
            return table, table["codes"][code]
    return None


def code_set_name(system: str | None) -> str | None:
    """The short name of the shipped table for a code system (``"X12 886"``, ``"CARC"``), or None when none is."""
    wanted = _normalised(system)
    return next((t["short"] for t in reason_tables() if wanted in {_normalised(s) for s in t["systems"]}), None)


def reason_display(system: str | None, code: str | None) -> str | None:
    """The words for a reason code from the shipped tables, or None."""
    found = reason_entry(system, code)
    return found[1].get("display") if found else None
