"""Code tables the app ships in ``fhir/codes/``: X12 306 review actions (PAS's decision per item)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from smart_app.content import content_dir

REVIEW_ACTION_TABLE = "x12-306-review-action.json"


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
