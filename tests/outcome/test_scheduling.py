"""The scheduling log: each entry checked, and the log read against the P2P window."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from smart_app.outcome.scheduling import SchedulingEvent, event_from_dict, parse_event_form, scheduling_status

ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=ZONE)
CLOSES = datetime(2026, 11, 25, 23, 59, 59, tzinfo=ZONE)


def _event(kind: str, day: int, hour: int = 9, **extra: object) -> SchedulingEvent:
    return SchedulingEvent(kind=kind, at=datetime(2026, 11, day, hour, tzinfo=ZONE), channel="phone", **extra)  # type: ignore[arg-type]


def test_a_form_entry_is_read_in_the_practice_zone() -> None:
    event, errors = parse_event_form(
        {"kind": "scheduled", "at": "2026-11-23T09:30", "channel": "portal", "slot": "2026-11-24T12:15",
         "reviewer": "Dr. Ames", "reference": "P2P-1"},
        NOW,
    )  # fmt: skip
    assert errors == {} and event is not None
    assert event.at == datetime(2026, 11, 23, 9, 30, tzinfo=ZONE)
    assert event.slot == datetime(2026, 11, 24, 12, 15, tzinfo=ZONE)
    assert event_from_dict(event.as_dict()) == event


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"kind": "called", "at": "2026-11-23T09:00", "channel": "phone"}, "kind", "what happened"),
        ({"kind": "requested", "at": "2026-11-23T09:00", "channel": "pigeon"}, "channel", "channel"),
        ({"kind": "requested", "at": "yesterday", "channel": "phone"}, "at", "date and time"),
        ({"kind": "requested", "at": "2026-11-24T09:00", "channel": "phone"}, "at", "in the future"),
        ({"kind": "scheduled", "at": "2026-11-23T09:00", "channel": "phone"}, "slot", "needs its date and time"),
        ({"kind": "attempt-failed", "at": "2026-11-23T09:00", "channel": "phone"}, "said", "what was said"),
        ({"kind": "requested", "at": "2026-11-23T09:00", "channel": "phone", "said": "x" * 2001}, "said", "2,000"),
    ],
)
def test_a_bad_entry_names_the_field(form: dict[str, str], field: str, words: str) -> None:
    event, errors = parse_event_form(form, NOW)
    assert event is None and words in errors[field]


def test_nothing_logged_yet() -> None:
    status = scheduling_status([], window_closes=CLOSES, now=NOW)
    assert status.summary == "Not requested yet." and not status.no_request_by_deadline


def test_no_request_by_the_window_end_is_shown_as_such() -> None:
    after = datetime(2026, 11, 26, 9, tzinfo=ZONE)
    status = scheduling_status([], window_closes=CLOSES, now=after)
    assert status.no_request_by_deadline
    assert status.summary.startswith("No P2P was requested before the window closed")


def test_a_request_after_the_window_is_late() -> None:
    status = scheduling_status([_event("requested", 26)], window_closes=CLOSES, now=datetime(2026, 11, 27, tzinfo=ZONE))
    assert status.request_late and "after the window closed" in status.summary


def test_two_failed_attempts_raise_the_written_demand_until_a_slot_is_booked() -> None:
    events = [
        _event("requested", 20, reference="P2P-1"),
        _event("attempt-failed", 21, said="No reviewer available"),
    ]
    assert not scheduling_status(events, window_closes=CLOSES, now=NOW).written_demand_due
    events.append(_event("attempt-failed", 22, said="No answer"))
    status = scheduling_status(events, window_closes=CLOSES, now=NOW)
    assert status.written_demand_due and status.failed_attempts == 2
    assert status.summary == "2 failed attempts: send the written demand."
    assert status.reference == "P2P-1"
    events.append(_event("scheduled", 23, slot=datetime(2026, 11, 24, 12, 15, tzinfo=ZONE), reviewer="Dr. Ames"))
    booked = scheduling_status(events, window_closes=CLOSES, now=NOW)
    assert not booked.written_demand_due and booked.summary == "Call scheduled for 2026-11-24 12:15."
    assert booked.reviewer == "Dr. Ames"


def test_once_the_call_took_place_no_demand_is_due() -> None:
    events = [_event("requested", 20), _event("attempt-failed", 21, said="x"), _event("attempt-failed", 22, said="y")]
    status = scheduling_status(events, window_closes=CLOSES, now=NOW, call_held_on=date(2026, 11, 23))
    assert not status.written_demand_due and status.summary == "The call took place on 2026-11-23."
