"""The P2P request window as a date-time: business days, calendar days or hours from the denial's decision.

The denial's own decision time is the clock. Business days skip weekends and US federal holidays (the
``holidays`` package, observed dates included), counted in the practice's time zone; a window of N days ends
at the end of the Nth day. Every deadline carries its basis in words, so the brief can say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

UNITS = ("business-days", "calendar-days", "hours")


@dataclass(frozen=True)
class WindowRule:
    """How long a payer leaves to request the P2P: ``amount`` of ``unit`` from the decision."""

    amount: int
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"window unit must be one of {', '.join(UNITS)}, not {self.unit!r}")
        if self.amount < 0:
            raise ValueError("a window cannot be negative")


@dataclass(frozen=True)
class Deadline:
    """When the window closes, and why."""

    closes_at: datetime
    basis: str


@cache
def _federal_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("US", years=year)


def is_business_day(day: date) -> bool:
    """Monday to Friday and not a US federal holiday (observed dates count as holidays)."""
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


def add_business_days(start: date, count: int) -> date:
    """The ``count``-th business day after ``start`` (``start`` itself is day 0)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    return day


def _end_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(23, 59, 59), zone)


def p2p_deadline(decided_at: datetime, rule: WindowRule, zone: ZoneInfo) -> Deadline:
    """When the P2P request window closes for a denial decided at ``decided_at`` (aware), in ``zone``."""
    if decided_at.tzinfo is None:
        raise ValueError("the decision time needs a UTC offset to start a clock")
    local = decided_at.astimezone(zone)
    if rule.unit == "hours":
        closes = (decided_at.astimezone(UTC) + timedelta(hours=rule.amount)).astimezone(zone)  # elapsed hours, DST-safe
        return Deadline(closes, f"{rule.amount} hours from the decision ({local:%Y-%m-%d %H:%M %Z})")
    if rule.unit == "calendar-days":
        closes = _end_of_day(local.date() + timedelta(days=rule.amount), zone)
        return Deadline(closes, f"{rule.amount} calendar days from the decision ({local:%Y-%m-%d})")
    closes = _end_of_day(add_business_days(local.date(), rule.amount), zone)
    return Deadline(
        closes,
        f"{rule.amount} business days from the decision ({local:%Y-%m-%d}), skipping weekends and US federal holidays",
    )
