"""Outcome rates: counts beside every percentage, medians over complete pairs, and charts that escape their text."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from smart_app.practice.charts import overturn_chart
from smart_app.practice.rates import CaseOutcome, Rate, median_days, rates_by, specialty_group, summarize

ZONE = ZoneInfo("America/New_York")
DAY = datetime(2026, 11, 2, 9, tzinfo=ZONE)


def _case(payer: str, disposition: str | None, *, same: bool | None = None, request_after: int | None = 1,
          call_after: int | None = 3, missed: bool = False) -> CaseOutcome:  # fmt: skip
    requested = DAY + timedelta(days=request_after) if request_after is not None else None
    called = DAY + timedelta(days=call_after) if call_after is not None and disposition else None
    return CaseOutcome(payer=payer, service="MRI", physician="Dr. A", decided_at=DAY, requested_at=requested,
                       call_at=called, disposition=disposition, same_specialty=same, missed=missed)  # fmt: skip


CASES = [
    _case("Aetna", "overturned", same=True),
    _case("Aetna", "upheld", same=False, call_after=5),
    _case("Aetna", "overturned", same=True, request_after=2, call_after=4),
    _case("Cigna", None, request_after=None, missed=True),
    _case("Cigna", "not-reached"),
]


def test_rates_per_payer_with_the_count_beside_the_percentage() -> None:
    aetna, cigna = rates_by(CASES, lambda c: c.payer)
    assert (aetna.group, aetna.requested, aetna.held, aetna.overturned, aetna.upheld) == ("Aetna", 3, 3, 2, 1)
    assert aetna.rate_text == "67% (2 of 3)"
    assert (cigna.requested, cigna.held) == (1, 0) and cigna.rate_text == "no calls held"  # not reached is not held


def test_reviewer_specialty_groups() -> None:
    groups = {r.group: r for r in rates_by(CASES, specialty_group)}
    assert groups["same specialty"].rate_text == "100% (2 of 2)"
    assert groups["different specialty"].rate_text == "0% (0 of 1)"
    assert groups["not established"].held == 0


def test_summary_and_medians_over_complete_pairs() -> None:
    summary = summarize(CASES)
    assert (summary.cases, summary.requested, summary.held, summary.overturned, summary.missed) == (5, 4, 3, 2, 1)
    assert summary.denial_to_request_days == (1.0, 4)  # 1, 1, 2, 1 days
    assert summary.request_to_call_days == (2.0, 3)  # 2, 4, 2 days: calls held only (not the one not reached)
    assert median_days([(DAY, None), (None, DAY)]) == (None, 0)
    assert summarize([]).held == 0


def test_the_chart_escapes_its_labels_and_says_what_it_shows() -> None:
    svg = str(overturn_chart([Rate("<script>alert(1)</script>", 2, 2, 1, 1)], "Overturn rate by payer"))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "50% (1 of 2)" in svg
    assert "No calls held yet." in str(overturn_chart([], "Empty"))
