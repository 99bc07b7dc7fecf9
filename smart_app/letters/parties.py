"""Who the letter is from (the payer, and a delegate such as eviCore deciding for it) and who reviewed the request.

Payers and delegates are recognised by the names and aliases of ``criteria/payers.yaml`` through the same lookup
as the ClaimResponse's insurer (``denials.payers``); the value is the name as the letter prints it.
"""

from __future__ import annotations

import re
from functools import cache

from smart_app.denials.payers import payers
from smart_app.letters.model import Found, Line, Source
from smart_app.letters.patterns import labels

REVIEWER = labels(
    "reviewed by", "reviewer", "physician reviewer", "reviewing physician", "medical director", "peer reviewer",
    "clinical reviewer", "determination made by", "decision made by", "physician advisor", "medical reviewer",
    "reviewer name", "reviewing provider",
)  # fmt: skip
CREDENTIALS = re.compile(
    r"\b(?:M\.?D\.?|D\.?O\.?|MBBS|Pharm\.?\s?D\.?|R\.?Ph\.?|R\.?N\.?|DDS|DMD|DPM|D\.?C\.?|N\.?P\.?|PA-C|PhD|FACR|FACS"
    r"|FAAOS|FACC|FACP|FAAN|FAAFP|FACOG|MPH|MBA|MS|BSN)(?![A-Za-z])",
)
SPECIALTY = re.compile(
    r"(?:board[- ]certified\s+(?:in\s+)?|specialty\s*:\s*|specializing in\s+|specialist in\s+)"
    r"(?:the\s+)?([A-Z][A-Za-z &/-]+?)\s*(?:[.;,(]|$)",
    re.IGNORECASE,
)
PERSON = re.compile(r"(?:Dr\.?\s+)?[A-Z][a-z'-]+(?:\s+[A-Z]\.?)?(?:\s+[A-Z][A-Za-z'-]+)+")


@cache
def _names(kind: str) -> tuple[re.Pattern[str], ...]:
    """The names and aliases of payers.yaml entries of ``kind`` (payer, delegate), longest first."""
    found = [name for entry in payers() if entry.get("kind", "payer") == kind for name in entry["match"]["names"]]
    return tuple(re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE) for name in sorted(found, key=len, reverse=True))


def _named(lines: list[Line], kind: str) -> Found[str] | None:
    best: tuple[int, int, Found[str]] | None = None
    for index, line in enumerate(lines):
        for pattern in _names(kind):
            match = pattern.search(line.text)
            if match:
                candidate = (index, -len(match.group(0)), Found(match.group(0), Source.of(line)))
                if best is None or candidate[:2] < best[:2]:
                    best = candidate
        if best is not None:
            break
    return best[2] if best else None


def payer_named(lines: list[Line]) -> Found[str] | None:
    """The first payer (not a delegate) the letter names, as it prints the name."""
    return _named(lines, "payer")


def delegate_named(lines: list[Line]) -> Found[str] | None:
    """The first delegate (eviCore, Carelon, ...) the letter names."""
    return _named(lines, "delegate")


def reviewer_fields(lines: list[Line]) -> tuple[Found[str] | None, Found[str] | None, Found[str] | None]:
    """The reviewer's name, credentials and specialty, from a labelled reviewer line (and the line under it)."""
    for index, line in enumerate(lines):
        match = REVIEWER.search(line.text)
        if not match:
            continue
        rest = line.text[match.end() :].strip()
        context = [line, *lines[index + 1 : index + 3]]
        if not rest and index + 1 < len(lines):
            line, rest = lines[index + 1], lines[index + 1].text.strip()
        person = PERSON.match(rest)
        if not person:
            continue
        name = Found(person.group(0).strip(), Source.of(line))
        credentials = None
        creds = list(CREDENTIALS.finditer(rest, person.end()))
        if creds:
            credentials = Found(rest[creds[0].start() : creds[-1].end()], Source.of(line))
        specialty = None
        for candidate in context:
            found = SPECIALTY.search(candidate.text)
            if found:
                specialty = Found(found.group(1).strip(), Source.of(candidate))
                break
        return name, credentials, specialty
    return None, None, None
