"""When a pended request's records are due: a date or a period the payer's own words state, counted from its answer.

Da Vinci PAS has no due-date element on the ClaimResponse: a payer that wants more information sends a CDex
attachment request (PAS ``Task`` profile, ``restriction.period`` must-support), and CDex says
"``Task.restriction.period.end`` is the due date representing the time by which the Provider should have
submitted the attachments" (HL7 Da Vinci CDex, Requesting Attachments). Today the due date reaches the practice in
the words of the answer or the letter ("within 14 calendar days of this notice"), so those words are read here:
an explicit date ("by December 7, 2026") is taken as written; a period is counted from the answer's decision date
with ``smart_app.denials.deadlines`` (business days skip weekends and US federal holidays). Plain "days" is
counted as calendar days, the earlier reading, and the basis says so. Nothing stated: no date, and where to look.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from smart_app.denials.deadlines import Deadline, WindowRule, p2p_deadline
from smart_app.denials.pas import Denial
from smart_app.denials.window import time_left

WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty-five": 45, "sixty": 60, "ninety": 90,
}  # fmt: skip
_NUMBER = r"(?P<number>\d{1,3}|" + "|".join(WORD_NUMBERS) + r")(?:\s*\(\d{1,3}\))?"
PERIOD = re.compile(
    rf"\b(?:within|in|no later than|not later than)\s+{_NUMBER}\s+"
    r"(?P<kind>calendar\s+|business\s+|working\s+)?(?P<unit>days?|hours?)\b",
    re.IGNORECASE,
)
MONTHS = {
    name: number
    for number, full in enumerate(
        "january february march april may june july august september october november december".split(), start=1
    )
    for name in (full, full[:3], "sept" if full == "september" else full)
}
DATE = re.compile(
    r"\b(?:by|no later than|not later than|on or before)\s+(?:\w+day,?\s+)?"
    r"(?P<date>(?P<month>[A-Za-z]+)\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})|\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})",
    re.IGNORECASE,
)
#: A sentence about sending something back: "the authorization is valid within 90 days" dates no records.
ASKS_FOR_RECORDS = re.compile(
    r"\b(?:send|submit|provide|fax|upload|respond|response|receive[ds]?|records?|information|documentation)\b",
    re.IGNORECASE,
)
WHERE_TO_LOOK = (
    "The payer's answer states no due date for the records. Look on the denial letter for a 'respond by' date or "
    "'within N days', usually in the paragraph that lists what to send; if there is none, ask the payer when you "
    "send them (the app's advice: send them as soon as possible, because the payer may decide on what it has)."
)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _explicit_date(match: re.Match[str]) -> date | None:
    text = match.group("date")
    try:
        if match.group("month"):
            month = MONTHS.get(match.group("month").lower())
            return date(int(match.group("year")), month, int(match.group("day"))) if month else None
        if "/" in text:
            month_s, day_s, year_s = text.split("/")
            return date(int(year_s), int(month_s), int(day_s))
        return date.fromisoformat(text)
    except ValueError:
        return None


def _rule(match: re.Match[str]) -> tuple[WindowRule, str]:
    raw = match.group("number").lower()
    amount = int(raw) if raw.isdigit() else WORD_NUMBERS[raw]
    kind = (match.group("kind") or "").strip().lower()
    if match.group("unit").lower().startswith("hour"):
        return WindowRule(amount, "hours"), ""
    if kind in ("business", "working"):
        return WindowRule(amount, "business-days"), ""
    note = "" if kind else " (the answer says 'days' without 'calendar' or 'business': counted as calendar days)"
    return WindowRule(amount, "calendar-days"), note


def _found(closes: datetime, basis: str, sentence: str, denial: Denial, now: datetime) -> dict[str, Any]:
    return {
        "deadline": closes.isoformat(),
        "basis": basis,
        "quote": sentence,
        "source": f"The payer's own words in its answer ({denial.claim_response_ref or 'the denial'})",
        "timeLeft": time_left(closes, now),
        "closed": closes.timestamp() <= now.timestamp(),
    }


def _from_sentence(sentence: str, denial: Denial, zone: ZoneInfo, now: datetime) -> dict[str, Any] | None:
    if not ASKS_FOR_RECORDS.search(sentence):
        return None
    stated = DATE.search(sentence)
    if stated and (day := _explicit_date(stated)):
        closes = datetime.combine(day, time(23, 59, 59), zone)
        return _found(closes, f"As the payer states: by {day:%Y-%m-%d}.", sentence, denial, now)
    period = PERIOD.search(sentence)
    if not period:
        return None
    rule, note = _rule(period)
    if denial.decided_at is None:
        return {
            "deadline": None,
            "basis": "The answer states a period but carries no date to count it from: count it from the date "
            "printed near the top of the letter.",
            "quote": sentence,
            "source": f"The payer's own words in its answer ({denial.claim_response_ref or 'the denial'})",
            "timeLeft": None,
            "closed": False,
        }
    decided = denial.decided_at if denial.decided_at.tzinfo else denial.decided_at.replace(tzinfo=zone)
    deadline: Deadline = p2p_deadline(decided, rule, zone)
    basis = "As the payer states: " + deadline.basis.replace("from the decision", "from its answer") + note + "."
    return _found(deadline.closes_at, basis, sentence, denial, now)


def records_due(denial: Denial, zone: ZoneInfo, now: datetime) -> dict[str, Any] | None:
    """The ``recordsDue`` of the brief JSON for a pended answer (None for any other): ``deadline`` (ISO, or None),
    ``basis``, ``quote`` (the sentence it came from), ``source``, ``closed``.

    The earliest of the stated dates wins; with none stated, ``deadline`` is None and ``basis`` says where to look.
    """
    if denial.decision != "pended":
        return None
    texts = [t for item in denial.items if item.decision == "pended" for t in item.reason_text] + denial.notes
    found = [f for s in _sentences("\n".join(dict.fromkeys(texts))) if (f := _from_sentence(s, denial, zone, now))]
    dated = [f for f in found if f["deadline"]]
    if dated:
        return min(dated, key=lambda f: datetime.fromisoformat(f["deadline"]).timestamp())
    if found:
        return found[0]
    return {"deadline": None, "basis": WHERE_TO_LOOK, "quote": None, "source": None, "timeLeft": None, "closed": False}
