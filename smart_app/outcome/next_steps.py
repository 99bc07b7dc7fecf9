"""What to do after the peer-to-peer call, and by when: each step dated, with the rule or practice behind the date.

Appeal and external-review deadlines come from ``criteria/appeals.yaml`` (quoted regulations, by plan type); the
other steps are the practice's own follow-ups and say so. Pure arithmetic over the call's record: the call's end,
a timezone-aware datetime, is the clock and its zone is the practice's; no "now" is read here. Business days skip
weekends and US federal holidays (``smart_app.denials.deadlines``); the internal appeal's date is
``smart_app.denials.appeal_deadline``, the same one the brief shows before the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from smart_app.denials.appeal_deadline import appeal_plan, appeal_plans, appeal_sources, internal_appeal_deadline
from smart_app.denials.deadlines import add_business_days

CONFIRMATION_HOURS = 24
CLAIM_CHECK_DAYS = 30
RATIONALE_BUSINESS_DAYS = 1
DOCUMENTS_BUSINESS_DAYS = 2
SECOND_P2P_BUSINESS_DAYS = 2
RESCHEDULE_BUSINESS_DAYS = 1
WRITTEN_DEMAND_BUSINESS_DAYS = 2
SKIPPING = "skipping weekends and US federal holidays"
P2P_WINDOW = "The payer's P2P request window still runs from the denial: check its deadline on the brief."


@dataclass(frozen=True)
class NextStep:
    """One thing to do after the call: what, by when (aware, or None), why that date, and the rule's source."""

    action: str
    due: datetime | None
    basis: str
    source: str | None
    kind: str


@dataclass(frozen=True)
class _Call:
    end: datetime
    zone: tzinfo
    denial_notice: datetime | None
    plan_type: str | None
    urgent: bool
    reviewer_same_specialty: bool | None
    requested_documents: str
    documents_due: date | None

    @property
    def day(self) -> date:
        return self.end.date()


def _end_of_day(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(23, 59, 59), zone)


def _business_days_after(call: _Call, count: int) -> datetime:
    return _end_of_day(add_business_days(call.day, count), call.zone)


def _overturned(call: _Call) -> list[NextStep]:
    confirm_by = (call.end.astimezone(UTC) + timedelta(hours=CONFIRMATION_HOURS)).astimezone(call.zone)
    return [
        NextStep(
            "Get the authorization in writing: number, approved codes, dates of service and units",
            confirm_by,
            f"Practice step: within {CONFIRMATION_HOURS} hours of the call, while the reviewer's words are fresh.",
            None,
            "confirm-authorization",
        ),
        NextStep(
            "Check that the claim for the authorized service is paid",
            _end_of_day(call.day + timedelta(days=CLAIM_CHECK_DAYS), call.zone),
            f"The practice's own follow-up, {CLAIM_CHECK_DAYS} calendar days after the call — not a payer or legal "
            "deadline.",
            None,
            "check-claim",
        ),
    ]


def _internal_appeal(call: _Call) -> NextStep:
    deadline = internal_appeal_deadline(call.plan_type, call.denial_notice, call.zone, notice_before=call.day)
    return NextStep(deadline.action, deadline.due, deadline.basis, deadline.source, "internal-appeal")


def _expedited(call: _Call, plan: dict[str, Any] | None) -> NextStep:
    if plan:
        rule = plan["expedited"]
        basis = (
            f"Urgent: the plan must decide within {rule['decisionHours']} hours after it receives the request "
            f"({rule['citation']}) when {rule['condition']} ({rule['conditionCitation']})."
        )
        source = appeal_sources([*rule["source"], *rule["conditionSource"]])
    else:
        rules = [p["expedited"] for p in appeal_plans()]
        hours = min(r["decisionHours"] for r in rules)
        basis = (
            f"Urgent: every plan type on file must decide an expedited appeal within {hours} hours of the request; "
            "the condition's wording depends on the plan type, which is not known."
        )
        source = appeal_sources(i for r in rules for i in r["source"])
    return NextStep(
        "Ask for an expedited appeal the day of the call, by phone or fax, with the physician's statement of urgency",
        _end_of_day(call.day, call.zone),
        basis + " Ask the same day: the decision clock starts when the plan receives the request.",
        source,
        "expedited-appeal",
    )


def _external_review(plan: dict[str, Any] | None) -> NextStep:
    if plan:
        rule = plan["externalReview"]
        action = (
            f"Watch for the decision of {rule['who']}: the plan forwards the case itself"
            if rule["automatic"]
            else f"If the appeal is upheld, ask for {rule['who']}"
        )
        kind = "external-review-automatic" if rule["automatic"] else "external-review"
        return NextStep(action, None, f"{rule['text']} ({rule['citation']})", appeal_sources(rule["source"]), kind)
    rules = [p["externalReview"] for p in appeal_plans()]
    return NextStep(
        "Once the plan's own appeal is exhausted, ask for the external review — who hears it depends on the plan type",
        None,
        "Medicare Advantage: the plan forwards an upheld reconsideration to the independent review entity; Medicaid "
        "managed care: a State fair hearing; other plans: an independent review organization, within four months "
        "of the final internal denial (45 CFR 147.136).",
        appeal_sources(i for r in rules for i in r["source"]),
        "external-review",
    )


def _procedural_defect(plan: dict[str, Any] | None) -> NextStep:
    basis = (
        "Practice step: where a rule entitles the ordering physician to a reviewer of the same or similar "
        "specialty, a reviewer outside it is a procedural defect; whether one applies depends on the plan type and "
        "the State (see the reviewer-rights section of the brief)."
    )
    source = None
    rule = plan.get("reviewerRule") if plan else None
    if rule:
        basis += f" On the appeal itself: {rule['text']} ({rule['citation']})."
        source = appeal_sources(rule["source"])
    return NextStep(
        "Note in the appeal that the peer-to-peer reviewer was not of the same specialty as the ordering physician",
        None,
        basis,
        source,
        "procedural-defect",
    )


def _upheld(call: _Call) -> list[NextStep]:
    plan = appeal_plan(call.plan_type)
    steps = [
        NextStep(
            "Ask the payer for the written rationale of the upheld denial and the criteria it applied",
            _business_days_after(call, RATIONALE_BUSINESS_DAYS),
            f"Practice step: within {RATIONALE_BUSINESS_DAYS} business day of the call, {SKIPPING}; the appeal "
            "answers that rationale.",
            None,
            "request-rationale",
        ),
        _internal_appeal(call),
    ]
    if call.urgent:
        steps.append(_expedited(call, plan))
    steps.append(_external_review(plan))
    if call.reviewer_same_specialty is False:
        steps.append(_procedural_defect(plan))
    return steps


def _pending_documentation(call: _Call) -> list[NextStep]:
    what = call.requested_documents.strip()
    action = (
        f"Send the documents the reviewer asked for: {what}"
        if what
        else "Send the documents the reviewer asked for (none were recorded: confirm the list with the payer)"
    )
    if call.documents_due:
        due = _end_of_day(call.documents_due, call.zone)
        basis = f"Due date set on the call: {call.documents_due:%Y-%m-%d}."
    else:
        due = _business_days_after(call, DOCUMENTS_BUSINESS_DAYS)
        basis = (
            f"No due date was given on the call: the practice sends within {DOCUMENTS_BUSINESS_DAYS} business days, "
            f"{SKIPPING}."
        )
    return [NextStep(action, due, basis, None, "send-documents")]


def _deferred_same_specialty(call: _Call) -> list[NextStep]:
    return [
        NextStep(
            "Schedule the second peer-to-peer, with a reviewer of the ordering physician's specialty",
            _business_days_after(call, SECOND_P2P_BUSINESS_DAYS),
            f"Practice step: within {SECOND_P2P_BUSINESS_DAYS} business days of the call, {SKIPPING}. {P2P_WINDOW}",
            None,
            "schedule-second-p2p",
        )
    ]


def _not_reached(call: _Call) -> list[NextStep]:
    return [
        NextStep(
            "Call the payer to reschedule the peer-to-peer, and log the missed call (when, number, who answered)",
            _business_days_after(call, RESCHEDULE_BUSINESS_DAYS),
            f"Practice step: within {RESCHEDULE_BUSINESS_DAYS} business day of the missed call, {SKIPPING}. "
            f"{P2P_WINDOW}",
            None,
            "reschedule-p2p",
        ),
        NextStep(
            "If no new time is offered, send the written demand for the peer-to-peer, listing the failed attempts",
            _business_days_after(call, WRITTEN_DEMAND_BUSINESS_DAYS),
            f"Practice step, only if needed: within {WRITTEN_DEMAND_BUSINESS_DAYS} business days of the missed "
            f"call, {SKIPPING}; the written demand is the paper trail that the P2P was asked for in time.",
            None,
            "written-demand",
        ),
    ]


STEPS_BY_DISPOSITION: dict[str, Callable[[_Call], list[NextStep]]] = {
    "overturned": _overturned,
    "upheld": _upheld,
    "pending-documentation": _pending_documentation,
    "deferred-same-specialty": _deferred_same_specialty,
    "not-reached": _not_reached,
}


def next_steps(
    *,
    disposition: str,
    call_end: datetime,
    denial_notice: datetime | None,
    plan_type: str | None,
    urgent: bool,
    reviewer_same_specialty: bool | None,
    requested_documents: str = "",
    documents_due: date | None = None,
) -> list[NextStep]:
    """The steps after a P2P call ending ``call_end`` (aware; its zone is the practice's), soonest first, undated last.

    Appeal deadlines count calendar days from the date on the denial notice (the regulations count from the
    notice or its receipt, so this date is never late); without the notice date they count from the call and the
    basis says the real deadline is earlier. An unknown ``plan_type`` gets the shortest verified deadline on file.
    """
    if call_end.tzinfo is None:
        raise ValueError("the call's end needs a UTC offset to date the next steps")
    if disposition not in STEPS_BY_DISPOSITION:
        raise ValueError(f"disposition must be one of {', '.join(STEPS_BY_DISPOSITION)}, not {disposition!r}")
    call = _Call(
        end=call_end,
        zone=call_end.tzinfo,
        denial_notice=denial_notice,
        plan_type=plan_type,
        urgent=urgent,
        reviewer_same_specialty=reviewer_same_specialty,
        requested_documents=requested_documents,
        documents_due=documents_due,
    )
    steps = STEPS_BY_DISPOSITION[disposition](call)
    return sorted(steps, key=lambda s: (s.due is None, s.due.timestamp() if s.due else 0.0))
