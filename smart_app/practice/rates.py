"""Outcome rates for the practice manager, from the app's own records: P2P requested, held, overturned and upheld
by payer, service, ordering physician and reviewer specialty (same vs different), each rate with its count; the
median days from denial to request and from request to call; missed windows. Plain functions over data."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median


@dataclass(frozen=True)
class CaseOutcome:
    """What the rates need of one case."""

    payer: str
    service: str
    physician: str
    decided_at: datetime | None
    requested_at: datetime | None
    call_at: datetime | None
    disposition: str | None  # of the current call; None when no call was held
    same_specialty: bool | None
    missed: bool
    notes_waiting: int = 0  # call notes of this case not yet in the chart (pending or parked)

    @property
    def held(self) -> bool:
        """A call took place (one that was not reached did not)."""
        return self.call_at is not None and self.disposition not in (None, "not-reached")


@dataclass(frozen=True)
class Rate:
    """One group's figures: requests, calls held, overturned, upheld, and the overturn rate with its count."""

    group: str
    requested: int
    held: int
    overturned: int
    upheld: int

    @property
    def overturn_rate(self) -> float | None:
        """Overturned out of calls held (None when no call was held)."""
        return self.overturned / self.held if self.held else None

    @property
    def rate_text(self) -> str:
        """The rate with its count beside it: "67% (2 of 3)", or "no calls held"."""
        if not self.held:
            return "no calls held"
        return f"{round(100 * self.overturned / self.held)}% ({self.overturned} of {self.held})"


def rates_by(cases: Iterable[CaseOutcome], key: Callable[[CaseOutcome], str]) -> list[Rate]:
    """Figures per group, the groups with the most calls held first (then by name)."""
    groups: dict[str, list[CaseOutcome]] = {}
    for case in cases:
        groups.setdefault(key(case) or "not recorded", []).append(case)
    rates = [
        Rate(
            group=name,
            requested=sum(1 for c in members if c.requested_at is not None or c.held),
            held=sum(1 for c in members if c.held),
            overturned=sum(1 for c in members if c.held and c.disposition == "overturned"),
            upheld=sum(1 for c in members if c.held and c.disposition == "upheld"),
        )
        for name, members in groups.items()
    ]
    return sorted(rates, key=lambda r: (-r.held, r.group))


def specialty_group(case: CaseOutcome) -> str:
    """The reviewer's specialty against the ordering physician's, in words."""
    if case.same_specialty is None:
        return "not established"
    return "same specialty" if case.same_specialty else "different specialty"


def median_days(pairs: Iterable[tuple[datetime | None, datetime | None]]) -> tuple[float | None, int]:
    """The median of the days between each complete pair (start, end), and how many pairs it is over."""
    spans = [(end - start).total_seconds() / 86400 for start, end in pairs if start and end and end >= start]
    return (round(median(spans), 1) if spans else None, len(spans))


@dataclass(frozen=True)
class Summary:
    """The headline figures."""

    cases: int
    requested: int
    held: int
    overturned: int
    upheld: int
    missed: int
    denial_to_request_days: tuple[float | None, int]
    request_to_call_days: tuple[float | None, int]
    notes_waiting: int = 0


def summarize(cases: Sequence[CaseOutcome]) -> Summary:
    """The practice's totals and medians."""
    overall = rates_by(cases, lambda _: "all")[0] if cases else Rate("all", 0, 0, 0, 0)
    return Summary(
        cases=len(cases),
        requested=overall.requested,
        held=overall.held,
        overturned=overall.overturned,
        upheld=overall.upheld,
        missed=sum(1 for c in cases if c.missed),
        denial_to_request_days=median_days((c.decided_at, c.requested_at) for c in cases),
        request_to_call_days=median_days((c.requested_at, c.call_at) for c in cases if c.held),
        notes_waiting=sum(c.notes_waiting for c in cases),
    )
