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
from smart_app.letters.paragraphs import Paragraph
from smart_app.letters.patterns import DATE_PATTERN, PHONE_PATTERN, URL_PATTERN, find_date, label

P2P_WORDS = re.compile(
    rf"{label('peer to peer')}|{label('peer-to-peer')}|\bP2P\b|peer\s*review\s*(?:conversation|discussion|call)"
    r"|(?:speak|talk|discuss)\w*\s+(?:\w+\s+){0,6}(?:reviewer|medical director|physician who|reviewing physician)"
    r"|(?:call|contact|reach)\s+(?:\w+\s+){0,3}(?:physician reviewer|medical director|reviewing physician)",
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
PRINTED_BY = re.compile(rf"\b(?:by|before|no later than|until|on or before)\s+(?P<date>{DATE_PATTERN.pattern})", re.I)
SENTENCE_END = re.compile(r"(?<=[a-z0-9)][.!?])\s+(?=[A-Z0-9])")
PAYER_TIMING = re.compile(r"\b(?:we will|we'll|will decide|we decide|give you (?:a|our) (?:written )?decision)\b", re.I)
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
        paragraph = Paragraph.of(group)
        text = paragraph.text
        if not P2P_WORDS.search(text):
            continue
        for match in PHONE_PATTERN.finditer(text):
            is_fax = bool(FAX_WORD.search(text[max(0, match.start() - 25) : match.start()]))
            found = Found(match.group(0), Source.of(paragraph.line_at(match.start())))
            if is_fax and fax is None:
                fax = found
            elif not is_fax and phone is None:
                phone = found
        url = URL_PATTERN.search(text)
        if url and portal is None:
            portal = Found(url.group(0), Source.of(paragraph.line_at(url.start())))
        stated = period(paragraph, after=P2P_WORDS)
        if stated and window is None:
            amount, unit, words, line = stated
            window = Found(Window(amount, unit, words), Source.of(line))
    return P2PFields(phone, fax, portal, window)


def period(paragraph: Paragraph, *, after: re.Pattern[str] | None = None) -> tuple[int, str, str, Line] | None:
    """The first period the paragraph states ("within 14 calendar days", "within two (2) business days"), after
    the first match of ``after`` when given, in a sentence that is not about something else (an appeal, when
    looking for the P2P window; when the payer will decide, when looking for the appeal's): amount, unit
    (``hours``, ``calendar-days``, ``business-days``), the words, and the line they start on."""
    start = 0
    if after is not None:
        anchor = after.search(paragraph.text)
        start = anchor.start() if anchor else 0
    for match in PERIOD.finditer(paragraph.text, start):
        amount = int(match["amount"]) if match["amount"] else NUMBER_WORDS.get((match["word"] or "").lower())
        sentence = _sentence(paragraph.text, match.start())
        if amount is None or PAYER_TIMING.search(sentence):
            continue
        if after is P2P_WORDS and APPEAL_WORDS.search(sentence) and not P2P_WORDS.search(sentence):
            continue
        unit_words = match["unit"].lower()
        unit = (
            "hours"
            if unit_words.startswith("hour")
            else "business-days"
            if unit_words.startswith(("business", "working"))
            else "calendar-days"
        )
        return amount, unit, match.group(0), paragraph.line_at(match.start())
    return None


def _sentence(text: str, offset: int) -> str:
    """The sentence of ``text`` around ``offset``."""
    starts = [0, *(m.end() for m in SENTENCE_END.finditer(text, 0, offset))]
    end = SENTENCE_END.search(text, offset)
    return text[starts[-1] : end.start() if end else len(text)]


def appeal_deadline(groups: list[list[Line]], decided: datetime | date | None) -> Found[date] | None:
    """The appeal deadline: a date printed in an appeal sentence ("must be received by May 18, 2027"), else the
    period it states counted from the letter's date (business days skip weekends and US federal holidays); never
    the time the payer gives itself to decide an appeal."""
    for group in groups:
        paragraph = Paragraph.of(group)
        if not APPEAL_WORDS.search(paragraph.text):
            continue
        for match in PRINTED_BY.finditer(paragraph.text):
            printed = find_date(match["date"])
            sentence = _sentence(paragraph.text, match.start())
            if printed and APPEAL_WORDS.search(sentence) and not P2P_WORDS.search(sentence):
                return Found(printed[0], Source.of(paragraph.line_at(match.start("date"))))
        stated = period(paragraph, after=APPEAL_WORDS)
        if stated and decided is not None and stated[1] != "hours":
            amount, unit, words, line = stated
            if P2P_WORDS.search(_sentence(paragraph.text, paragraph.text.index(words))):
                continue
            start = decided.date() if isinstance(decided, datetime) else decided
            end = add_business_days(start, amount) if unit == "business-days" else start + timedelta(days=amount)
            return Found(end, Source.of(line))
    return None
