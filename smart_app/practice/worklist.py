"""The worklist: every open denial the app knows of, one row per case, on the P2P clock.

Plain functions over data. A case's status follows from what the app recorded: its scheduling log and its call
record. Rows sort by time left in the P2P window, soonest first; a window due within 24 hours is an alert and
leads the list; a window that closed with no P2P held is counted as missed, never hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from smart_app.outcome.scheduling import SchedulingEvent

STATUSES: dict[str, str] = {
    "new": "New",
    "p2p-requested": "P2P requested",
    "scheduled": "Scheduled",
    "overturned": "Call done — overturned",
    "upheld": "Call done — upheld",
    "pending": "Call done — pending documentation",
    "appeal-due": "Appeal due",
    "closed": "Closed",
}
RECOMMENDATIONS: dict[str, str] = {
    "peer-to-peer": "Request the P2P",
    "corrected-resubmission": "Correct and resubmit",
    "written-appeal": "Written appeal",
    "none": "Nothing to contest",
}
#: Once the case has moved, its next step follows the case, not the denial's first recommendation.
NEXT_BY_STATUS: dict[str, str] = {
    "p2p-requested": "Schedule the P2P call",
    "scheduled": "Hold the scheduled call",
    "overturned": "Get the authorization in writing",
    "upheld": "Written appeal",
    "pending": "Send what the reviewer asked for",
    "appeal-due": "Written appeal",
    "closed": "None: closed",
}
ALERT_HOURS = 24
FILTERS = ("payer", "physician", "status", "due_before")


def case_status(events: Sequence[SchedulingEvent], disposition: str | None, *, window_closed: bool) -> str:
    """Where a case stands, from its scheduling log and the disposition of its current call (None: no call)."""
    if disposition == "overturned":
        return "overturned"
    if disposition == "upheld":
        return "upheld"
    if disposition == "pending-documentation":
        return "pending"
    if disposition not in (None, "not-reached", "deferred-same-specialty"):
        raise ValueError(f"unknown disposition {disposition!r}")
    if any(e.kind == "scheduled" for e in events) and disposition is None:
        return "scheduled"
    if window_closed:
        return "appeal-due"  # the window passed with no P2P held: the written appeal is the route now
    if events or disposition is not None:
        return "p2p-requested"
    return "new"


@dataclass(frozen=True)
class WorklistRow:
    """One case as the worklist shows it (a snapshot taken when the app last saw the denial)."""

    case_id: int
    patient_id: str
    denial_id: str
    patient_name: str
    payer: str
    service: str
    category: str
    recommendation: str
    physician: str
    assignee: str
    status: str
    deadline: datetime | None
    decided_on: str | None = None  # the payer's decision, as the denial gave it
    hours_left: float | None = None
    alert: bool = False
    missed: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def status_label(self) -> str:
        """The status in words."""
        return STATUSES.get(self.status, self.status)

    @property
    def next_step(self) -> str:
        """What to do next, in words: the denial's recommendation until the case moves, then the case's own step."""
        return NEXT_BY_STATUS.get(self.status) or RECOMMENDATIONS.get(self.recommendation, self.recommendation)


def on_the_clock(rows: Iterable[WorklistRow], now: datetime) -> list[WorklistRow]:
    """Rows with their time left: due within 24 h first (alerts), then by deadline, then those with no deadline.

    A window that has closed with no call held is ``missed``; closed cases and calls already held are never
    alerts."""
    timed = []
    for row in rows:
        hours = (row.deadline - now).total_seconds() / 3600 if row.deadline else None
        open_case = row.status in ("new", "p2p-requested", "scheduled")
        alert = open_case and hours is not None and 0 <= hours <= ALERT_HOURS
        missed = hours is not None and hours < 0 and row.status in ("new", "p2p-requested", "appeal-due")
        timed.append(replace(row, hours_left=hours, alert=alert, missed=missed))
    far = timedelta(days=100_000).total_seconds() / 3600

    def order(row: WorklistRow) -> tuple[int, int, float]:
        return (
            0 if row.alert else 1,
            1 if row.status == "closed" else 0,
            row.hours_left if row.hours_left is not None else far,
        )

    return sorted(timed, key=order)


def filtered(rows: Iterable[WorklistRow], criteria: Mapping[str, str]) -> list[WorklistRow]:
    """The rows matching every filter given (payer, physician, status exactly; ``due_before`` a date)."""
    due_before = _date(criteria.get("due_before", ""))
    kept = []
    for row in rows:
        if criteria.get("payer") and row.payer != criteria["payer"]:
            continue
        if criteria.get("physician") and row.physician != criteria["physician"]:
            continue
        if criteria.get("status") and row.status != criteria["status"]:
            continue
        if due_before and (row.deadline is None or row.deadline.date() > due_before):
            continue
        kept.append(row)
    return kept


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Counts:
    """The worklist's headline numbers."""

    open: int
    alerts: int
    missed: int


def counts(rows: Sequence[WorklistRow]) -> Counts:
    """How many cases are open, due within 24 hours, and missed."""
    return Counts(
        open=sum(1 for r in rows if r.status != "closed"),
        alerts=sum(1 for r in rows if r.alert),
        missed=sum(1 for r in rows if r.missed),
    )
