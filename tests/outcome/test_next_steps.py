"""The steps after a P2P call, dated as the user sees them, and the appeal rules they rest on.

Every date below was counted by hand. The call ends Wednesday 2026-11-25 at 14:30 in New York, the day before
Thanksgiving (a US federal holiday), so business-day steps skip Thursday 11-26 and the weekend.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from smart_app.content import content_dir
from smart_app.outcome.call_note import DISPOSITIONS
from smart_app.outcome.next_steps import STEPS_BY_DISPOSITION, NextStep, next_steps
from smart_app.rule_files import rule_file, validate_rule_file

NY = ZoneInfo("America/New_York")
CALL_END = datetime(2026, 11, 25, 14, 30, tzinfo=NY)
NOTICE = datetime(2026, 11, 2, 9, 0, tzinfo=NY)


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=NY)


def steps(disposition: str, **overrides: Any) -> list[NextStep]:
    args: dict[str, Any] = {
        "disposition": disposition,
        "call_end": CALL_END,
        "denial_notice": NOTICE,
        "plan_type": "medicare-advantage",
        "urgent": False,
        "reviewer_same_specialty": True,
    }
    return next_steps(**(args | overrides))


def by_kind(found: list[NextStep]) -> dict[str, NextStep]:
    return {s.kind: s for s in found}


def test_overturned_confirm_in_writing_within_24_hours_then_check_the_claim() -> None:
    found = steps("overturned")
    assert [(s.kind, s.due) for s in found] == [
        ("confirm-authorization", datetime(2026, 11, 26, 14, 30, tzinfo=NY)),
        ("check-claim", end_of(date(2026, 12, 25))),
    ]
    assert found[0].action.startswith("Get the authorization in writing")
    assert "Practice step" in found[0].basis and found[0].source is None
    assert "not a payer or legal deadline" in found[1].basis and found[1].source is None


def test_upheld_medicare_advantage_reconsideration_due_65_days_from_the_notice() -> None:
    found = steps("upheld")
    assert [s.kind for s in found] == ["request-rationale", "internal-appeal", "external-review-automatic"]
    rationale, appeal, external = found
    assert rationale.due == end_of(date(2026, 11, 27))  # Thanksgiving 11-26 skipped
    assert rationale.source is None
    assert appeal.action == "Ask the Medicare Advantage plan for a reconsideration (the first-level appeal)"
    assert appeal.due == end_of(date(2027, 1, 6))
    assert appeal.basis.startswith(
        "Within 65 calendar days of the date of the notice of the organization determination: 42 CFR 422.582(b)"
    )
    assert "counted from the denial notice dated 2026-11-02" in appeal.basis
    assert appeal.source == (
        "HHS guidance: Medicare managed care appeals and grievances (update of 2024-11-20) — "
        "https://www.hhs.gov/guidance/document/medicare-managed-care-appeals-grievances"
    )
    assert external.due is None
    assert "independent review entity (IRE)" in external.action and "forwards the case itself" in external.action
    assert "42 CFR 422.592(a)" in external.basis
    assert "https://www.ecfr.gov/current/title-42/section-422.592" in (external.source or "")


@pytest.mark.parametrize(
    ("plan_type", "due", "citation"),
    [
        ("medicaid-managed-care", date(2027, 1, 1), "42 CFR 438.402(c)(2)(ii)"),
        ("marketplace", date(2027, 5, 1), "45 CFR 147.136(b)(3)(i), applying 29 CFR 2560.503-1(h)(3)(i)"),
        ("self-funded", date(2027, 5, 1), "29 CFR 2560.503-1(h)(3)(i)"),
        ("commercial", date(2027, 5, 1), "29 CFR 2560.503-1(h)(3)(i)"),
    ],
)
def test_internal_appeal_deadline_by_plan_type(plan_type: str, due: date, citation: str) -> None:
    appeal = by_kind(steps("upheld", plan_type=plan_type))["internal-appeal"]
    assert appeal.due == end_of(due)
    assert citation in appeal.basis


def test_commercial_appeal_says_grandfathered_individual_policies_follow_state_law() -> None:
    appeal = by_kind(steps("upheld", plan_type="commercial"))["internal-appeal"]
    assert "grandfathered individual policy follows State law" in appeal.basis


def test_medicaid_external_step_is_the_state_fair_hearing_90_to_120_days() -> None:
    external = by_kind(steps("upheld", plan_type="medicaid-managed-care"))["external-review"]
    assert external.action == (
        "If the appeal is upheld, ask for a State fair hearing (the State may also offer an optional external "
        "medical review)"
    )
    assert "no less than 90 and no more than 120 calendar days" in external.basis
    assert external.due is None


def test_marketplace_external_review_within_four_months() -> None:
    external = by_kind(steps("upheld", plan_type="marketplace"))["external-review"]
    assert "within four months" in external.basis and "45 CFR 147.136(c)(2)(vi), (d)(2)(i)" in external.basis


def test_unknown_plan_type_uses_the_shortest_verified_deadline_and_says_so() -> None:
    found = by_kind(steps("upheld", plan_type=None))
    appeal = found["internal-appeal"]
    assert appeal.due == end_of(date(2027, 1, 1))  # 60 days: Medicaid managed care, the shortest on file
    assert appeal.basis.startswith("The appeal deadline depends on the plan type, which is not known.")
    assert (
        "The shortest verified deadline on file (Medicaid or CHIP managed care) is used as the conservative date."
        in (appeal.basis)
    )
    assert "Within 60 calendar days of the date on the adverse benefit determination notice" in appeal.basis
    assert "depends on the plan type" in found["external-review"].action
    assert by_kind(steps("upheld", plan_type="no-such-plan"))["internal-appeal"].due == end_of(date(2027, 1, 1))


def test_unknown_notice_date_gives_no_date_rather_than_a_late_one() -> None:
    """Counting from the call would print a date after the real deadline (which runs from the notice)."""
    appeal = by_kind(steps("upheld", denial_notice=None))["internal-appeal"]
    assert appeal.due is None
    assert "the denial notice date is unknown, so no date is given: count from the date on the notice" in appeal.basis


def test_urgent_adds_the_expedited_route_decided_within_72_hours() -> None:
    found = steps("upheld", urgent=True)
    expedited = found[0]
    assert expedited.kind == "expedited-appeal"
    assert expedited.due == end_of(date(2026, 11, 25))
    assert "within 72 hours after it receives the request (42 CFR 422.590(e)(1))" in expedited.basis
    assert "could seriously jeopardize the life or health of the enrollee" in expedited.basis
    assert "42 CFR 422.584(c)(2)(ii)" in expedited.basis
    assert "section-422.584" in (expedited.source or "") and "section-422.590" in (expedited.source or "")
    assert "expedited-appeal" not in by_kind(steps("upheld"))


def test_urgent_with_unknown_plan_type_still_gets_72_hours() -> None:
    expedited = by_kind(steps("upheld", urgent=True, plan_type=None))["expedited-appeal"]
    assert "every plan type on file must decide an expedited appeal within 72 hours" in expedited.basis


@pytest.mark.parametrize(("same", "expected"), [(False, True), (True, False), (None, False)])
def test_procedural_defect_only_when_the_reviewer_specialty_differs(same: bool | None, expected: bool) -> None:
    found = by_kind(steps("upheld", reviewer_same_specialty=same))
    assert ("procedural-defect" in found) is expected


def test_procedural_defect_quotes_the_plan_types_reviewer_rule() -> None:
    found = steps("upheld", reviewer_same_specialty=False)
    defect = found[-1]
    assert defect.kind == "procedural-defect" and defect.due is None
    assert defect.action == (
        "Note in the appeal that the peer-to-peer reviewer was not of the same specialty as the ordering physician"
    )
    assert "need not, in all cases, be of the same specialty" in defect.basis and "422.590(h)(2)" in defect.basis
    medicaid = by_kind(steps("upheld", plan_type="medicaid-managed-care", reviewer_same_specialty=False))
    assert medicaid["procedural-defect"].source is None


def test_pending_documentation_defaults_to_two_business_days_past_thanksgiving() -> None:
    (send,) = steps("pending-documentation", requested_documents="MRI report of 2026-10-30; PT notes")
    assert send.kind == "send-documents"
    assert send.action == "Send the documents the reviewer asked for: MRI report of 2026-10-30; PT notes"
    assert send.due == end_of(date(2026, 11, 30))  # Thu 11-26 holiday, weekend skipped
    assert "No due date was given" in send.basis and send.source is None


def test_pending_documentation_uses_the_due_date_set_on_the_call() -> None:
    (send,) = steps("pending-documentation", requested_documents="", documents_due=date(2026, 12, 4))
    assert send.due == end_of(date(2026, 12, 4))
    assert send.basis == "Due date set on the call: 2026-12-04."
    assert "none were recorded" in send.action


def test_deferred_same_specialty_schedules_the_second_p2p_and_keeps_the_window_in_mind() -> None:
    (second,) = steps("deferred-same-specialty")
    assert second.kind == "schedule-second-p2p"
    assert second.due == end_of(date(2026, 11, 30))
    assert "P2P request window still runs" in second.basis


def test_not_reached_reschedules_then_the_written_demand_if_needed() -> None:
    found = steps("not-reached")
    assert [(s.kind, s.due) for s in found] == [
        ("reschedule-p2p", end_of(date(2026, 11, 27))),
        ("written-demand", end_of(date(2026, 11, 30))),
    ]
    assert found[1].action.startswith("If no new time is offered")


def test_a_call_on_a_friday_rolls_business_days_to_monday() -> None:
    friday = datetime(2026, 12, 4, 16, 0, tzinfo=NY)
    (send,) = steps("pending-documentation", call_end=friday)
    assert send.due == end_of(date(2026, 12, 8))


def test_steps_are_sorted_by_due_date_with_undated_last() -> None:
    found = steps("upheld", urgent=True, reviewer_same_specialty=False)
    dated = [s.due for s in found if s.due]
    assert dated == sorted(dated)
    assert [s.due for s in found[len(dated) :]] == [None, None]


def test_a_naive_call_end_or_an_unknown_disposition_is_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        steps("upheld", call_end=datetime(2026, 11, 25, 14, 30))
    with pytest.raises(ValueError, match="disposition must be one of"):
        steps("maybe")


def test_every_disposition_of_the_call_form_has_next_steps() -> None:
    assert set(STEPS_BY_DISPOSITION) == set(DISPOSITIONS)


# The content file.


def test_appeals_file_matches_its_schema() -> None:
    assert validate_rule_file(content_dir("criteria") / "appeals.yaml", "appeals")


def test_every_source_has_url_checked_date_and_quote() -> None:
    sources = rule_file("appeals")["sources"]
    assert sources
    for source_id, source in sources.items():
        assert source["url"].startswith("https://"), source_id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["checked"]), source_id
        assert len(source["quote"]) > 20, source_id


def _referenced_ids(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {i for key in ("source", "conditionSource") for i in node.get(key, [])}
        return found.union(*(_referenced_ids(v) for v in node.values()))
    return set()


def test_every_fact_names_a_source_on_file_and_every_source_is_used() -> None:
    data = rule_file("appeals")
    used = _referenced_ids(data["planTypes"])
    assert used == set(data["sources"])


def test_plan_types_are_those_of_the_payers_file() -> None:
    assert set(rule_file("appeals")["planTypes"]) == set(rule_file("payers")["planTypes"])


def test_each_quoted_number_appears_in_its_source_quote() -> None:
    data = rule_file("appeals")
    quotes = {k: v["quote"] for k, v in data["sources"].items()}
    words = {60: "60 calendar days", 65: "65 days", 180: "180 days", 72: "72 hours", 4: "four months", 90: "90"}
    for plan_type, plan in data["planTypes"].items():
        appeal, expedited = plan["internalAppeal"], plan["expedited"]
        assert any(words[appeal["amount"]] in quotes[s] for s in appeal["source"]), plan_type
        assert any(words[expedited["decisionHours"]] in quotes[s] for s in expedited["source"]), plan_type
        external = plan["externalReview"]
        if "amount" in external:
            assert any(words[external["amount"]] in quotes[s] for s in external["source"]), plan_type
