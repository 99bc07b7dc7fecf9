"""The criteria part of one denial's brief: which policy applies, each criterion with its evidence, the overall
result, the guideline citations, and the prior treatments that matter to the policy."""

from __future__ import annotations

from datetime import date
from typing import Any

from smart_app.criteria.evaluate import evaluate_policy, relevant_facts
from smart_app.criteria.index import ChartIndex, index_chart
from smart_app.criteria.library import Library, library
from smart_app.criteria.treatments import courses
from smart_app.denials.pas import Denial
from smart_app.fhir.chart import Chart
from smart_app.fhir.facts import Code

GENERIC_OUTLINE = (
    "The diagnosis and how long it has lasted (with its first documented date).",
    "What was tried first, with dates and how it ended (failed, not tolerated, contraindicated).",
    "Why this service is the next step — name the guideline you will cite (write it in: none is on file).",
)


def request_date(denial: Denial, today: date) -> date:
    """The day the policy's time rules count back from: the request's date, else the decision's, else today."""
    if denial.requested_on:
        return denial.requested_on
    if denial.decided_at:
        return denial.decided_at.date()
    return today


def stand_in_text(payer: str | None, publisher: str) -> str:
    """Why another publisher's criteria sit where the denying payer's should: said plainly, so nobody quotes them
    to the reviewer as the payer's own."""
    payer = payer or "The payer"
    return (
        f"{payer}'s own policy for this service is not on file. The criteria below stand in for it, from another "
        f"published policy, the one on file for this service: {publisher}. Ask the reviewer which {payer} "
        "criterion the denial applies, and answer it from the chart."
    )


def _service(denial: Denial) -> Code | None:
    return next((i.service for i in denial.items if i.service), None)


def criteria_for(
    denial: Denial, chart: Chart, payer_key: str | None, today: date, lib: Library | None = None
) -> dict[str, Any]:
    """The brief keys ``policy``, ``policyResult``, ``criteria``, ``guidelines`` and the policy's treatments."""
    lib = lib or library()
    service = _service(denial)
    policy = lib.policy_for(service, payer_key)
    if policy is None:
        named = f"{service.system_name} {service.code}" if service and service.code else "this service"
        return {
            "policy": None,
            "policyResult": None,
            "criteria": [],
            "guidelines": [],
            "noPolicy": f"No policy on file for {named}: map each criterion the reviewer reads to the chart by hand.",
            "genericOutline": list(GENERIC_OUTLINE),
            "policyTreatments": None,
        }
    index: ChartIndex = index_chart(chart, lib.ingredients)
    on = request_date(denial, today)
    own = payer_key in policy.payers
    result = evaluate_policy(policy, lib, index, on)
    return {
        "policy": {
            "id": policy.id,
            "title": policy.title,
            "source": policy.source_url,
            "publisher": policy.publisher,
            "version": policy.version,
            "follows": policy.follows,
            "appliesTo": "this payer" if own else "any payer (guideline-based default)",
            "combine": policy.combine,
            "standIn": None if own else stand_in_text(denial.payer_name, policy.publisher),
        },
        "policyResult": result["policyResult"],
        "criteria": result["criteria"],
        "requestDate": on.isoformat(),
        "guidelines": [
            {key: lib.guidelines[g][key] for key in ("citation", "source", "short", "supports")}
            for g in policy.guidelines
        ],
        "ifUpheld": policy.if_upheld,
        "noPolicy": None,
        "genericOutline": None,
        "policyTreatments": [c.as_dict() for c in courses(relevant_facts(policy, lib, index), lib, on)],
    }
