"""The policy or guideline the letter cites: its title, its number, and a delegate's section (eviCore's "MSK-1.1")."""

from __future__ import annotations

import re

from smart_app.letters.model import Found, Line, Source
from smart_app.letters.patterns import labels

POLICY_LABEL = labels(
    "policy", "medical policy", "clinical policy", "coverage policy", "policy used", "policy cited",
    "guideline", "guidelines", "guideline used", "clinical guideline", "criteria used", "criteria",
    "clinical criteria", "coverage criteria", "policy title", "guideline name",
)  # fmt: skip
POLICY_WORDS = re.compile(
    r"\b(?:medical|clinical|coverage|payment|reimbursement|utilization)\s+(?:policy|guidelines?|criteria)"
    r"|\bpolicy bulletin\b|\bguidelines?\b|\bLCD\b|\bNCD\b|\bCPB\b|\bcriteria\b",
    re.IGNORECASE,
)
POLICY_ID = re.compile(
    r"(?:policy\s+(?:number|no\.?|#|id)\s*:?\s*|CPB\s*#?\s*|\bLCD\s+|\bNCD\s+|\(\s*)"
    r"(?P<id>[A-Z]{0,4}[-.]?\d[\w.-]{2,}\d?[A-Z]?)\s*\)?",
    re.IGNORECASE,
)
SECTION = re.compile(r"(?:section\s+)?\b(?P<id>[A-Z]{2,5}-\d{1,3}(?:\.\d{1,3})+)\b")
TITLE_CUT = re.compile(r"\s*(?:\(|,\s*(?:section|policy (?:number|no))|;|\s{2,}|$)", re.IGNORECASE)


def policy_fields(lines: list[Line]) -> dict[str, Found[str] | None]:
    """``policy_title``, ``policy_id`` and ``policy_section`` (each None when the letter does not say)."""
    title = policy_id = section = None
    for line in lines:
        if not POLICY_WORDS.search(line.text) and not POLICY_LABEL.match(line.text):
            continue
        label = POLICY_LABEL.match(line.text.strip())
        if label and title is None:
            rest = line.text.strip()[label.end() :]
            cut = TITLE_CUT.search(rest)
            text = rest[: cut.start()] if cut else rest
            if len(text) > 3:
                title = Found(text.strip(" .,:"), Source.of(line))
        found_id = POLICY_ID.search(line.text)
        if found_id and policy_id is None and not SECTION.fullmatch(found_id["id"]):
            policy_id = Found(found_id["id"], Source.of(line))
        found_section = SECTION.search(line.text)
        if found_section and section is None:
            section = Found(found_section["id"], Source.of(line))
    return {"policy_title": title, "policy_id": policy_id, "policy_section": section}
