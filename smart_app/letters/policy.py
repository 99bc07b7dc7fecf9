"""The policy or guideline the letter cites: its title, its number, and a section (eviCore's "CD-1.4", "Section
3.2", "Chapter 6", or a quoted heading).

Letters cite a policy in a sentence more than under a label: "Guideline used in this review: Imaging of the
Lumbar Spine (RAD-2026-014), Section 3.2", "Clinical Policy Bulletin SP-CPB 2124: TNF inhibitors for rheumatoid
arthritis", "Medical Coverage Policy HUM-MCP-0311, Knee Arthroplasty", "Guideline: eviCore Cardiac Imaging
Guidelines, Version 1.0.2026" (cited by name and version, no number: its id is None). The paragraph is read
as one text, so a citation broken across lines is whole;
each value's source is the line it starts on.
"""

from __future__ import annotations

import re

from smart_app.letters.model import Found, Line, Source
from smart_app.letters.paragraphs import Paragraph

ID = (
    r"(?:[A-Z]{2,}(?:-[A-Z]{2,})*\s\d{3,}[A-Z]?"  # SP-CPB 2124, IP 0291, LCD 34220
    r"|[A-Z0-9]*\d[A-Z0-9]*(?:-[A-Z0-9]+)+"  # RAD-2026-014, 2026-T-01
    r"|[A-Z]+(?:-[A-Z]+)*-\d[A-Z0-9]*(?:-[A-Z0-9]+)*"  # HUM-MCP-0311, CG-SLEEP-01
    r"|[A-Z]{1,4}(?:\.[A-Z0-9]+)+\.\d+"  # CP.PHAR.123
    r"|\d{4}[A-Z]\d{4}[A-Z]?)"  # 2026T0443B
)
POLICY_WORDS = re.compile(
    r"\b(?:policy|policies|guidelines?|criteria|bulletin|requirements?|administrative guide|LCD|NCD|CPB)\b",
    re.IGNORECASE,
)
PARENTHESIZED_ID = re.compile(rf"\((?P<id>{ID})\)")
ID_AFTER_WORD = re.compile(rf"\b(?i:policy|bulletin|guideline|number|no\.)\s+(?P<id>{ID})(?![\w-])")
SECTION = re.compile(
    r"\b(?i:section)\s+(?:\"(?P<quoted>[^\"]+)\"|“(?P<curly>[^”]+)”|(?P<id>[A-Z]{0,5}-?\d+(?:\.\d+)*))"
    r"|\b(?P<chapter>Chapter\s+\d+(?:\.\d+)*)"
)
LABEL = re.compile(
    r"\b(?i:guidelines?|policy|policies|criteria|requirements?|rule)(?:\s+(?i:used|cited|applied))?"
    r"(?:\s+in this review)?\s*:\s*"
)
SEGMENT_END = re.compile(r",\s*(?:Version|section|Chapter)\b|\.(?:\s|$)|;", re.IGNORECASE)
COLLECTION = re.compile(r"^[^,]*\bGuidelines,\s+(?=\S)")  # "Carelon Clinical Appropriateness Guidelines, <title>"
TRAILING_POLICY = re.compile(r",\s+[^,]*\b(?:Policy|Bulletin|Guidelines?)\s*$")  # ", Cigna ... Coverage Policy"
TITLE_AFTER_ID = re.compile(r"^\s*[:,]\s*(?P<title>[A-Z][^.;:()]{2,100}?)\s*(?:[.;(,]|\s+and\s|$)")


def policy_fields(groups: list[list[Line]]) -> dict[str, Found[str] | None]:
    """``policy_title``, ``policy_id`` and ``policy_section`` from the first paragraph that cites a policy by
    number or under a label (each None when the letter does not say)."""
    for group in groups:
        paragraph = Paragraph.of(group)
        if POLICY_WORDS.search(paragraph.text):
            found = _citation(paragraph)
            if found["policy_id"] or found["policy_title"]:
                return found
    return {"policy_title": None, "policy_id": None, "policy_section": None}


def _citation(paragraph: Paragraph) -> dict[str, Found[str] | None]:
    text = paragraph.text

    def found(value: str, offset: int) -> Found[str]:
        return Found(value.strip(), Source.of(paragraph.line_at(offset)))

    identifier = PARENTHESIZED_ID.search(text) or ID_AFTER_WORD.search(text)
    id_start, id_end = (identifier.start("id"), identifier.end("id")) if identifier else (-1, -1)
    policy_id = found(identifier["id"], id_start) if identifier else None
    section = None
    if section_match := SECTION.search(text):
        group = next(name for name in ("quoted", "curly", "id", "chapter") if section_match[name])
        section = found(section_match[group], section_match.start(group))
    title = _labelled_title(text, identifier)
    if title is None and identifier is not None:
        after = TITLE_AFTER_ID.match(text[id_end + (1 if text[id_end : id_end + 1] == ")" else 0) :])
        if after:
            title = (after["title"], id_end + after.start("title"))
    return {
        "policy_title": found(title[0], title[1]) if title else None,
        "policy_id": policy_id,
        "policy_section": section,
    }


def _labelled_title(text: str, identifier: re.Match[str] | None) -> tuple[str, int] | None:
    """The title after "Guideline used in this review:" and the like: up to the policy's number, a version, a
    section or the sentence's end; a guideline collection's name before it and a trailing ", ... Policy" dropped."""
    label = LABEL.search(text)
    if label is None:
        return None
    start = label.end()
    end_match = SEGMENT_END.search(text, start)
    end = end_match.start() if end_match else len(text)
    if identifier is not None and start <= identifier.start("id") < end:
        end = identifier.start("id")
    segment = text[start:end].rstrip(" ,(")
    collection = COLLECTION.match(segment)
    if collection:
        start, segment = start + collection.end(), segment[collection.end() :]
    segment = TRAILING_POLICY.sub("", segment).strip()
    return (segment, start) if len(segment) > 2 else None
