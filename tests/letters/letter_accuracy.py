"""The shipped letters' fields compared with what a person reads off them (``<id>.expected.json``), per field.

Shared by the tests (tests/letters) and the benchmark (tests/bench/bench_letters.py). Codes, ids and dates must be
equal exactly; the reason text with its whitespace made single. A field the letter does not state (null) must be
found null: a guess is an error like a wrong value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LETTERS = Path(__file__).resolve().parents[1] / "data" / "letters"
FIELDS = (
    "payer",
    "delegate",
    "memberId",
    "patientName",
    "birthDate",
    "reference",
    "decidedAt",
    "services",
    "reasonText",
    "policyCited.title",
    "policyCited.id",
    "policyCited.section",
    "p2p.phone",
    "p2p.fax",
    "p2p.portal",
    "p2p.window",
    "reviewer.name",
    "reviewer.credentials",
    "reviewer.specialty",
    "appealDeadline",
    "decision",
)


def letter_ids() -> list[str]:
    """Every shipped letter's id (``uhc-lumbar-mri``), in name order."""
    return sorted(path.name.removesuffix(".expected.json") for path in LETTERS.glob("*.expected.json"))


def expected(letter_id: str) -> dict[str, Any]:
    """What a person reads off the letter."""
    return dict(json.loads((LETTERS / f"{letter_id}.expected.json").read_text()))


def _at(tree: dict[str, Any] | None, key: str) -> Any:
    for part in key.split("."):
        tree = tree.get(part) if isinstance(tree, dict) else None
    return tree


def found_value(contract: dict[str, Any], key: str) -> Any:
    """The value the reader found for ``key`` in the shape of the expected file (a window as amount and unit)."""
    if key == "services":
        return sorted((leaf["value"] for leaf in contract["services"]), key=lambda s: (s["system"], s["code"]))
    leaf = _at(contract, key)
    value = leaf["value"] if isinstance(leaf, dict) and "value" in leaf else None
    if key == "p2p.window" and value is not None:
        return {"amount": value["amount"], "unit": value["unit"]}
    if key == "reasonText" and value is not None:
        return " ".join(value.split())
    return value


def expected_value(truth: dict[str, Any], key: str) -> Any:
    """The expected value for ``key``, normalised like ``found_value``."""
    if key == "services":
        return sorted(truth.get("services") or [], key=lambda s: (s["system"], s["code"]))
    value = _at(truth, key)
    if key == "reasonText" and value is not None:
        return " ".join(value.split())
    return value


def compare(contract: dict[str, Any], truth: dict[str, Any]) -> dict[str, tuple[bool, Any, Any]]:
    """Each field: (right, found, expected)."""
    result = {}
    for key in FIELDS:
        found, want = found_value(contract, key), expected_value(truth, key)
        result[key] = (found == want, found, want)
    return result
