"""What the reviewer owes: the same-specialty (or appropriate-expertise) rule for a denial's plan type and state,
from ``criteria/reviewer-rights.yaml``, and whether the reviewer on record matches the ordering physician.

A rule of state law never applies to a self-funded employer plan (ERISA takes those out of state insurance law),
and with an unknown plan type a state rule is shown with that caveat rather than silently applied.
"""

from __future__ import annotations

from typing import Any

from smart_app.denials.pas import Denial
from smart_app.denials.plan import PlanContext
from smart_app.rule_files import rule_file

# Which rule leads depends on where the case stands: before the decision, the pre-denial discussion; after it,
# the rules that govern the determination and the appeal (a pre-denial rule becomes a procedural point).
STAGES_PENDED = ("before-denial", "adverse-determination", "reconsideration", "appeal")
STAGES_DECIDED = ("adverse-determination", "reconsideration", "appeal", "before-denial")
STATE_REGULATED_CAVEAT = (
    "Applies only if the plan is state-regulated (fully insured), not a self-funded employer plan under ERISA: "
    "confirm the plan type."
)


def _applies(rule: dict[str, Any], plan: PlanContext) -> bool:
    state_ok = "*" in rule["states"] or (plan.state is not None and plan.state in rule["states"])
    if not state_ok:
        return False
    if plan.plan_type is None:
        return "*" not in rule["states"]  # a state rule may apply; a federal program rule needs the program
    return plan.plan_type in rule["planTypes"]


def applicable_rules(plan: PlanContext, *, decided: bool = True) -> list[dict[str, Any]]:
    """The reviewer-rights rules for this plan type and state, the case's own stage first."""
    order = STAGES_DECIDED if decided else STAGES_PENDED
    rules = [r for r in rule_file("reviewer-rights")["rules"] if _applies(r, plan)]
    return sorted(rules, key=lambda r: order.index(r["stage"]))


def reviewer_on_record(denial: Denial) -> dict[str, Any]:
    """The reviewer the payer named (PAS ``claimResponseReviewer``) against the ordering physician's specialty."""
    reviewer = denial.reviewer
    ordering = denial.ordering_provider.specialty if denial.ordering_provider else None
    reviewed = reviewer.specialty if reviewer else None
    same = None
    if reviewed and ordering and reviewed.code and ordering.code:
        same = reviewed.code == ordering.code
    return {
        "humanReviewed": reviewer.human_reviewed if reviewer else None,
        "reviewerNpi": reviewer.npi if reviewer else None,
        "reviewerSpecialty": reviewed.as_dict() if reviewed else None,
        "orderingSpecialty": ordering.as_dict() if ordering else None,
        "sameSpecialty": same,
    }


def _other(rule: dict[str, Any], decided: bool) -> dict[str, Any]:
    say = rule["say"]
    if decided and rule["stage"] == "before-denial":
        say = (
            f"Before the denial, {rule['citation']} required this discussion with a qualifying physician. "
            "If it was not offered, record that as a procedural defect for the appeal."
        )
    return {"citation": rule["citation"], "stage": rule["stage"], "say": say, "source": rule["source"]["url"]}


def reviewer_rights(denial: Denial, plan: PlanContext) -> dict[str, Any] | None:
    """``{citation, text, say, stage, sameSpecialty, source, others, caveat}`` for the leading rule, or None."""
    decided = denial.decision != "pended"
    rules = applicable_rules(plan, decided=decided)
    if not rules:
        return None
    first = rules[0]
    state_law = "*" not in first["states"]
    caveat = STATE_REGULATED_CAVEAT if state_law and (plan.plan_type is None or not plan.fully_insured) else None
    return {
        "citation": first["citation"],
        "text": first["text"],
        "say": first["say"],
        "stage": first["stage"],
        "sameSpecialty": first["sameSpecialty"],
        "note": first.get("note"),
        "source": first["source"]["url"],
        "caveat": caveat,
        "others": [_other(r, decided) for r in rules[1:]],
    }


def no_rule_prompt() -> str:
    """What to ask when no rule applies: the reviewer's name, credentials and specialty, for the record."""
    return str(rule_file("reviewer-rights")["noRule"]["say"])
