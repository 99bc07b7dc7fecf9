"""Triage a denial: which kind it is (from its reason codes first, its reason text second), and whether the
payer stated a specific reason where CMS-0057-F requires one.

The brief says which signal decided the category, so the liaison can overrule it knowingly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from smart_app.denials.codes import reason_entry
from smart_app.denials.pas import Denial
from smart_app.rule_files import rule_file

# When several categories are signalled, the first in this order decides (and the page names the others).
PRECEDENCE = ("timely-filing", "administrative", "medical-necessity", "benefit-exclusion")
CERTIFIED = frozenset({"approved", "no-action", "cancelled"})


@dataclass(frozen=True)
class Triage:
    """The category, the signal that decided it (``reason-code``, ``reason-text``, ``decision``, ``none``), why."""

    category: str
    signal: str
    basis: str


@cache
def _text_patterns() -> dict[str, list[re.Pattern[str]]]:
    categories = rule_file("triage")["categories"]
    return {name: [re.compile(p, re.IGNORECASE) for p in patterns] for name, patterns in categories.items()}


def reason_text(denial: Denial) -> str:
    """All the payer's words for this denial: item notes, else header notes, and the disposition."""
    texts = [t for item in denial.items for t in item.reason_text] or list(denial.notes)
    if denial.disposition and denial.disposition not in texts:
        texts.append(denial.disposition)
    return "\n".join(texts)


def _first(found: dict[str, list[str]]) -> str:
    return next(c for c in PRECEDENCE if c in found)


def _from_codes(denial: Denial) -> Triage | None:
    found: dict[str, list[str]] = {}
    for code in (c for item in denial.items for c in item.reason_codes):
        entry = reason_entry(code.system, code.code)
        if entry and entry[1].get("category") in PRECEDENCE:
            label = f"{entry[0]['short']} {code.code} ({entry[1]['display']})"
            found.setdefault(entry[1]["category"], []).append(label)
    if not found:
        return None
    category = _first(found)
    basis = f"Reason code {', '.join(found[category])}."
    others = [c for c in found if c != category]
    if others:
        basis += f" Other codes point to {', '.join(others)}; {category} takes precedence."
    return Triage(category, "reason-code", basis)


def _from_text(text: str) -> Triage | None:
    found: dict[str, list[str]] = {}
    for category, patterns in _text_patterns().items():
        for pattern in patterns:
            match = pattern.search(text)
            if match:
                found.setdefault(category, []).append(match.group(0))
    if not found:
        return None
    category = _first(found)
    quoted = ", ".join(f"“{m}”" for m in list(dict.fromkeys(found[category]))[:3])
    basis = f"The reason text says {quoted}."
    if category == "medical-necessity" and "benefit-exclusion" in found:
        basis += (
            f" It also reads as an exclusion (“{found['benefit-exclusion'][0]}”), but it names clinical criteria, "
            "so it is treated as a criteria denial a P2P can answer."
        )
    elif len(found) > 1:
        basis += f" It also matches {', '.join(c for c in found if c != category)}; {category} takes precedence."
    return Triage(category, "reason-text", basis)


def categorise(denial: Denial) -> Triage:
    """The denial's category from its reason codes, else its reason text, else its decision."""
    if denial.decision in CERTIFIED:
        return Triage("unknown", "decision", "The request was certified or needs no action: nothing to contest.")
    by_code = _from_codes(denial)
    if by_code:
        return by_code
    by_text = _from_text(reason_text(denial))
    if by_text:
        return by_text
    if denial.decision == "rejected":
        return Triage(
            "administrative", "decision", "The payer rejected the request as submitted (an error, not a review)."
        )
    return Triage("unknown", "none", "Neither the reason codes nor the reason text say which kind of denial this is.")


def is_generic_reason(denial: Denial) -> bool:
    """Whether the payer gave no reason, or one that only restates the conclusion ("not medically necessary")."""
    text = reason_text(denial).strip()
    if not text:  # codes alone ("not medically necessary", CARC 50) never name the criterion that failed
        return True
    rules = rule_file("triage")["generic"]
    if any(re.search(p, text, re.IGNORECASE) for p in rules["specificCues"]):
        return False
    return any(re.search(p, text, re.IGNORECASE) for p in rules["patterns"]) or len(text.split()) <= 6
