"""The denial's fields found in a letter's lines, each with the line it was read from: pure functions over text.

Payers label the same thing many ways ("Member ID", "Subscriber #", "Identification Number"), and OCR adds noise,
so labels are matched forgivingly (``patterns.labels``); values are returned as printed. A field the letter does not
state is None: nothing here guesses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from smart_app.letters import services as service_finder
from smart_app.letters.model import Found, LetterFields, LetterText, Line, Source
from smart_app.letters.p2p import appeal_deadline, p2p_fields
from smart_app.letters.paragraphs import joined, paragraphs
from smart_app.letters.parties import delegate_named, payer_named, reviewer_fields
from smart_app.letters.patterns import DATE_PATTERN, at, find_date, find_time, labels, parse_date
from smart_app.letters.policy import policy_fields

MEMBER_ID = labels(
    "member id", "member identification number", "member number", "member #", "subscriber id", "subscriber number",
    "identification number", "id number", "medicaid id", "medicare id", "health plan id", "enrollee id", "id:",
)  # fmt: skip
PATIENT = labels("patient name", "member name", "enrollee name", "patient:", "member:", "enrollee:", "re:", "name:")
BIRTH = labels("date of birth", "birth date", "birthdate", "dob", "d.o.b.")
REFERENCE = labels(
    "reference number", "reference", "case number", "case id", "case", "authorization number",
    "authorization", "auth number", "auth", "request number", "request id", "tracking number", "episode number",
    "episode id", "prior authorization number", "notification number", "determination number", "ref:",
    "precert", "precertification number", "precertification", "certification number", "pa number", "pa #",
)  # fmt: skip
DECIDED = labels(
    "decision date and time", "date and time of decision", "date and time of determination", "decision date",
    "date of decision", "determination date", "date of determination", "date of notice",
    "notice date", "letter date", "date of letter", "date decided", "decided on", "date issued", "date:",
)  # fmt: skip
DECIDED_TIME = labels("decision time", "time of decision", "time decided", "time")
REASON = labels(
    "reason for denial", "reason for the denial", "reason for decision", "reason for our decision",
    "reason for this decision", "reason for the decision", "reason for determination", "denial reason",
    "reason for pend", "reason for pending", "reason", "rationale", "clinical rationale", "decision rationale",
    "explanation", "basis for decision", "basis for our decision", "why we made this decision",
    "why your request was denied", "what we decided and why", "information needed", "what we need",
)  # fmt: skip
REASON_CUES = tuple(
    re.compile(cue, re.IGNORECASE)
    for cue in (
        r"not (medically )?necessary|not approved|not certif|not covered|unable to approve|\bdenied\b|\bdenial\b",
        r"does not meet|did not meet|not met\b|does not show|did not show|no documentation|not documented",
        r"\bcriteria\b|\brequires?\b|\brequired\b|\bdocumentation\b|\bpended\b",
        r"please (submit|send)|we need|missing|not (received|provided|included)|\bexcluded\b|\bexclusion\b",
    )
)
MIN_REASON_SCORE = 2
ENUMERATION = re.compile(r"^(?:\(?\d{1,2}[.)]|[A-Z][.)]|[•·-])\s+")
VALUE_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{2,}[A-Za-z0-9]")
NAME_VALUE = re.compile(r"[A-Z][A-Za-z'.-]+(?:,?\s+[A-Z][A-Za-z'.-]*){1,3}")
DECISIONS = (
    ("partial", re.compile(r"partial(ly)?\s+(approv|den)|approved in part|denied in part|modified", re.I)),
    (
        "pended",
        re.compile(r"\bpend(ed|ing)?\b|additional information (is )?(needed|required)|need(s)? (more|add)", re.I),
    ),
    ("denied", re.compile(r"\bden(ied|ial)\b|not approved|adverse (benefit )?determination|unable to approve", re.I)),
)
DECISION_LABEL = labels("decision", "determination", "status", "outcome", "review decision", "request status")
HEAD_LINES = 25  # where a letter's date, payer and addressee sit


def find_fields(text: LetterText) -> LetterFields:
    """Every field the letter states, each with its source line; a field not found is None."""
    lines = [line for line in text.lines if line.text.strip()]
    groups = paragraphs(lines)
    decided = decided_at(lines)
    p2p = p2p_fields(groups)
    reviewer = reviewer_fields(lines)
    return LetterFields(
        payer=payer_named(lines),
        delegate=delegate_named(lines),
        member_id=_token_after(lines, MEMBER_ID),
        patient_name=_name_after(lines, PATIENT),
        birth_date=_date_after(lines, BIRTH),
        reference=_token_after(lines, REFERENCE),
        decided_at=decided,
        services=service_finder.services(lines),
        reason_text=reason_text(groups),
        **policy_fields(groups),
        p2p_phone=p2p.phone,
        p2p_fax=p2p.fax,
        p2p_portal=p2p.portal,
        p2p_window=p2p.window,
        reviewer_name=reviewer[0],
        reviewer_credentials=reviewer[1],
        reviewer_specialty=reviewer[2],
        appeal_deadline=appeal_deadline(groups, decided.value if decided else None),
        decision=decision(lines),
        notes=tuple(page.note for page in text.pages if page.note),
    )


def _after_label(lines: Iterable[Line], pattern: re.Pattern[str]) -> Iterable[tuple[Line, str]]:
    """Each labelled line and what follows its label (up to the next label on the same row), then the next line's
    text when the label ends its line."""
    listed = list(lines)
    for index, line in enumerate(listed):
        for match in pattern.finditer(line.text):
            if match.start() and line.text[match.start() - 1].isalnum():
                continue
            rest = _cut(line.text[match.end() :])
            if rest:
                yield line, rest
            elif index + 1 < len(listed):
                yield listed[index + 1], _cut(listed[index + 1].text)


def _cut(text: str) -> str:
    """A value up to the next column (two spaces) or the next ``Label:`` on the same row."""
    value = re.split(r"\s{2,}|\s+(?=[A-Z][A-Za-z /#.]{1,30}:)", text.strip(), maxsplit=1)[0]
    return value.strip(" \t;,")


def _token_after(lines: list[Line], pattern: re.Pattern[str]) -> Found[str] | None:
    for line, rest in _after_label(lines, pattern):
        token = VALUE_TOKEN.match(rest)
        if token and any(char.isdigit() for char in token.group(0)):
            return Found(token.group(0), Source.of(line))
    return None


def _name_after(lines: list[Line], pattern: re.Pattern[str]) -> Found[str] | None:
    for line, rest in _after_label(lines, pattern):
        name = NAME_VALUE.match(rest)
        if name and not any(char.isdigit() for char in name.group(0)):
            return Found(name.group(0).rstrip(" ,."), Source.of(line))
    return None


def _date_after(lines: list[Line], pattern: re.Pattern[str]) -> Found[date] | None:
    for line, rest in _after_label(lines, pattern):
        found = find_date(rest)
        if found and found[1].start() < 4:
            return Found(found[0], Source.of(line))
    return None


def decided_at(lines: list[Line]) -> Found[datetime | date] | None:
    """The decision's date (and time, with its zone, when printed): a labelled decision or letter date, else the
    first date at the head of the letter that is no birth date. A labelled date printed without a time takes the
    time the letter gives that same day elsewhere ("On 11/19/2026 at 10:05 AM ET we decided ...")."""
    found = _decision_date(lines)
    if found is None:
        return None
    day, line, after = found
    clock = find_time(after[:40]) or _time_that_day(lines, day)
    return Found(at(day, clock), Source.of(line))


def _decision_date(lines: list[Line]) -> tuple[date, Line, str] | None:
    for line, rest in _after_label(lines, DECIDED):
        if BIRTH.search(line.text) and not DECIDED.match(line.text):
            continue
        found = find_date(rest)
        if found and found[1].start() < 4:
            return found[0], line, rest[found[1].end() :]
    for line in lines[:HEAD_LINES]:
        if BIRTH.search(line.text) or re.search(r"service|received|birth", line.text, re.I):
            continue
        found = find_date(line.text)
        if found and found[1].start() < 4:
            return found[0], line, line.text[found[1].end() :]
    return None


def _time_that_day(lines: list[Line], day: date) -> tuple[time, ZoneInfo | None] | None:
    """A time printed right after the same date on another line (or across its line break)."""
    for index, line in enumerate(lines):
        text = line.text + (" " + lines[index + 1].text if index + 1 < len(lines) else "")
        for match in DATE_PATTERN.finditer(line.text):
            if parse_date(match.group(0)) != day or BIRTH.search(line.text):
                continue
            clock = find_time(text[match.end() : match.end() + 30])
            if clock and clock[1] is not None:
                return clock
    return None


def reason_text(groups: list[list[Line]]) -> Found[str] | None:
    """The reason, verbatim: the labelled paragraph (from after its label), or the label's next paragraph when the
    label stands alone as a heading ("1. WHY WE MADE THIS DECISION"); else the paragraph that says most about why
    (``REASON_CUES``), never one about appeals or the peer-to-peer."""
    for index, group in enumerate(groups):
        first = group[0]
        heading = ENUMERATION.sub("", first.text.strip())
        match = REASON.match(heading)
        if not match or (len(heading) > match.end() and not heading[match.end() - 1 : match.end()].strip(" :")):
            continue
        rest = heading[match.end() :].strip()
        if rest and match.group(0).rstrip().endswith((":", "-")):
            return Found(joined([Line(first.page, rest), *group[1:]]), Source.of(first))
        if not rest and len(group) > 1:
            return Found(joined(group[1:]), Source.of(group[1]))
        if not rest and index + 1 < len(groups):
            following = groups[index + 1]
            return Found(joined(following), Source.of(following[0]))
    scored = [(_why_score(joined(group)), -index, group) for index, group in enumerate(groups)]
    best = max(scored, key=lambda item: item[:2], default=None)
    if best is None or best[0] < MIN_REASON_SCORE:
        return None
    return Found(joined(best[2]), Source.of(best[2][0]))


def _why_score(text: str) -> int:
    if re.search(r"\bappeal|peer[- ]to[- ]?peer|\bsincerely\b", text, re.IGNORECASE) and not re.search(
        r"not approved|not medically necessary|does not meet|not met", text, re.IGNORECASE
    ):
        return 0
    return sum(len(cue.findall(text)) for cue in REASON_CUES)


def decision(lines: list[Line]) -> Found[str] | None:
    """``denied``, ``pended`` or ``partial``: from a labelled decision line first, else the first line that says."""
    for line, rest in _after_label(lines, DECISION_LABEL):
        for value, pattern in DECISIONS:
            if pattern.search(rest):
                return Found(value, Source.of(line))
    for value, pattern in DECISIONS:
        for line in lines:
            if pattern.search(line.text):
                return Found(value, Source.of(line))
    return None
