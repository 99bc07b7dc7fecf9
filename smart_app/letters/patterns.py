"""Forgiving patterns for what a letter prints: labels that survive OCR noise, dates, times, phone numbers, codes.

OCR confuses 0 with O and 1 with l or I, and breaks or glues spaces. Labels are matched with those confusions
allowed; values are returned as the letter prints them, corrected only where a confusion is certain (a letter O in
the digits of a date or a CPT code).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

# Letters OCR reads for one another, as character classes for a forgiving label.
CONFUSED = {"o": "[o0]", "0": "[o0]", "l": "[l1i|]", "i": "[il1|!{\\[]", "1": "[1li|]", "s": "[s5]", "b": "[b8]"}
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
DIGITISH = "[0-9OoIl|]"
MONTH_WORD = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
DATE_PATTERN = re.compile(
    rf"\b(?:{MONTH_WORD}\s*{DIGITISH}{{1,2}},?\s*{DIGITISH}{{4}}"
    rf"|{DIGITISH}{{1,2}}\s*[/-]\s*{DIGITISH}{{1,2}}\s*[/-]\s*{DIGITISH}{{4}}"
    rf"|{DIGITISH}{{4}}-{DIGITISH}{{2}}-{DIGITISH}{{2}}"
    rf"|{DIGITISH}{{1,2}}\s+{MONTH_WORD}\s+{DIGITISH}{{4}})\b",
    re.IGNORECASE,
)
TIME_PATTERN = re.compile(
    r"\b([0-2]?\d)\s*[:.]\s*([0-5]\d)\s*(a\.?\s?m\.?|p\.?\s?m\.?)?\s*"
    r"(eastern|central|mountain|pacific|alaska|hawaii|[ECMP][SD]?T|AK[SD]?T|HST)?(?![a-z])",
    re.IGNORECASE,
)
ZONES = {
    "e": "America/New_York",
    "eastern": "America/New_York",
    "c": "America/Chicago",
    "central": "America/Chicago",
    "m": "America/Denver",
    "mountain": "America/Denver",
    "p": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "ak": "America/Anchorage",
    "alaska": "America/Anchorage",
    "h": "Pacific/Honolulu",
    "hawaii": "Pacific/Honolulu",
}
PHONE_PATTERN = re.compile(r"(?<![\d-])(?:1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\d)")
URL_PATTERN = re.compile(
    r"\b(?:https?://|www\.)[^\s,;)]+[^\s,;).]|\b[a-z0-9-]+\.(?:com|org|net|gov)(?:/[^\s,;)]*)?", re.I
)


LABEL_PUNCTUATION = r"[:#;!|’'.,]{0,3}"  # a label's colon, and what OCR reads a colon as ("ID!’ W27...")


def label(words: str) -> str:
    """A regex for a label as OCR may print it: letters it confuses allowed, spaces optional or doubled."""
    parts = []
    for word in words.lower().split():
        parts.append(r"\s?".join(CONFUSED.get(char, re.escape(char)) for char in word))
    return r"\s*[^\w\s]{0,2}\s*".join(parts)  # between words: a stray mark from the scan ("Reference 'number")


def labels(*names: str) -> re.Pattern[str]:
    """One pattern for several labels, each matched as whole words and followed by an optional ``:``/``#``; a name
    ending in ``:`` (a word too common to be a label alone, "Member:") needs its colon. Longer names first."""
    alternatives = "|".join(
        label(name[:-1]) + r"\s*[:;!|’']{1,3}" if name.endswith(":") else label(name)
        for name in sorted(names, key=len, reverse=True)
    )
    return re.compile(
        rf"(?<![a-z])(?:{alternatives})(?![a-z])(?:\s*\([A-Z]{{2,6}}\))?\s*(?:#|no\.|number)?\s*{LABEL_PUNCTUATION}\s*",
        re.IGNORECASE,
    )


def digits(text: str) -> str:
    """OCR's letter lookalikes in a run of digits turned back into digits (O -> 0, l/I/| -> 1)."""
    return text.translate(str.maketrans("OoIl|", "00111"))


def parse_date(text: str) -> date | None:
    """The date a matched date string means (US order for numeric dates), or None when it is no real date."""
    cleaned = re.sub(r"\s+", " ", text.strip())
    try:
        if re.fullmatch(r"[0-9OoIl|]{4}-[0-9OoIl|]{2}-[0-9OoIl|]{2}", cleaned):
            return date.fromisoformat(digits(cleaned))
        numeric = re.fullmatch(r"([0-9OoIl|]{1,2})\s*[/-]\s*([0-9OoIl|]{1,2})\s*[/-]\s*([0-9OoIl|]{4})", cleaned)
        if numeric:
            month_number, day_number, year_number = (int(digits(part)) for part in numeric.groups())
            return date(year_number, month_number, day_number)
        words = re.fullmatch(rf"({MONTH_WORD})\s*([0-9OoIl|]{{1,2}}),?\s*([0-9OoIl|]{{4}})", cleaned, re.IGNORECASE)
        if words:
            month_word, day_text, year_text = words.groups()
            return date(int(digits(year_text)), MONTHS[month_word.lower().rstrip(".")], int(digits(day_text)))
        european = re.fullmatch(rf"([0-9OoIl|]{{1,2}})\s+({MONTH_WORD})\s+([0-9OoIl|]{{4}})", cleaned, re.IGNORECASE)
        if european:
            day_text, month_word, year_text = european.groups()
            return date(int(digits(year_text)), MONTHS[month_word.lower().rstrip(".")], int(digits(day_text)))
    except (ValueError, KeyError):
        return None
    return None


def find_date(text: str) -> tuple[date, re.Match[str]] | None:
    """The first real date in ``text`` and its match."""
    for match in DATE_PATTERN.finditer(text):
        found = parse_date(match.group(0))
        if found is not None:
            return found, match
    return None


def find_time(text: str) -> tuple[time, ZoneInfo | None] | None:
    """A clock time (12- or 24-hour) and its US zone when printed ("4:35 PM ET", "16:35 Eastern")."""
    for match in TIME_PATTERN.finditer(text):
        hour, minute, meridiem, zone = match.groups()
        hour_number = int(hour)
        if meridiem:
            if not 1 <= hour_number <= 12:
                continue
            hour_number = hour_number % 12 + (12 if meridiem.lower().startswith("p") else 0)
        if hour_number > 23 or not (meridiem or zone):
            continue
        return time(hour_number, int(minute)), _zone(zone)
    return None


def _zone(text: str | None) -> ZoneInfo | None:
    """The zone a printed abbreviation or word names (ET, EST, EDT, Eastern -> America/New_York)."""
    if not text:
        return None
    key = text.lower()
    if key not in ZONES:
        key = "ak" if key.startswith("ak") else key[0] if key.endswith("t") and len(key) in (2, 3) else key
    return ZoneInfo(ZONES[key]) if key in ZONES else None


def at(day: date, clock: tuple[time, ZoneInfo | None] | None) -> datetime | date:
    """The day alone, or the day at the printed time in its zone."""
    if clock is None:
        return day
    return datetime.combine(day, clock[0], clock[1])
