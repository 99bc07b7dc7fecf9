"""Dating the demo charts to the day the demo runs.

Each demo Bundle is written as of its ``Bundle.timestamp`` (2026-11-23 for the four charts): the denial was
decided a few days before, the history years before. A demo started weeks later would show every P2P window
"missed", and a little worse each day. So the demo EHR moves every full date in a Bundle (``date``, ``dateTime``
and ``instant`` values alike: onset, birth, performed, created, periods) by the whole days from its timestamp to
the day the EHR starts. Intervals stay exactly as written — the patient's age, "3 years 6 months before", the days
from decision to today — and times of day and UTC offsets are kept. Partial dates (``2019``, ``2019-05``) and the
words of free text are left as written. A Bundle without a timestamp is loaded as it is.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

#: A FHIR date, dateTime or instant with at least a full date: ``2026-11-20`` or ``2026-11-20T15:42:00-06:00``.
FULL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?$")


def written_as_of(bundle: dict[str, Any]) -> date | None:
    """The day a Bundle's dates were written for (its ``timestamp``), or None when it has none or it is unreadable."""
    stamp = bundle.get("timestamp")
    if not isinstance(stamp, str) or not FULL_DATE.match(stamp):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _shifted(value: str, days: int) -> str:
    match = FULL_DATE.match(value)
    if not match:
        return value
    try:
        day = date.fromisoformat(match.group(1)) + timedelta(days=days)
    except ValueError:  # 2026-02-30 and the like: not a date, left as written
        return value
    return day.isoformat() + (match.group(2) or "")


def shift_dates(value: Any, days: int) -> Any:
    """A copy of ``value`` (any JSON) with every full date moved by ``days`` days; ids and codes are not dates."""
    if isinstance(value, dict):
        return {k: v if k in ("id", "reference", "code", "value") and isinstance(v, str) else shift_dates(v, days)
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [shift_dates(item, days) for item in value]
    if isinstance(value, str):
        return _shifted(value, days)
    return value


def dated_for(bundle: dict[str, Any], today: date) -> dict[str, Any]:
    """The Bundle with its dates moved from the day it was written for to ``today`` (unchanged without a
    timestamp)."""
    as_of = written_as_of(bundle)
    if as_of is None or as_of == today:
        return bundle
    return shift_dates(bundle, (today - as_of).days)
