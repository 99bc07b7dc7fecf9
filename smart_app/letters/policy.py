"""The policy or guideline the letter cites: its title, its number, and a section (eviCore's "MSK-1.1", or
"Section 3.2").

Letters cite a policy in a sentence more than under a label: "Guideline used in this review: Imaging of the
Lumbar Spine (RAD-2026-014), Section 3.2", "Clinical Policy Bulletin SP-CPB 2124: TNF inhibitors for rheumatoid
arthritis", "Medical Coverage Policy HUM-MCP-0311, Knee Arthroplasty". The paragraph is read as one text, so a
citation broken across lines is whole; each value's source is the line it starts on.
"""

from __future__ import annotations

import re

from smart_app.letters.model import Found, Line, Source
from smart_app.letters.paragraphs import Paragraph

POLICY_WORDS = re.compile(
    r"\b(?:(?:medical|clinical|coverage|payment|reimbursement|utilization|drug|pharmacy)\s+"
    r"(?:coverage\s+)?(?:policy|policies|guidelines?|criteria)(?:\s+bulletin)?|policy bulletin|guidelines?"
    r"|guideline used|criteria used|policy used|LCD|NCD|CPB)\b",
    re.IGNORECASE,
)
POLICY_ID = re.compile(
    r"(?<![\w-])(?:[A-Z]{2,}(?:-[A-Z]{2,})*\s\d{3,}[A-Z]?"  # SP-CPB 2124, CPB 0236, LCD 34220
    r"|[A-Z0-9]*\d[A-Z0-9]*(?:-[A-Z0-9]+)+"  # RAD-2026-014, HUM-MCP-0311, CP.PHAR.123 (below)
    r"|[A-Z]+(?:-[A-Z]+)*-\d[A-Z0-9]*(?:-[A-Z0-9]+)*"
    r"|[A-Z]{1,4}(?:\.[A-Z0-9]+)+\.\d+"
    r"|\d{4}[A-Z]\d{4}[A-Z]?)(?![\w-])"  # 2026T0443B
)
SECTION = re.compile(
    r"\bsection\s+(?P<id>[A-Z]{0,5}-?\d+(?:\.\d+)*)|(?<![\w-])(?P<delegate>[A-Z]{2,5}-\d{1,3}\.\d{1,3}(?:\.\d+)*)\b",
    re.IGNORECASE,
)
TITLE_AFTER_LABEL = re.compile(
    r"(?:guideline|policy|criteria)s?\s+(?:used|cited|applied)?[^:]{0,30}:\s*(?P<title>[A-Z][^():;]{3,100}?)\s*\(",
    re.IGNORECASE,
)
TITLE_AFTER_ID = re.compile(r"^\s*[:,\-–]\s*(?P<title>[A-Z][^.;:()]{3,100}?)\s*(?:[.;(]|,|\s+and\s|$)")
DATE_LIKE = re.compile(r"^\d{1,4}[-/]\d{1,2}[-/]\d{1,4}$")
PHONE_LIKE = re.compile(r"^(?:1-)?\d{3}-\d{3}-\d{4}$")


def policy_fields(groups: list[list[Line]]) -> dict[str, Found[str] | None]:
    """``policy_title``, ``policy_id`` and ``policy_section`` from the first paragraph that cites a policy with a
    number (each None when the letter does not say)."""
    for group in groups:
        paragraph = Paragraph.of(group)
        anchor = POLICY_WORDS.search(paragraph.text)
        if not anchor:
            continue
        found = _citation(paragraph, anchor.start())
        if found["policy_id"] or found["policy_title"]:
            return found
    return {"policy_title": None, "policy_id": None, "policy_section": None}


def _citation(paragraph: Paragraph, start: int) -> dict[str, Found[str] | None]:
    text = paragraph.text

    def found(value: str, offset: int) -> Found[str]:
        return Found(value.strip(), Source.of(paragraph.line_at(offset)))

    title = policy_id = section = None
    section_match = SECTION.search(text, start)
    if section_match:
        group = "id" if section_match["id"] else "delegate"
        section = found(section_match[group], section_match.start(group))
    for match in POLICY_ID.finditer(text, start):
        value = match.group(0)
        if DATE_LIKE.match(value) or PHONE_LIKE.match(value) or (section and value == section.value):
            continue
        policy_id = found(value, match.start())
        after = TITLE_AFTER_ID.match(text[match.end() :])
        if after:
            title = found(after["title"], match.end() + after.start("title"))
        break
    labelled = TITLE_AFTER_LABEL.search(text, start)
    if labelled:
        title = found(labelled["title"], labelled.start("title"))
    return {"policy_title": title, "policy_id": policy_id, "policy_section": section}
