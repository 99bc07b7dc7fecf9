"""The first-level (internal) appeal deadline of a denial: calendar days by plan type, from the denial notice.

One computation for the brief (before any call) and for the steps after an upheld call. The rules are the
quoted regulations of ``criteria/appeals.yaml``. The regulations count from the notice or its receipt, so
counting from the date on the notice is never late. Without the notice's date no date is given: counting from
any later day would print a date after the real one. An unknown plan type gets the shortest verified deadline
on file, and the basis says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from smart_app.rule_files import rule_file


@dataclass(frozen=True)
class AppealDeadline:
    """What to file, by when (the end of the last day where the practice is, or None), why, and the sources."""

    action: str
    due: datetime | None
    basis: str
    source: str


def appeal_sources(ids: Iterable[str]) -> str:
    """The titles and addresses of ``criteria/appeals.yaml`` sources, each once, in order."""
    known = rule_file("appeals")["sources"]
    unique = list(dict.fromkeys(ids))
    return "; ".join(f"{known[i]['title']} — {known[i]['url']}" for i in unique)


def appeal_plan(plan_type: str | None) -> dict[str, Any] | None:
    """The appeal rules of one plan type (a key of ``planTypes``), or None when unknown."""
    return rule_file("appeals")["planTypes"].get(plan_type) if plan_type else None


def appeal_plans() -> list[dict[str, Any]]:
    """The appeal rules of every plan type on file."""
    return list(rule_file("appeals")["planTypes"].values())


def _notice_day(notice: datetime | None, zone: tzinfo) -> date | None:
    """The notice's date where the practice is; a naive date-time is taken as already local there."""
    if notice is None:
        return None
    return (notice.astimezone(zone) if notice.tzinfo else notice).date()


def internal_appeal_deadline(
    plan_type: str | None, notice: datetime | None, zone: tzinfo, *, notice_before: date
) -> AppealDeadline:
    """The internal appeal's deadline for a denial noticed at ``notice`` (None when the date is unknown).

    ``notice_before`` is a day the notice is known to precede (the call, or the day the brief is built); it only
    helps the person count when the notice's date is unknown.
    """
    plan = appeal_plan(plan_type)
    if plan:
        rule, lead, action = plan["internalAppeal"], "", plan["internalAppeal"]["action"]
    else:
        shortest = min(appeal_plans(), key=lambda p: p["internalAppeal"]["amount"])
        rule = shortest["internalAppeal"]
        lead = (
            f"{rule_file('appeals')['unknownPlanType']['text']} The shortest verified deadline on file "
            f"({shortest['label']}) is used as the conservative date. "
        )
        action = "File the first-level appeal with the plan"
    amount = rule["amount"]
    start = _notice_day(notice, zone)
    if start:
        counted = f"counted from the denial notice dated {start:%Y-%m-%d}"
    else:
        counted = (
            "the denial notice date is unknown, so no date is given: count from the date on the notice, usually "
            f"printed near the top of the letter (the deadline falls before {notice_before:%Y-%m-%d} + the days above)"
        )
    basis = f"{lead}Within {amount} calendar days of {rule['fromText']}: {rule['citation']}; {counted}."
    if plan and rule.get("note"):
        basis += f" {rule['note']}"
    if plan and plan.get("caveat"):
        basis += f" {plan['caveat']}"
    due = datetime.combine(start + timedelta(days=amount), time(23, 59, 59), zone) if start else None
    return AppealDeadline(action, due, basis, appeal_sources(rule["source"]))
