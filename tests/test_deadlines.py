"""P2P window arithmetic: weekends, Thanksgiving, New Year's Day, hours and calendar days, time zones."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from smart_app.denials.deadlines import WindowRule, add_business_days, is_business_day, p2p_deadline

EASTERN = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("decided", "amount", "closes_on"),
    [
        # Friday 2026-11-20: five business days run Mon 23, Tue 24, Wed 25, (Thu 26 Thanksgiving), Fri 27, Mon 30.
        ("2026-11-20T15:42:00-06:00", 5, "2026-11-30"),
        # Monday 2026-11-23, three business days: Tue 24, Wed 25, (Thanksgiving), Fri 27.
        ("2026-11-23T09:00:00-05:00", 3, "2026-11-27"),
        # Wednesday 2026-12-30, three business days: Thu 31, (Fri 2027-01-01 New Year's Day), (weekend), Mon 4, Tue 5.
        ("2026-12-30T12:00:00-05:00", 3, "2027-01-05"),
        # A decision late on Friday in Denver is already Saturday in New York: the count starts from Saturday.
        ("2026-11-20T23:30:00-07:00", 1, "2026-11-23"),
    ],
)
def test_business_day_windows(decided: str, amount: int, closes_on: str) -> None:
    deadline = p2p_deadline(datetime.fromisoformat(decided), WindowRule(amount, "business-days"), EASTERN)
    assert deadline.closes_at.date().isoformat() == closes_on
    assert (deadline.closes_at.hour, deadline.closes_at.minute) == (23, 59)
    assert deadline.basis.startswith(f"{amount} business days from the decision")
    assert "US federal holidays" in deadline.basis


def test_hours_window_runs_through_weekends_and_holidays() -> None:
    deadline = p2p_deadline(datetime.fromisoformat("2026-11-25T16:00:00-05:00"), WindowRule(72, "hours"), EASTERN)
    assert deadline.closes_at == datetime(2026, 11, 28, 16, 0, tzinfo=EASTERN)
    assert deadline.basis == "72 hours from the decision (2026-11-25 16:00 EST)"


def test_calendar_day_window() -> None:
    deadline = p2p_deadline(
        datetime.fromisoformat("2026-11-20T10:00:00-05:00"), WindowRule(7, "calendar-days"), EASTERN
    )
    assert deadline.closes_at.date().isoformat() == "2026-11-27"


def test_holiday_calendar() -> None:
    assert not is_business_day(datetime(2026, 11, 26).date())  # Thanksgiving
    assert not is_business_day(datetime(2027, 1, 1).date())  # New Year's Day
    assert not is_business_day(datetime(2026, 11, 21).date())  # Saturday
    assert is_business_day(datetime(2026, 11, 27).date())  # the day after Thanksgiving is not federal
    assert add_business_days(datetime(2026, 11, 25).date(), 1).isoformat() == "2026-11-27"


def test_bad_rules_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="window unit"):
        WindowRule(5, "fortnights")
    with pytest.raises(ValueError, match="UTC offset"):
        p2p_deadline(datetime(2026, 11, 20, 10, 0), WindowRule(5, "business-days"), EASTERN)
