"""Reviewer rights: the rule for the plan type and state, quoted from its text, never stronger than it."""

from __future__ import annotations

import pytest
from builders import chart_of, claim, claim_response, coverage, organization

from smart_app.denials.pas import read_denial
from smart_app.denials.plan import PlanContext, plan_context
from smart_app.denials.reviewer_rights import reviewer_rights
from smart_app.rule_files import rule_file


def _plan(plan_type: str | None, state: str | None, fully_insured: bool | None = True) -> PlanContext:
    return PlanContext(plan_type, "test", state, "test", fully_insured)


def _denial(code: str = "A3"):  # type: ignore[no-untyped-def]
    response = claim_response(code)
    return read_denial(response, chart_of(claim(), response).resolve)


@pytest.mark.parametrize(
    ("plan_type", "state", "citation", "same"),
    [
        ("commercial", "TX", "Tex. Ins. Code § 4201.356(b)", True),
        ("medicaid-managed-care", "TX", "Tex. Gov't Code § 540.0305 (Medicaid managed care, from 2025-04-01)", True),
        ("commercial", "IL", "215 ILCS 200/35 (Illinois Prior Authorization Reform Act)", False),
        ("commercial", "NY", "N.Y. Ins. Law §§ 4900(b)(1), 4903(a), 4904(d)", False),
        ("commercial", "DC", "D.C. Code § 31-3875.06", True),
        (
            "medicare-advantage",
            "FL",
            "42 CFR § 422.590 (who must reconsider an adverse organization determination)",
            False,
        ),
    ],
)
def test_rule_for_plan_type_and_state(plan_type: str, state: str, citation: str, same: bool) -> None:
    rights = reviewer_rights(_denial(), _plan(plan_type, state))
    assert rights is not None
    assert rights["citation"] == citation
    assert rights["sameSpecialty"] is same
    assert rights["text"] and rights["say"] and rights["source"].startswith("https://")


def test_illinois_names_the_appeal_rule_as_a_later_step() -> None:
    rights = reviewer_rights(_denial(), _plan("commercial", "IL"))
    assert [o["citation"] for o in rights["others"]] == ["215 ILCS 200/45 (Illinois Prior Authorization Reform Act)"]
    assert rights["others"][0]["stage"] == "appeal"


def test_medicare_advantage_rule_says_it_is_not_a_same_specialty_right() -> None:
    rights = reviewer_rights(_denial(), _plan("medicare-advantage", "TX"))
    assert "need not, in all cases, be of the same specialty" in rights["text"]
    assert "not a right to the same specialty" in rights["say"]


@pytest.mark.parametrize(("plan_type", "state"), [("self-funded", "TX"), ("commercial", "PA"), ("commercial", None)])
def test_no_rule_where_none_applies(plan_type: str, state: str | None) -> None:
    assert reviewer_rights(_denial(), _plan(plan_type, state)) is None


def test_unknown_plan_type_shows_a_state_rule_with_its_caveat() -> None:
    rights = reviewer_rights(_denial(), _plan(None, "TX"))
    assert rights["citation"] == "Tex. Ins. Code § 4201.356(b)"
    assert "not a self-funded employer plan" in rights["caveat"]
    assert reviewer_rights(_denial(), _plan(None, "FL")) is None  # the federal MA rule needs the program known


def test_no_state_law_rule_lists_self_funded_plans() -> None:
    for rule in rule_file("reviewer-rights")["rules"]:
        if "*" not in rule["states"]:
            assert "self-funded" not in rule["planTypes"], rule["id"]


def test_state_comes_from_the_patient_address_then_the_practice() -> None:
    response = claim_response()
    chart = chart_of(
        claim(), response, organization("payer", "Aetna"), coverage("Organization/payer", "512"), state="TX"
    )
    denial = read_denial(response, chart.resolve)
    plan = plan_context(denial, chart.patient, "IL")
    assert (plan.plan_type, plan.state) == ("commercial", "TX") and "patient's address" in plan.state_basis
    plan = plan_context(denial, {"resourceType": "Patient"}, "il")
    assert plan.state == "IL" and "P2P_PRACTICE_STATE" in plan.state_basis


def test_the_stage_follows_the_case_before_and_after_the_decision() -> None:
    pended = reviewer_rights(_denial("A4"), _plan("commercial", "TX"))
    assert pended["citation"] == "28 Tex. Admin. Code § 19.1710" and pended["stage"] == "before-denial"
    assert "Texas-licensed physician of the same or" in pended["say"]
    denied = reviewer_rights(_denial("A3"), _plan("commercial", "TX"))
    assert denied["stage"] == "appeal"
    (late,) = [o for o in denied["others"] if o["stage"] == "before-denial"]
    assert "If it was not offered, record that as a procedural defect for the appeal." in late["say"]


def test_a_commercial_plan_not_known_to_be_insured_carries_the_erisa_caveat() -> None:
    rights = reviewer_rights(_denial(), _plan("commercial", "IL", fully_insured=None))
    assert rights["citation"].startswith("215 ILCS 200/35") and "self-funded employer plan" in rights["caveat"]
    assert reviewer_rights(_denial(), _plan("commercial", "IL", fully_insured=True))["caveat"] is None
    assert reviewer_rights(_denial(), _plan("medicare-advantage", "IL"))["caveat"] is None  # federal rule


def test_plan_words_match_whole_words_only() -> None:
    response = claim_response()
    cov = coverage("Organization/payer", None)
    cov["class"] = [{"type": {"text": "group"}, "value": "g", "name": "Home Depot Health Plan"}]
    chart = chart_of(claim(), response, organization("payer", "Acme"), cov)
    plan = plan_context(read_denial(response, chart.resolve), chart.patient, None)
    assert plan.plan_type is None  # "EPO" inside "Depot" is not a plan type
