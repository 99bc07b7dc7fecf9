"""What the letter decided (denied, pended, partial) and why, in its own words.

The reason is the paragraph under a heading such as "Reason for our decision" or "1. WHY WE MADE THIS DECISION"
(skipping a one-line lead-in like "We denied the services listed above because:"), or after a "Reason:" label;
a letter with neither gives it in the paragraph that says most about why ("not approved", "no documentation",
"criteria", ...), never one about appeals or the peer-to-peer. Verbatim: the paragraph's lines joined, nothing
reworded.
"""

from __future__ import annotations

import re

from smart_app.letters.model import Found, Line, Source
from smart_app.letters.paragraphs import joined
from smart_app.letters.patterns import labels

REASON = labels(
    "reason for denial", "reason for the denial", "reason for decision", "reason for our decision",
    "reason for this decision", "reason for the decision", "reason for determination", "denial reason",
    "reason for pend", "reason", "rationale", "clinical rationale", "decision rationale", "explanation",
)  # fmt: skip
HEADING_WORDS = re.compile(r"\b(reasons?|rationale|why|explanation|basis for)\b", re.IGNORECASE)
MAX_HEADING_WORDS = 8
MAX_LEAD_IN_WORDS = 14
ENUMERATION = re.compile(r"^(?:\(?\d{1,2}[.)]|[A-Z][.)]|[•·-])\s+")
REASON_CUES = tuple(
    re.compile(cue, re.IGNORECASE)
    for cue in (
        r"not (medically )?necessary|not approved|not certif|not covered|unable to approve|cannot approve"
        r"|\bdenied\b|\bdenial\b",
        r"does not meet|did not meet|not met\b|does not show|did not show|no documentation|not documented",
        r"\bcriteria\b|\brequires?\b|\brequired\b|\bdocumentation\b|\bpended\b",
        r"please (submit|send)|we need|missing|not (received|provided|included)|\bexcluded\b|\bexclusion\b",
    )
)
OFF_TOPIC = re.compile(r"\bappeal|peer[- ]to[- ]?peer|\bsincerely\b", re.IGNORECASE)
ON_TOPIC = re.compile(r"not approved|not medically necessary|does not meet|not met\b|is denied", re.IGNORECASE)
MIN_REASON_SCORE = 2
SENTENCE = re.compile(r"[a-z]{2,}[.!?](?:\s|$)")
DECISIONS = (
    ("partial", re.compile(r"partial(ly)?\s+(approv|den)|approved in part|denied in part", re.I)),
    ("pended", re.compile(r"\bpend(ed|ing)?\b|additional information (is )?(needed|required)|need more inf", re.I)),
    ("denied", re.compile(r"\bden(ied|ial)\b|not approved|adverse (benefit )?determination|unable to approve", re.I)),
)
DECISION_LABEL = labels("decision", "determination", "status", "outcome", "review decision", "request status")
SERVICE_ROW = re.compile(r"^\s*(?:(?:CPT|HCPCS|NDC)\s+)?(?:[0-9]{4}[0-9A-Z]|[A-V][0-9]{4})\b")
APPROVED = re.compile(r"(?<!not )\bapproved\s*$", re.IGNORECASE)
NOT_APPROVED = re.compile(r"\b(not approved|denied|not medically necessary)\s*$", re.IGNORECASE)


def reason_text(groups: list[list[Line]]) -> Found[str] | None:
    """The reason, verbatim, with the line it starts on; None when the letter gives none."""
    for index, group in enumerate(groups):
        first = ENUMERATION.sub("", group[0].text.strip())
        if _is_heading(first):
            body = _without_lead_in(group[1:]) or _without_lead_in(_after_lead_in(groups, index + 1))
            if body:
                return Found(joined(body), Source.of(body[0]))
            continue
        label = REASON.match(first)
        if label and ":" in label.group(0) and first[label.end() :].strip():
            return Found(joined([Line(group[0].page, first[label.end() :].strip()), *group[1:]]), Source.of(group[0]))
    scored = [(_why_score(joined(group)), -index, group) for index, group in enumerate(groups)]
    best = max(scored, key=lambda item: item[:2], default=None)
    if best is None or best[0] < MIN_REASON_SCORE:
        return None
    return Found(joined(best[2]), Source.of(best[2][0]))


def _is_heading(text: str) -> bool:
    words = text.rstrip(":?").split()
    return (
        0 < len(words) <= MAX_HEADING_WORDS
        and bool(HEADING_WORDS.search(text))
        and not re.search(r"[.;]\s", text)
        and not re.search(r"appeal|peer", text, re.IGNORECASE)
        and (text.endswith((":", "?")) or ":" not in text)
    )


def _after_lead_in(groups: list[list[Line]], index: int) -> list[Line]:
    """The paragraph at ``index``, or the one after it when it is a one-line lead-in ending in a colon."""
    if index >= len(groups):
        return []
    group = groups[index]
    if len(group) == 1 and group[0].text.rstrip().endswith(":") and index + 1 < len(groups):
        return groups[index + 1]
    return group


def _without_lead_in(lines: list[Line]) -> list[Line]:
    """The lines without a first line that only leads in ("We denied the services listed above because:")."""
    if lines and lines[0].text.rstrip().endswith(":") and len(lines[0].text.split()) <= MAX_LEAD_IN_WORDS:
        return lines[1:]
    return lines


def _why_score(text: str) -> int:
    """How much a paragraph says about why; 0 for one about appeals or the P2P, or with no sentence in it (a
    table of labels and values)."""
    if (OFF_TOPIC.search(text) and not ON_TOPIC.search(text)) or not SENTENCE.search(text):
        return 0
    return sum(len(cue.findall(text)) for cue in REASON_CUES)


def decision(lines: list[Line]) -> Found[str] | None:
    """``denied``, ``pended`` or ``partial``: services approved and not approved side by side make a partial
    decision; else a labelled decision line; else the first line that says."""
    rows = [line for line in lines if SERVICE_ROW.match(line.text)]
    approved = [line for line in rows if APPROVED.search(line.text)]
    refused = [line for line in rows if NOT_APPROVED.search(line.text)]
    if approved and refused:
        return Found("partial", Source.of(refused[0]))
    for line in lines:
        label = DECISION_LABEL.match(line.text.strip())
        if not label:
            continue
        for value, pattern in DECISIONS:
            if pattern.search(line.text.strip()[label.end() :]):
                return Found(value, Source.of(line))
    for value, pattern in DECISIONS:
        for line in lines:
            if pattern.search(line.text):
                return Found(value, Source.of(line))
    return None
