"""Values printed after a label: "Member ID: W123", "Patient  Raymond T. Quillfeather  DOB  03/14/1974".

A label without its colon counts only where a cell starts (the line's start, after a column gap, after "RE:"),
so "Member" inside a sentence is never a label. A value runs to the next column gap (two spaces) or the next
"Label:" on the row; a label that ends its line takes the next line as its value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from smart_app.letters.model import Found, Line, Source
from smart_app.letters.patterns import DATE_PATTERN, at, find_date, find_time, labels, parse_date

MEMBER_ID = labels(
    "member id", "member identification number", "member number", "member #", "subscriber id", "subscriber number",
    "identification number", "id number", "medicaid id", "medicare id", "health plan id", "enrollee id", "id:",
    "customer id", "customer number", "recipient id", "beneficiary id",
)  # fmt: skip
PATIENT = labels(
    "patient name", "member name", "enrollee name", "customer name", "beneficiary name", "name of patient",
    "patient", "member", "enrollee", "customer", "beneficiary",
)  # fmt: skip
PATIENT_FALLBACK = labels("re:", "name:")
BIRTH = labels("date of birth", "birth date", "birthdate", "dob", "d.o.b.")
REFERENCE = labels(
    "reference number", "reference", "case number", "case id", "case", "authorization number",
    "authorization", "auth number", "auth", "request number", "request id", "tracking number", "episode number",
    "episode id", "prior authorization number", "notification number", "determination number", "ref:",
    "precert", "precertification number", "precertification", "certification number", "pa number", "pa #",
    "order id", "order number",
)  # fmt: skip
DECIDED = labels(
    "decision date and time", "date and time of decision", "date and time of determination", "decision date",
    "date of decision", "determination date", "date of determination", "date of notice", "determination",
    "notice date", "letter date", "date of letter", "date decided", "decided on", "decided", "date issued", "date:",
)  # fmt: skip
SALUTATION = re.compile(r"^\s*Dear\s+(?!Dr\b|Doctor\b|Provider\b|Member\b|Sir\b)(?P<name>[^:,]+?)\s*[:,]\s*$")
CREDENTIAL_WORDS = re.compile(r"\b(MD|DO|NP|PA|RN|PhD|DPM|DDS)\b")
VALUE_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{2,}[A-Za-z0-9]")
NAME_VALUE = re.compile(r"[A-Z][A-Za-z'.-]+(?:,?\s[A-Z][A-Za-z'.-]*){1,3}")
NOT_NAME_WORDS = re.compile(r"\b(ID|Services?|Number|Denial|Notice|Copy|Plan|Group|Care|Department)\b")
SCAN_MARKS = " \"'_;:.,-—|~`"  # specks OCR reads as marks at a row's start
HEAD_LINES = 25  # where a letter's date, payer and addressee sit


def after_label(lines: list[Line], pattern: re.Pattern[str]) -> Iterator[tuple[int, Line, str]]:
    """Each labelled line's index, the line, and what follows its label (the next line's text when the label ends
    its line)."""
    for index, line in enumerate(lines):
        for match in pattern.finditer(line.text):
            before = line.text[: match.start()]
            punctuated = bool(re.search(r"[:#;!|]", match.group(0)))
            cell_start = not before.strip(SCAN_MARKS) or before.endswith("  ") or re.search(r"(?i)\bre:\s*$", before)
            if (before and before[-1].isalnum()) or not (punctuated or cell_start):
                continue
            rest = cut(line.text[match.end() :])
            if rest:
                yield index, line, rest
            elif index + 1 < len(lines) and not line.text[match.end() :].strip():
                yield index + 1, lines[index + 1], cut(lines[index + 1].text)


def cut(text: str) -> str:
    """A value up to the next column (two spaces) or the next ``Label:`` on the same row."""
    value = re.split(r"\s{2,}|\s+(?=[A-Z][A-Za-z /#.]{1,30}:)", text.strip(), maxsplit=1)[0]
    return value.strip(" \t;,")


def token_after(lines: list[Line], pattern: re.Pattern[str]) -> Found[str] | None:
    """The first identifier (letters, digits and dashes, at least one digit) after the label."""
    for _, line, rest in after_label(lines, pattern):
        token = VALUE_TOKEN.search(rest)  # a speck read as a letter may come first ("n A265771820")
        if token and any(char.isdigit() for char in token.group(0)):
            return Found(token.group(0), Source.of(line))
    return None


def patient_name(lines: list[Line]) -> Found[str] | None:
    """The patient's name after a member or patient label, else after "RE:", else the salutation of a letter
    addressed to the member ("Dear Delphine M. Brightwater:", never "Dear Dr. ...")."""
    for pattern in (PATIENT, PATIENT_FALLBACK):
        for index, line, rest in after_label(lines, pattern):
            name = NAME_VALUE.match(rest)
            if name and not any(char.isdigit() for char in name.group(0)) and not NOT_NAME_WORDS.search(name[0]):
                value = name.group(0).rstrip(" ,.")
                if rest.endswith("-") and value == rest and index + 1 < len(lines):
                    value += _continued(lines[index + 1].text)  # "Fairweather-" / "Ruiz"
                return Found(value, Source.of(line))
    for line in lines:
        salutation = SALUTATION.match(line.text)
        if salutation and not CREDENTIAL_WORDS.search(salutation["name"]):
            return Found(salutation["name"], Source.of(line))
    return None


def _continued(text: str) -> str:
    first = cut(text)
    return first if re.fullmatch(r"[A-Z][a-z'-]+", first) else ""


def date_after(lines: list[Line], pattern: re.Pattern[str]) -> Found[date] | None:
    """The first date right after the label."""
    for _, line, rest in after_label(lines, pattern):
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
    day, index, after = found
    clock = find_time(after[:40])
    if clock and clock[1] is None and index + 1 < len(lines) and len(lines[index + 1].text.split()) <= 2:
        clock = find_time(after[:40] + " " + lines[index + 1].text) or clock  # "9:14 AM" / "MT"
    return Found(at(day, clock or _time_that_day(lines, day)), Source.of(lines[index]))


def _decision_date(lines: list[Line]) -> tuple[date, int, str] | None:
    for _, line, rest in after_label(lines, DECIDED):
        found = find_date(rest)
        if found and found[1].start() < 4:
            return found[0], lines.index(line), rest[found[1].end() :]
    for index, line in enumerate(lines[:HEAD_LINES]):
        if BIRTH.search(line.text) or re.search(r"service|received|birth", line.text, re.I):
            continue
        found = find_date(line.text)
        if found and found[1].start() < 4:
            return found[0], index, line.text[found[1].end() :]
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
