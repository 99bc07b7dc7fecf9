"""Who the letter is from (the payer, and a delegate such as eviCore deciding for it) and who reviewed the request.

Payers and delegates are recognised by the names and aliases of ``criteria/payers.yaml`` through the same lookup
as the ClaimResponse's insurer (``denials.payers``); the value is the name as the letter prints it.
"""

from __future__ import annotations

import re
from functools import cache

from smart_app.denials.payers import payers
from smart_app.letters.model import Found, Line, Source
from smart_app.letters.paragraphs import Paragraph
from smart_app.letters.patterns import labels

REVIEWER = labels(
    "reviewed by", "reviewer", "physician reviewer", "reviewing physician", "peer reviewer", "clinical reviewer",
    "determination made by", "decision made by", "decision was made by", "made by", "physician advisor",
    "medical reviewer", "reviewer name", "reviewing provider",
)  # fmt: skip
CREDENTIALS = re.compile(
    r"\b(?:M\.?D\.?|D\.?O\.?|MBBS|Pharm\.?\s?D\.?|R\.?Ph\.?|R\.?N\.?|DDS|DMD|DPM|D\.?C\.?|N\.?P\.?|PA-C|PhD|FACR|FACS"
    r"|FAAOS|FACC|FACP|FAAN|FAAFP|FACOG|MPH|MBA|MS|BSN)(?![A-Za-z])",
)
CREDENTIAL_RUN = re.compile(rf"(?:,?\s*{CREDENTIALS.pattern})+")
SPECIALTY_AFTER_CREDENTIALS = (
    re.compile(r"^\s*,?\s*\((?P<s>[^)]+)\)"),  # "MD (Endocrinology, Diabetes & Metabolism)"
    re.compile(r"^\s*,\s*(?P<s>[A-Z][A-Za-z&/ -]+?)\s*\.(?:\s|$)"),  # "MD, Family Medicine."
)
SPECIALTY_ANYWHERE = (
    re.compile(r"board[- ]certified\s+in\s+(?P<s>[A-Z][^.;()]*?)\s*(?:[.;(]|$)", re.IGNORECASE),
    re.compile(r"specialty\s*(?:is|:)\s*(?P<s>[A-Z][^.;()]*?)\s*(?:[.;(]|$)", re.IGNORECASE),
    re.compile(r"(?:Director|Reviewer|Advisor)\s*\((?P<s>[^)]+)\)"),  # "Medical Director (Cardiovascular Disease)"
    re.compile(
        r"(?:Director|Reviewer|Advisor),\s*(?P<s>[A-Z][A-Za-z&/ -]+?)\s*$"
    ),  # "Physician Reviewer, Sleep Medicine"
)
SALUTATION = re.compile(r"^\s*(?:dear|to whom)\b", re.IGNORECASE)
CC = re.compile(r"^\s*(?:cc|copy to)\b", re.IGNORECASE)
PERSON = re.compile(r"(?:Dr\.?\s+)?[A-Z][a-z'-]+(?:\s+[A-Z]\.?)?(?:\s+[A-Z][A-Za-z'-]+)+")
SIGNATURE = re.compile(  # "Marcus L. Whitfield, MD": a name and credentials alone on a line
    rf"(?:Dr\.?\s+)?[A-Z][a-z'-]+(?:\s+[A-Z]\.?)?(?:\s+[A-Z][A-Za-z'-]+)+,\s*(?:{CREDENTIALS.pattern}[,\s]*)+"
)
NAME_WORD = re.compile(r"[A-Z][A-Za-z]+|&|of|and")


@cache
def _names(kind: str) -> tuple[tuple[str, frozenset[str], re.Pattern[str]], ...]:
    """(alias, the words of its entry's name, pattern) for payers.yaml entries of ``kind``, longest alias first."""
    found = [
        (name, frozenset(entry["name"].split()))
        for entry in payers()
        if entry.get("kind", "payer") == kind
        for name in entry["match"]["names"]
    ]
    return tuple(
        (name, words, re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE))
        for name, words in sorted(found, key=lambda item: len(item[0]), reverse=True)
    )


@cache
def _canonical(kind: str) -> frozenset[str]:
    """The names payers.yaml spells for ``kind``: aliases, and each entry's name without its parenthesis."""
    entries = [entry for entry in payers() if entry.get("kind", "payer") == kind]
    names = {name for entry in entries for name in entry["match"]["names"]}
    return frozenset(names | {entry["name"].split(" (")[0] for entry in entries})


def _extended(text: str, end: int, entry_words: frozenset[str]) -> str:
    """The name running on from an alias: capitalised words and "of"/"and" between them ("Aetna Better Health of
    Illinois", "Anthem Blue Cross and Blue Shield"), or a word of the payers.yaml name ("eviCore healthcare")."""
    words: list[str] = []
    for match in re.finditer(r"( )(\S+)", text[end:]):
        if match.start() != (sum(len(w) + 1 for w in words)):
            break  # a column gap or punctuation ended the name
        word = match.group(2)
        bare = word.rstrip(",.;:")
        if not (NAME_WORD.fullmatch(bare) or bare in entry_words) or bare.isupper() and len(bare) <= 3:
            break
        words.append(bare)
        if bare != word:
            break
    while words and words[-1] in {"of", "and", "&"}:
        words.pop()
    return " ".join(words)


def _named(lines: list[Line], kind: str) -> Found[str] | None:
    """The name of ``kind`` the letter prints most often, in full as printed ("Cigna Healthcare"); between names
    printed as often, one payers.yaml spells ("UnitedHealthcare" before "UHC Appeals"), then the shorter. An alias
    printed as payers.yaml spells it counts before a logo's styling of it ("aetna")."""
    for exact in (True, False):
        counts: dict[str, list[Line]] = {}
        for line in lines:
            hits = [
                (match, words)
                for alias, words, pattern in _names(kind)
                for match in pattern.finditer(line.text)
                if not exact or match.group(0) == alias
            ]
            covered = -1
            for match, words in sorted(hits, key=lambda hit: (hit[0].start(), -len(hit[0].group(0)))):
                if match.start() < covered:
                    continue  # inside a name already read ("Blue Shield" in "Anthem Blue Cross and Blue Shield")
                more = _extended(line.text, match.end(), words)
                name = f"{match.group(0)} {more}" if more else match.group(0)
                covered = match.start() + len(name)
                counts.setdefault(name, []).append(line)
        if counts:
            name = min(counts, key=lambda n: (-len(counts[n]), n not in _canonical(kind), len(n)))
            return Found(name, Source.of(counts[name][0]))
    return None


def payer_named(lines: list[Line]) -> Found[str] | None:
    """The payer (not a delegate) the letter names, as it prints the name."""
    return _named(lines, "payer")


def delegate_named(lines: list[Line]) -> Found[str] | None:
    """The delegate (eviCore, Carelon, ...) deciding for the payer, as the letter prints its name."""
    return _named(lines, "delegate")


Reviewer = tuple[Found[str] | None, Found[str] | None, Found[str] | None]


def reviewer_fields(lines: list[Line], groups: list[list[Line]]) -> Reviewer:
    """The reviewer's name, credentials and specialty: after a reviewer label, in a line or a sentence ("The
    decision was made by Patricia Vance-Oduya, MD, Family Medicine"), else the letter's signature (a "Name, MD"
    line after the salutation, not a "cc:" line), the specialty from the lines under it."""
    for group in groups:
        paragraph = Paragraph.of(group)
        for label in REVIEWER.finditer(paragraph.text):
            person = PERSON.match(paragraph.text, label.end())
            if person and (":" in label.group(0) or CREDENTIAL_RUN.match(paragraph.text, person.end())):
                last_line = paragraph.line_at(person.end())
                following = lines[lines.index(last_line) + 1 : lines.index(last_line) + 3]
                return _reviewer(paragraph, person, following)
    salutation = next((i for i, line in enumerate(lines) if SALUTATION.match(line.text)), len(lines) // 3)
    for index in range(len(lines) - 1, salutation, -1):
        line = lines[index]
        if SIGNATURE.fullmatch(line.text.strip()) and not CC.match(line.text):
            paragraph = Paragraph.of([line])
            person = PERSON.match(paragraph.text)
            if person:
                return _reviewer(paragraph, person, lines[index + 1 : index + 3])
    return None, None, None


def _reviewer(paragraph: Paragraph, person: re.Match[str], following: list[Line]) -> Reviewer:
    text = paragraph.text
    name = Found(person.group(0).strip(), Source.of(paragraph.line_at(person.start())))
    credentials = specialty = None
    run = CREDENTIAL_RUN.match(text, person.end())
    after = person.end()
    if run:
        value = run.group(0).strip(" ,")
        credentials = Found(value, Source.of(paragraph.line_at(run.start() + run.group(0).index(value))))
        after = run.end()
    for pattern in SPECIALTY_AFTER_CREDENTIALS if run else ():
        found = pattern.match(text[after:])
        if found:
            return name, credentials, Found(found["s"].strip(), Source.of(paragraph.line_at(after + found.start("s"))))
    rest = Paragraph.of([Line(paragraph.line_at(after).page, text[after : after + 200])])
    for candidate, source in [(rest.text, paragraph.line_at(after)), *((line.text, line) for line in following)]:
        for pattern in SPECIALTY_ANYWHERE:
            found = pattern.search(candidate)
            if found:
                specialty = Found(found["s"].strip(), Source.of(source))
                return name, credentials, specialty
    return name, credentials, specialty
