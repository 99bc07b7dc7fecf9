"""Everything the brief says about a denial before the criteria: what it is, whether to ask for a P2P, by when,
how, and what the reviewer owes. One plain function over the denial, the patient and a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from smart_app.denials.appeal_deadline import internal_appeal_deadline
from smart_app.denials.pas import Denial
from smart_app.denials.payers import rules_for, service_groups_of, source
from smart_app.denials.plan import PlanContext, plan_context, plan_types
from smart_app.denials.records_due import records_due
from smart_app.denials.reviewer_rights import no_rule_prompt, reviewer_on_record, reviewer_rights
from smart_app.denials.triage import Triage, categorise, is_generic_reason, reason_text
from smart_app.denials.window import decision_date_warning, p2p_window, time_left

STEP_THERAPY_WORDS = ("step therapy", "trial of", "inadequate response", "first-line")


@dataclass(frozen=True)
class Clock:
    """The practice's time zone and the moment the brief is built."""

    zone: ZoneInfo
    now: datetime

    @classmethod
    def now_in(cls, zone_name: str) -> Clock:
        """The clock at this moment in the time zone ``zone_name`` (an IANA name)."""
        zone = ZoneInfo(zone_name)
        return cls(zone, datetime.now(zone))


def _service_code(denial: Denial) -> str | None:
    return next((i.service.code for i in denial.items if i.service and i.service.code), None)


def _why_p2p(denial: Denial, text: str) -> str:
    code = _service_code(denial)
    groups = service_groups_of(code)
    if "advanced-imaging" in groups:
        return "Imaging denied on clinical criteria is the kind of denial a P2P overturns most often: request it."
    if any(word in text.lower() for word in STEP_THERAPY_WORDS):
        return "A step-therapy denial turns on prior treatment the chart can show: request the P2P with the dates."
    if groups:
        return "A specialty procedure denied on clinical criteria: a P2P lets the physician walk the criteria."
    return "A medical-necessity denial: a P2P lets the physician answer the criteria with dated facts."


def recommend(denial: Denial, triage: Triage, window: dict[str, Any], text: str) -> tuple[str, str]:
    """``(recommendation, one-line reason)`` from the decision, the category and the P2P window."""
    decision = denial.decision
    if decision in ("approved", "no-action", "cancelled"):
        return "none", "The request was certified (or needs no action): there is nothing to contest."
    if decision == "rejected" or triage.category == "administrative":
        return "corrected-resubmission", "An administrative problem, not a clinical one: correct it and resubmit."
    if triage.category == "timely-filing":
        return "written-appeal", "A filing-limit denial is answered in writing, with proof of timely submission."
    if triage.category == "benefit-exclusion":
        return "written-appeal", "The plan excludes the service: a P2P cannot change a benefit; appeal in writing."
    if window["route"] == "before-decision":
        return "peer-to-peer", (
            "Still pended, and this payer hears a P2P only before it decides (source below): send what it asked "
            "for and ask for the P2P now."
        )
    if decision == "pended":
        return "corrected-resubmission", "Pended, not denied: send what the payer asked for before it decides."
    if window["closed"]:
        reason = window["routeText"] or "The payer offers no P2P that can change this decision."
        return "written-appeal", reason
    if decision == "contact-payer":
        return "corrected-resubmission", "The payer asks to be contacted: call the number on the letter first."
    if triage.category == "medical-necessity":
        return "peer-to-peer", _why_p2p(denial, text)
    return "peer-to-peer", "The denial does not say why: a P2P is the quickest way to learn the failed criterion."


def specific_reason(denial: Denial, plan: PlanContext, generic: bool) -> dict[str, Any] | None:
    """The CMS-0057-F specific-reason check: whether the rule covers this denial and whether it was met."""
    entry = plan_types().get(plan.plan_type or "", {}).get("specificReasonRequired")
    if not entry or denial.decided_at is None or denial.decision not in ("denied", "partial", "modified"):
        return None
    if denial.is_drug:
        return {"required": False, "flagged": False, "text": "CMS-0057-F's specific-reason rule excludes drugs."}
    if denial.decided_at.date() < date.fromisoformat(entry["from"]):
        return None
    found = source(entry["source"])
    text = "Under CMS-0057-F the payer must state the specific reason for denying this item or service. " + (
        "This denial gives only a generic reason: ask which specific criterion was not met, and note the "
        "answer for the appeal."
        if generic
        else "The denial states a reason."
    )
    return {
        "required": True,
        "flagged": generic,
        "text": text,
        "note": entry.get("note"),
        "source": f"{found['title']} — {found['url']}",
    }


def assess(denial: Denial, patient: dict[str, Any] | None, clock: Clock, practice_state: str | None) -> dict[str, Any]:
    """The triage, payer, window and reviewer-rights parts of one denial's brief (brief JSON keys)."""
    plan = plan_context(denial, patient, practice_state)
    payer_rules = rules_for(denial, plan.plan_type, _service_code(denial))
    triage = categorise(denial)
    window = p2p_window(denial, payer_rules, clock.zone, clock.now, plan.state)
    text = reason_text(denial)
    recommendation, why = recommend(denial, triage, window, text)
    generic = is_generic_reason(denial)
    rights = reviewer_rights(denial, plan)
    warnings = [w for w in (decision_date_warning(denial, clock.now),) if w]
    if payer_rules.payer is None and payer_rules.delegate is None and window["route"] != "none":
        warnings.append(f"Unknown payer ({denial.payer_name or 'not named'}): the P2P window is a default.")
    return {
        "payer": {
            "name": denial.payer_name,
            "key": payer_rules.payer.key if payer_rules.payer else None,
            "recognisedAs": payer_rules.payer.name if payer_rules.payer else None,
            "matchedBy": payer_rules.payer.matched_by if payer_rules.payer else None,
            "delegate": payer_rules.delegate.name if payer_rules.delegate else None,
        },
        "planType": plan.plan_type,
        "planTypeLabel": plan_types().get(plan.plan_type or "", {}).get("label"),
        "planTypeBasis": plan.plan_type_basis,
        "state": plan.state,
        "stateBasis": plan.state_basis,
        "category": triage.category,
        "categorySignal": triage.signal,
        "categoryBasis": triage.basis,
        "recommendation": recommendation,
        "recommendationReason": why,
        "genericReason": generic,
        "specificReason": specific_reason(denial, plan, generic),
        "p2pWindow": window,
        "reviewerRights": rights,
        "reviewerAsk": rights["say"] if rights else no_rule_prompt(),
        "reviewer": reviewer_on_record(denial),
        "appealRoute": _appeal_route(plan),
        "recordsDue": records_due(denial, clock.zone, clock.now),
        "appealDeadline": appeal_deadline(denial, plan.plan_type, clock)
        if recommendation == "written-appeal"
        else None,
        "warnings": warnings,
    }


def appeal_deadline(denial: Denial, plan_type: str | None, clock: Clock) -> dict[str, Any]:
    """The ``appealDeadline`` of the brief JSON: the written appeal's ``deadline`` (or None), ``basis``, ``source``.

    The decision date of the payer's answer stands for the date on the denial notice; a date with no time is
    that day where the practice is.
    """
    notice = denial.decided_at
    if notice is not None and notice.tzinfo is None:
        notice = notice.replace(tzinfo=clock.zone)
    found = internal_appeal_deadline(plan_type, notice, clock.zone, notice_before=clock.now.date())
    return {
        "action": found.action,
        "deadline": found.due.isoformat() if found.due else None,
        "basis": found.basis,
        "source": found.source,
        "timeLeft": time_left(found.due, clock.now) if found.due else None,
        "closed": bool(found.due and found.due.timestamp() <= clock.now.timestamp()),
    }


def _appeal_route(plan: PlanContext) -> dict[str, str] | None:
    appeal = plan_types().get(plan.plan_type or "", {}).get("appeal")
    if not appeal:
        return None
    found = source(appeal["source"])
    return {"text": appeal["text"], "source": f"{found['title']} — {found['url']}"}
