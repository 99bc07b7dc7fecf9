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
SALUTATION = re.compile(r"^\s*(?:dear|to whom)\b", re.IGNORECASE)
CC = re.compile(r"^\s*(?:cc|copy to)\b", re.IGNORECASE)
PERSON = re.compile(r"(?:Dr\.?\s+)?[A-Z][a-z'-]+(?:\s+[A-Z]\.?)?(?:\s+[A-Z][A-Za-z'-]+)+")


SIGNATURE = re.compile(
    rf"(?:Dr\.?\s+)?[A-Z][a-z'-]+(?:\s+[A-Z]\.?)?(?:\s+[A-Z][A-Za-z'-]+)+,\s*(?:{CREDENTIALS.pattern}[,\s]*)+"
)


@cache
def _names(kind: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The names and aliases of payers.yaml entries of ``kind`` (payer, delegate), longest first."""
    found = [name for entry in payers() if entry.get("kind", "payer") == kind for name in entry["match"]["names"]]
    return tuple(
        (name, re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE)) for name in sorted(found, key=len, reverse=True)
    )


def _named(lines: list[Line], kind: str) -> Found[str] | None:
    """The first name of ``kind`` the letter prints; a name printed as payers.yaml spells it wins over a logo's
    styling of it ("aetna" in the letterhead, "Aetna" in the text)."""
    for exact in (True, False):
        for line in lines:
            hits = [
                match
                for name, pattern in _names(kind)
                for match in pattern.finditer(line.text)
                if not exact or match.group(0) == name
            ]
            if hits:
                best = min(hits, key=lambda match: (match.start(), -len(match.group(0))))
                return Found(best.group(0), Source.of(line))
    return None


def payer_named(lines: list[Line]) -> Found[str] | None:
    """The first payer (not a delegate) the letter names, as it prints the name."""
    return _named(lines, "payer")


def delegate_named(lines: list[Line]) -> Found[str] | None:
    """The first delegate (eviCore, Carelon, ...) the letter names."""
    return _named(lines, "delegate")


def reviewer_fields(lines: list[Line]) -> tuple[Found[str] | None, Found[str] | None, Found[str] | None]:
    """The reviewer's name, credentials and specialty: from a labelled reviewer line ("Reviewed by: ..."), else
    from the letter's signature (a "Name, MD" line after the salutation, not a "cc:" line); the specialty from
    that line or the two under it ("Board certified in ...", "Specialty: ...")."""
    for index, line, rest in _reviewer_lines(lines):
        person = PERSON.match(rest)
        if not person:
            continue
        name = Found(person.group(0).strip(), Source.of(line))
        credentials = None
        creds = list(CREDENTIALS.finditer(rest, person.end()))
        if creds:
            credentials = Found(rest[creds[0].start() : creds[-1].end()], Source.of(line))
        specialty = None
        for candidate in [line, *lines[index + 1 : index + 3]]:
            found = SPECIALTY.search(candidate.text)
            if found:
                specialty = Found(found.group(1).strip(), Source.of(candidate))
                break
        return name, credentials, specialty
    return None, None, None


def _reviewer_lines(lines: list[Line]) -> list[tuple[int, Line, str]]:
    """Candidate reviewer lines, best first: labelled ones, then signatures (last first)."""
    labelled = []
    for index, line in enumerate(lines):
        match = REVIEWER.search(line.text)
        if match and line.text[match.end() :].strip():
            labelled.append((index, line, line.text[match.end() :].strip()))
    salutation = next((i for i, line in enumerate(lines) if SALUTATION.match(line.text)), len(lines) // 3)
    signatures = [
        (index, line, line.text.strip())
        for index, line in enumerate(lines)
        if index > salutation and SIGNATURE.fullmatch(line.text.strip()) and not CC.match(line.text)
    ]
    return labelled + signatures[::-1]
