"""FHIR dates as Python dates: partial dates, dateTimes with offsets, Periods, and the ``effective[x]`` family."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any


def parse_date(value: Any) -> date | None:
    """``"2026"``, ``"2026-09"``, ``"2026-09-03"`` or a dateTime -> the (earliest) calendar date it names."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    try:
        if len(value) == 4:
            return date(int(value), 1, 1)
        if len(value) == 7:
            return date(int(value[:4]), int(value[5:7]), 1)
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def latest_date(value: Any) -> date | None:
    """The last calendar day a possibly partial date names (``"2026-09"`` -> 2026-09-30); None when unparseable."""
    first = parse_date(value)
    if first is None or not isinstance(value, str):
        return None
    if len(value) == 4:
        return date(first.year, 12, 31)
    if len(value) == 7:
        following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        return following - timedelta(days=1)
    return first


def parse_datetime(value: Any) -> datetime | None:
    """A FHIR dateTime or instant -> ``datetime`` (aware when the value has an offset); None when unparseable."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def period_of(resource: dict[str, Any], prefix: str) -> tuple[date | None, date | None]:
    """Start and end of ``<prefix>Period``, ``<prefix>DateTime`` or ``<prefix>Date`` (e.g. prefix ``effective``)."""
    period = resource.get(f"{prefix}Period")
    if isinstance(period, dict):
        return parse_date(period.get("start")), parse_date(period.get("end"))
    for suffix in ("DateTime", "Date", "Instant"):
        when = parse_date(resource.get(f"{prefix}{suffix}"))
        if when:
            return when, when
    return None, None
