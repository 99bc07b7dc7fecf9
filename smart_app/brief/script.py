"""The words of the brief that the app writes itself, always from structured, dated facts: the three-sentence
clinical bottom line and the call script (open, walk the criteria, engage, close, ready phrases).

Nothing here invents a fact: every date comes from the chart or the payer's answer, every citation from
``criteria/guidelines.yaml``; what is missing is said to be missing.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from smart_app.criteria.evaluate import leaves

CONFIRM = "not documented — confirm before the call"


def _first_clause(text: str | None) -> str | None:
    """The first clause of an outcome, whole: the printed page cuts it (at a word) only when it needs the room."""
    if not text:
        return None
    return text.split(";")[0].strip().rstrip(".") or None


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def span_in_words(since: date, until: date) -> str:
    """How long from ``since`` to ``until`` as a person says it: "3 years 6 months", "5 months", "3 weeks",
    "4 days" (whole units, rounded down)."""
    months = (until.year - since.year) * 12 + until.month - since.month - (until.day < since.day)
    if months >= 12:
        years, rest = divmod(months, 12)
        return _plural(years, "year") + (f" {_plural(rest, 'month')}" if rest else "")
    if months >= 2:
        return _plural(months, "month")
    days = (until - since).days
    return _plural(days // 7, "week") if days >= 14 else _plural(days, "day")


def _diagnosis_line(brief: dict[str, Any], denial: dict[str, Any], request: date | None) -> str:
    """The request's first diagnosis that the chart dates (the request lists the primary diagnosis first)."""
    conditions = [c for c in brief.get("conditions") or [] if c.get("onset")]
    for dx in denial.get("diagnoses") or []:
        code = (dx.get("code") or "").replace(".", "")
        matches = [c for c in conditions if any((k.get("code") or "").replace(".", "") == code for k in c["codes"])]
        if matches:
            first = min(matches, key=lambda c: c["onset"])
            since = date.fromisoformat(first["onset"])
            span = f", {span_in_words(since, request)} before the request" if request and request >= since else ""
            return f"{first['name']}, documented since {first['onset']}{span}."
    if denial.get("diagnoses"):
        dx = denial["diagnoses"][0]
        return (
            f"Diagnosis on the request: {dx['code']} {dx.get('display') or ''}".rstrip() + f"; its onset is {CONFIRM}."
        )
    return f"The diagnosis is {CONFIRM}."


def _treatment_line(denial: dict[str, Any]) -> str:
    if not denial.get("policy"):  # without a policy the app cannot tell which treatments matter
        return f"Prior treatment relevant to this request: {CONFIRM} (the chart's treatments are listed below)."
    courses = [t for t in denial.get("priorTreatments") or [] if t.get("start")][-4:]
    if not courses:
        return f"Prior treatment relevant to this request: {CONFIRM}."
    parts = []
    for course in courses:
        end = course.get("end") or "ongoing"
        if course.get("end") and course.get("status") == "active":
            end += " (order still active)"
        outcome = _first_clause(course.get("outcome"))
        name = re.sub(r" \(\d+ records\)$", "", course["name"])
        parts.append(f"{name} {course['start']} to {end}" + (f" ({outcome})" if outcome else ""))
    return "Tried: " + "; ".join(parts) + "."


def _next_step_line(denial: dict[str, Any]) -> str:
    service = denial.get("serviceText") or "the requested service"
    guideline = next((g for g in denial.get("guidelines") or [] if not g.get("addedBy")), None)
    cited = f" {guideline['short']} supports it." if guideline else ""
    if not denial.get("policy"):
        return f"No policy is on file for {service}: name the guideline that makes it the next step.{cited}"
    title = denial["policy"]["title"]
    criteria = denial.get("criteria") or []
    missing = [c for c in criteria if c["status"] == "not-documented" and c["id"] not in unneeded_criteria(denial)]
    contradicted = [c for c in criteria if c["status"] == "not-met"]
    if denial.get("policyResult") == "meets":
        return f"Under {title}, the chart documents what the policy asks for.{cited}"
    if denial.get("policyResult") == "does-not-meet" and contradicted:
        return f"Under {title}, the chart holds a fact against: {contradicted[0]['text']}{cited}"
    return f"Under {title}, {len(missing)} criteria still need a fact: confirm them before the call.{cited}"


def unneeded_criteria(denial: dict[str, Any]) -> set[str]:
    """Criteria in an any-of branch that another, met branch already satisfies (alternatives not needed)."""
    statuses = {c["id"]: c["status"] for c in denial.get("criteria") or []}
    combine = (denial.get("policy") or {}).get("combine")
    unneeded: set[str] = set()

    def value(node: Any) -> bool | None:
        if isinstance(node, str):
            return {"met": True, "not-met": False}.get(statuses.get(node, ""))
        children = node.get("allOf") or node.get("anyOf") or []
        values = [value(child) for child in children]
        if "anyOf" in node:
            if True in values:
                for child, result in zip(children, values, strict=True):
                    if result is not True:
                        unneeded.update(leaves(child))
                return True
            return None if None in values else False
        return False if False in values else (None if None in values else True)

    if combine:
        value(combine)
    return unneeded


def bottom_line(brief: dict[str, Any], denial: dict[str, Any]) -> list[str]:
    """Three sentences: the diagnosis and how long; what was tried, with dates and outcomes; why this is next."""
    request = date.fromisoformat(denial["requestDate"]) if denial.get("requestDate") else None
    return [_diagnosis_line(brief, denial, request), _treatment_line(denial), _next_step_line(denial)]


def _age(birth: str | None, on: date) -> str | None:
    """Whole years on ``on``; None for a missing or partial birth date (no guessed age)."""
    if not birth or len(birth) < 10:
        return None
    try:
        born = date.fromisoformat(birth[:10])
    except ValueError:
        return None
    return str(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))


def call_script(brief: dict[str, Any], denial: dict[str, Any], today: date) -> dict[str, Any]:
    """The call, in the order it goes: open in 60 seconds, walk the criteria, engage, close, and ready phrases.

    It follows the brief as the practice prepared it: an edited bottom line, an added citation and an attestation
    appear here marked as the practice's, never as chart facts.
    """
    patient = brief.get("patient") or {}
    age = _age(patient.get("birthDate"), today)
    who = f"a {age}-year-old" if age else "a patient"
    decision = {"pended": "the pended request for", "denied": "the denial of"}.get(denial.get("decision", ""), "")
    lines = list(denial.get("bottomLine") or bottom_line(brief, denial))
    if denial.get("bottomLineBy"):
        lines.append(f"(Bottom line {denial['bottomLineBy']}.)")
    opening = [
        f"I'm calling about {who} (member ID {patient.get('memberId') or 'on the letter'}), reference "
        f"{denial.get('preAuthRef') or 'on the letter'}, about {decision or 'the decision on'} "
        f"{denial.get('serviceText')}.",
        *lines,
        "I'm asking you to authorize it today.",
    ]
    unneeded = unneeded_criteria(denial)
    walk = []
    for criterion in denial.get("criteria") or []:
        facts = "; ".join(e["summary"] for e in criterion["evidence"][:2])
        if criterion["id"] in unneeded:
            say = "An alternative route; not needed, because another route of the policy is met."
        elif criterion["status"] == "met":
            say = f"This is met: {criterion['note'] + ' — ' if criterion.get('note') else ''}{facts}."
        elif criterion["status"] == "not-met":
            say = f"The chart shows {facts or 'a conflicting fact'}: explain why the service is still needed."
        else:
            say = f"{CONFIRM.capitalize()}" + (f" (on record: {facts})" if facts else "") + "."
        if criterion.get("attested"):
            say += f" The practice's attestation (not chart evidence): {criterion['attested']}."
        walk.append({"criterion": criterion["text"], "status": criterion["status"], "say": say})
    engage = ["Which guideline or policy criterion are you applying, and where does this chart fall short of it?"]
    if any(t.get("start") for t in denial.get("priorTreatments") or []) and denial.get("policy"):
        engage.append("First-line therapy was tried, with the dates above; what would you have expected instead?")
    for guideline in (denial.get("guidelines") or [])[:2]:
        mark = f" ({guideline['addedBy']})" if guideline.get("addedBy") else ""
        engage.append(f"The evidence base: {guideline['citation']}{mark}")
    close = [
        "Can you approve it on this call? What is the authorization number?",
        "Please send written confirmation within 24 hours; I'll note your name and the time of this call.",
    ]
    ask = denial.get("reviewerAsk") or "Is a reviewer in my specialty available?"
    phrases = [
        "Which specific criterion was not met?",
        "What additional information would change this decision?",
        ask,
    ]
    if not ask.startswith("May I have your name"):
        phrases.insert(0, "May I have your name, your credentials and your specialty for my record?")
    if (denial.get("specificReason") or {}).get("flagged"):
        phrases.insert(1, "The denial gives no specific reason, as CMS-0057-F requires: which criterion failed?")
    return {"opening": opening, "walk": walk, "engage": engage, "close": close, "phrases": phrases}


def next_route(denial: dict[str, Any]) -> str:
    """What comes after an upheld decision: the written appeal, expedited when waiting could harm the patient."""
    appeal = (denial.get("appealRoute") or {}).get("text")
    route = (
        "File the written appeal; ask for an expedited appeal if waiting could seriously jeopardize the patient's "
        "life, health or ability to function."
    )
    return route + (f" {appeal}" if appeal else "")
