"""Worklist rules: a case's status from what the app recorded, the clock order, alerts, missed windows, filters."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smart_app.outcome.scheduling import SchedulingEvent
from smart_app.practice.worklist import WorklistRow, case_status, counts, filtered, on_the_clock

ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)


def _event(kind: str) -> SchedulingEvent:
    slot = NOW + timedelta(days=1) if kind == "scheduled" else None
    return SchedulingEvent(kind=kind, at=NOW - timedelta(hours=2), channel="phone", slot=slot, said="x")


@pytest.mark.parametrize(
    ("events", "disposition", "closed", "status"),
    [
        ([], None, False, "new"),
        ([], None, True, "appeal-due"),
        (["requested"], None, False, "p2p-requested"),
        (["attempt-failed"], None, False, "p2p-requested"),
        (["requested", "scheduled"], None, False, "scheduled"),
        (["requested", "scheduled"], "overturned", True, "overturned"),
        ([], "upheld", False, "upheld"),
        ([], "pending-documentation", False, "pending"),
        (["requested"], "not-reached", False, "p2p-requested"),
        (["requested"], "deferred-same-specialty", False, "p2p-requested"),
        (["requested"], "not-reached", True, "appeal-due"),
    ],
)
def test_status_follows_the_record(events: list[str], disposition: str | None, closed: bool, status: str) -> None:
    assert case_status([_event(k) for k in events], disposition, window_closed=closed) == status


def test_an_unknown_disposition_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown disposition 'won'"):
        case_status([], "won", window_closed=False)


def _row(case_id: int, hours: float | None, status: str = "new", **extra: str) -> WorklistRow:
    fields = {"payer": "Aetna", "physician": "Dr. A", **extra}
    return WorklistRow(
        case_id=case_id, patient_id=f"p{case_id}", denial_id=f"d{case_id}", patient_name=f"Patient {case_id}",
        service="MRI", category="medical-necessity", recommendation="peer-to-peer", assignee="", status=status,
        deadline=NOW + timedelta(hours=hours) if hours is not None else None, **fields,
    )  # fmt: skip


def test_due_within_24_hours_leads_then_by_deadline_then_undated() -> None:
    rows = [_row(1, 200), _row(2, None), _row(3, 30), _row(4, 5), _row(5, -3), _row(6, 20, status="upheld")]
    ordered = on_the_clock(rows, NOW)
    assert [r.case_id for r in ordered] == [4, 5, 6, 3, 1, 2]
    assert [r.case_id for r in ordered if r.alert] == [4]  # a held call is not an alert
    assert [r.case_id for r in ordered if r.missed] == [5]
    assert ordered[0].hours_left == pytest.approx(5)
    assert counts(ordered) == counts(ordered).__class__(open=6, alerts=1, missed=1)


def test_closed_cases_sink_below_open_ones_and_are_never_missed() -> None:
    ordered = on_the_clock([_row(1, -10, status="closed"), _row(2, 100)], NOW)
    assert [r.case_id for r in ordered] == [2, 1]
    assert not ordered[1].missed and counts(ordered).open == 1


def test_filters_combine() -> None:
    rows = on_the_clock(
        [_row(1, 10, payer="UnitedHealthcare"), _row(2, 60, physician="Dr. B"), _row(3, None), _row(4, 100)], NOW
    )
    assert [r.case_id for r in filtered(rows, {"payer": "UnitedHealthcare"})] == [1]
    assert [r.case_id for r in filtered(rows, {"physician": "Dr. B", "payer": "Aetna"})] == [2]
    assert [r.case_id for r in filtered(rows, {"due_before": "2026-11-26"})] == [1, 2]
    assert [r.case_id for r in filtered(rows, {"status": "new", "due_before": "not a date"})] == [1, 2, 4, 3]


@pytest.mark.parametrize(
    ("status", "next_step"),
    [
        ("new", "Request the P2P"),
        ("p2p-requested", "Schedule the P2P call"),
        ("upheld", "Written appeal"),  # was "peer-to-peer" after an upheld call
        ("overturned", "Get the authorization in writing"),
        ("closed", "None: closed"),
    ],
)
def test_the_next_step_is_in_words_and_follows_the_case(status: str, next_step: str) -> None:
    assert _row(1, 10, status=status).next_step == next_step
