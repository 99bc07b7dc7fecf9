"""What the letter says about a peer-to-peer conversation (phone, fax, portal, the window to ask in) and about
appeals (the deadline, printed or counted from the period the letter states and its date).

The P2P instructions are the paragraphs that speak of a peer-to-peer ("peer to peer", "speak with the physician
reviewer", ...); only numbers in those paragraphs count, so the member-services line or the appeals fax is never
taken for the P2P line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from smart_app.denials.deadlines import add_business_days
from smart_app.letters.model import Found, Line, Source, Window
from smart_app.letters.paragraphs import joined
from smart_app.letters.patterns import PHONE_PATTERN, URL_PATTERN, find_date, label

P2P_WORDS = re.compile(
    rf"{label('peer to peer')}|{label('peer-to-peer')}|\bP2P\b|peer\s*review\s*(?:conversation|discussion|call)"
    r"|(?:speak|talk|discuss)\w*\s+(?:\w+\s+){0,6}(?:reviewer|medical director|physician who|reviewing physician)",
    re.IGNORECASE,
)
APPEAL_WORDS = re.compile(r"\bappeal", re.IGNORECASE)
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "fourteen": 14, "twenty-one": 21, "thirty": 30, "sixty": 60, "ninety": 90,
}  # fmt: skip
PERIOD = re.compile(
    r"\b(?:within|in|up to|no later than|no more than|have|has|allow)\s+"
    r"(?:(?P<word>[a-z-]+)\s*\(\s*)?(?P<amount>\d{1,3})?\)?\s*"
    r"(?P<unit>calendar\s+days?|business\s+days?|working\s+days?|days?|hours?)\b",
    re.IGNORECASE,
)
FAX_WORD = re.compile(r"\bfax\w*\b", re.IGNORECASE)
PHONE_WORD = re.compile(r"\b(?:call|phone|telephone|tel|at)\b", re.IGNORECASE)


@dataclass(frozen=True)
class P2PFields:
    """The P2P instructions found (each None when the letter does not state it)."""

    phone: Found[str] | None = None
    fax: Found[str] | None = None
    portal: Found[str] | None = None
    window: Found[Window] | None = None


def p2p_fields(groups: list[list[Line]]) -> P2PFields:
    """Phone, fax, portal and window from the paragraphs about a peer-to-peer conversation."""
    phone = fax = portal = window = None
    for group in groups:
        if not P2P_WORDS.search(joined(group)):
            continue
        for line in group:
            for match in PHONE_PATTERN.finditer(line.text):
                is_fax = bool(FAX_WORD.search(line.text[max(0, match.start() - 25) : match.start()]))
                if is_fax and fax is None:
                    fax = Found(match.group(0), Source.of(line))
                elif not is_fax and phone is None:
                    phone = Found(match.group(0), Source.of(line))
            url = URL_PATTERN.search(line.text)
            if url and portal is None:
                portal = Found(url.group(0), Source.of(line))
        found = period(group)
        if found and window is None and not APPEAL_WORDS.search(found[3].text):
            amount, unit, text, line = found
            window = Found(Window(amount, unit, text), Source.of(line))
    return P2PFields(phone, fax, portal, window)


def period(group: list[Line]) -> tuple[int, str, str, Line] | None:
    """The first period the paragraph states ("within 14 calendar days", "within two (2) business days"): amount,
    unit (``hours``, ``calendar-days``, ``business-days``), the words, and the line they are on."""
    for line in group:
        match = PERIOD.search(line.text)
        if not match:
            continue
        amount = int(match["amount"]) if match["amount"] else NUMBER_WORDS.get((match["word"] or "").lower())
        if amount is None:
            continue
        unit_words = match["unit"].lower()
        unit = (
            "hours"
            if unit_words.startswith("hour")
            else "business-days"
            if unit_words.startswith(("business", "working"))
            else "calendar-days"
        )
        return amount, unit, match.group(0), line
    return None


def appeal_deadline(groups: list[list[Line]], decided: datetime | date | None) -> Found[date] | None:
    """The appeal deadline: a date printed in an appeal paragraph, else the period it states counted from the
    letter's date (business days skip weekends and US federal holidays)."""
    for group in groups:
        text = joined(group)
        if not APPEAL_WORDS.search(text) or P2P_WORDS.search(text):
            continue
        for line in group:
            printed = find_date(line.text)
            if printed and re.search(
                r"\b(by|before|no later than|until|on or before)\s*$", line.text[: printed[1].start()], re.I
            ):
                return Found(printed[0], Source.of(line))
        found = period(group)
        if found and decided is not None and found[1] != "hours":
            amount, unit, _, line = found
            start = decided.date() if isinstance(decided, datetime) else decided
            end = add_business_days(start, amount) if unit == "business-days" else start + timedelta(days=amount)
            return Found(end, Source.of(line))
    return None
