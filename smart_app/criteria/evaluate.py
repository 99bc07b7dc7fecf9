"""Evaluate a policy against an indexed chart: each criterion ``met``, ``not-met`` or ``not-documented`` with its
dated evidence, and the policy's groups combined into ``meets``, ``does-not-meet`` or ``incomplete``.

An evidence rule is declarative (find / valueset / atLeastDaysBefore / withinDaysBefore / minDays / value /
where) and compiles to FHIRPath: the time and value tests run in fhirpathpy over each fact's normalised dates
(``%start``, ``%end``, ``%request``) and value (``%value``), and ``where`` runs on the resource itself.

Safety rules, by construction: ``met`` needs at least one dated fact that passes; ``not-met`` needs a dated fact
that contradicts the rule (too short, too old, too recent, a failing value); anything else is
``not-documented``. Absence of data is never ``met``. Where the EHR did not give a kind of record in full (a
search that failed, ran out of time, or stopped short of its ``Bundle.total``), a rule over that kind is never
``not-met``, nor ``met`` on a count or a latest value: the records not read could change the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, partial
from typing import Any

from fhirpathpy import compile as compile_fhirpath

from smart_app.criteria.index import ChartIndex, Fact
from smart_app.criteria.library import Library, Policy, ValueSet
from smart_app.fhir.quantities import quantity_words

MET, NOT_MET, NOT_DOCUMENTED = "met", "not-met", "not-documented"
TEXT_MATCH = " — matched by its text, not a code: confirm"


@cache
def fhirpath(expression: str) -> Any:
    """A compiled FHIRPath expression (compiled once per process)."""
    return compile_fhirpath(expression)


def _true(expression: str, resource: dict[str, Any], env: dict[str, Any]) -> bool:
    return fhirpath(expression)(resource, env) == [True]


def rule_expressions(evidence: dict[str, Any]) -> dict[str, str]:
    """The FHIRPath each declarative rule compiles to (also what ``criteria lint`` parses)."""
    found = {}
    if "atLeastDaysBefore" in evidence:
        found["atLeastDaysBefore"] = f"%start <= %request - {int(evidence['atLeastDaysBefore'])} days"
    if "withinDaysBefore" in evidence:
        found["withinDaysBefore"] = (
            f"%end >= %request - {int(evidence['withinDaysBefore'])} days and %start <= %request"
        )
    if "minDays" in evidence:
        found["minDays"] = f"%span >= {int(evidence['minDays'])}"
    if "value" in evidence:
        rule = evidence["value"]
        found["value"] = f"%value {rule['op']} {float(rule['value'])}"
    if "minCount" in evidence:
        found["minCount"] = f"%count >= {int(evidence['minCount'])}"
    if "maxCount" in evidence:
        found["maxCount"] = f"%count <= {int(evidence['maxCount'])}"
    if "where" in evidence:
        found["where"] = str(evidence["where"])
    return found


@dataclass
class ItemResult:
    """One evidence rule's answer."""

    status: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None


VISIT_GAP_DAYS = 30  # visits of one therapy no more than this apart form one continuous course


def _env(fact: Fact, request: date, *, latest: bool = False) -> dict[str, Any]:
    """FHIRPath variables for one fact: its start (earliest or latest reading of a partial date) and end."""
    start = fact.latest_start if latest else fact.start
    end = fact.end or (request if fact.ongoing else start)
    if latest and end and start and end < start:
        end = start
    return {"start": start.isoformat(), "end": (end or start).isoformat(), "request": request.isoformat()}  # type: ignore[union-attr]


def _say(fact: Fact, request: date) -> str:
    if fact.kind == "observation":
        value = quantity_words(fact.value, fact.unit, fact.name) if fact.value is not None else (fact.value_text or "")
        return f"{fact.name} {value}, {fact.start}".replace("  ", " ")
    if fact.kind == "condition":
        return f"{fact.name}, since {fact.start}"
    end: Any = fact.end or fact.start
    if fact.ongoing or (fact.end and fact.end > request):  # a supply running past the request: still taking it
        end = "ongoing at the request"
    when = f"{fact.start}" if end == fact.start else f"{fact.start} to {end}"
    outcome = (fact.outcome or "").strip().rstrip(".")  # "(… weekly.)." read as a typo
    return f"{fact.name}, {when}" + (f" ({outcome})" if outcome else "")


def _cite(facts: list[Fact], text_match: set[str], request: date) -> list[dict[str, Any]]:
    return [
        {
            "reference": f.reference,
            "date": f.start.isoformat() if f.start else None,
            "summary": _say(f, request) + (TEXT_MATCH if f.reference in text_match else ""),
        }
        for f in facts
    ]


def _candidates(
    evidence: dict[str, Any], library: Library, index: ChartIndex
) -> tuple[dict[str, list[Fact]], set[str]]:
    """Facts per value set (by code; by words only when no code matched), and which came from words."""
    ids = evidence["valueset"] if isinstance(evidence["valueset"], list) else [evidence["valueset"]]
    per_set: dict[str, list[Fact]] = {}
    by_text: set[str] = set()
    for vs_id in ids:
        vs: ValueSet = library.valuesets[vs_id]
        facts = index.lookup(evidence["find"], vs.exact, vs.prefixes)
        if not facts and vs.words:
            lowered = tuple(w.lower() for w in vs.words)
            facts = [f for f in index.by_kind.get(evidence["find"], []) if any(w in f.name.lower() for w in lowered)]
            by_text |= {f.reference for f in facts}
        if "where" in evidence:
            facts = [f for f in facts if _true(evidence["where"], f.resource, {})]
        per_set[vs_id] = facts
    return per_set, by_text


def _intervals(facts: list[Fact], request: date, window_start: date | None) -> list[tuple[date, date]]:
    """Days of therapy as merged intervals inside the window: drug records that overlap or touch merge; visits of
    a procedure no more than ``VISIT_GAP_DAYS`` apart form one course. Starts use the latest reading of a date."""
    spans = []
    for fact in facts:
        first = fact.latest_start
        last = min(fact.end or (request if fact.ongoing else first), request)  # type: ignore[type-var]
        if window_start:
            first = max(first, window_start)  # type: ignore[type-var]
        if first and last and last >= first:
            spans.append((first, last, fact.kind))
    merged: list[tuple[date, date]] = []
    for first, last, kind in sorted(spans):
        gap = VISIT_GAP_DAYS if kind == "procedure" else 1
        if merged and first <= merged[-1][1] + timedelta(days=gap):
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _span(facts: list[Fact], request: date, window_start: date | None) -> tuple[int, date | None, date | None]:
    """Total days of therapy in the window (gaps between courses do not count), and its first and last day."""
    merged = _intervals(facts, request, window_start)
    if not merged:
        return 0, None, None
    return sum((last - first).days + 1 for first, last in merged), merged[0][0], merged[-1][1]


def _course_rule(
    evidence: dict[str, Any], per_set: dict[str, list[Fact]], request: date, by_text: set[str]
) -> ItemResult:
    cite = partial(_cite, text_match=by_text, request=request)
    within = evidence.get("withinDaysBefore")
    window_start = request - timedelta(days=int(within)) if within else None
    rules = rule_expressions(evidence)
    span_rule = rules.get("minDays", "%span >= 1")
    groups = []
    for vs_id, facts in per_set.items():
        dated = [f for f in facts if f.start and f.latest_start <= request]  # type: ignore[operator]
        if within:
            dated = [f for f in dated if _true(rules["withinDaysBefore"], {}, _env(f, request))]
        if dated:
            groups.append((vs_id, dated))
    if not groups:
        return ItemResult(NOT_DOCUMENTED)
    facts = [f for _, group in groups for f in group]
    unknown_length = any(not f.duration_known for f in facts)
    if "minCount" in evidence:  # count the value sets (drug classes) that each reach the minimum duration
        spans = {vs_id: _span(group, request, window_start)[0] for vs_id, group in groups}
        passing = [vs_id for vs_id, days in spans.items() if _true(span_rule, {}, {"span": days})]
        note = f"{len(passing)} of the required {evidence['minCount']} classes documented for long enough"
        if _true(rules["minCount"], {}, {"count": len(passing)}):
            return ItemResult(MET, cite(facts), note)
        # Not met only when enough classes were tried and the trials themselves fell short.
        tried_enough = _true(rules["minCount"], {}, {"count": len(groups)})
        status = NOT_MET if tried_enough and not unknown_length else NOT_DOCUMENTED
        return ItemResult(status, cite(facts), note)
    days, first, last = _span(facts, request, window_start)
    note = f"{days} days documented ({first} to {last})"
    if _true(span_rule, {}, {"span": days}):
        return ItemResult(MET, cite(facts), note)
    if unknown_length:  # a record without an end might have lasted long enough
        return ItemResult(NOT_DOCUMENTED, cite(facts), note + "; a record has no end date: confirm how long")
    return ItemResult(NOT_MET, cite(facts), note)


def _point_rule(
    evidence: dict[str, Any],
    per_set: dict[str, list[Fact]],
    request: date,
    by_text: set[str],
    valuesets: list[ValueSet] | None = None,
) -> ItemResult:
    cite = partial(_cite, text_match=by_text, request=request)
    valuesets = valuesets or []
    rules = rule_expressions(evidence)
    facts = [f for group in per_set.values() for f in group]
    undated = [f for f in facts if not f.start]
    dated = sorted((f for f in facts if f.start and f.latest_start <= request), key=lambda f: f.latest_start)  # type: ignore[arg-type, operator, return-value]
    if not dated:
        return ItemResult(NOT_DOCUMENTED, note="an undated record was found: confirm its date" if undated else None)
    if "atLeastDaysBefore" in rules:
        rule = rules["atLeastDaysBefore"]
        passing = [f for f in dated if _true(rule, {}, _env(f, request, latest=True))]
        if passing:
            return ItemResult(MET, cite(passing[:1]), f"documented since {passing[0].start}")
        earliest = min(dated, key=lambda f: f.start)  # type: ignore[arg-type, return-value]
        if undated or any(_true(rule, {}, _env(f, request)) for f in dated):  # a partial or missing date
            return ItemResult(NOT_DOCUMENTED, cite([earliest]), "the first date on record is not exact: confirm it")
        days = (request - earliest.latest_start).days  # type: ignore[operator]
        return ItemResult(NOT_MET, cite([earliest]), f"first documented {days} days before the request")
    recent = dated
    if "withinDaysBefore" in rules:
        rule = rules["withinDaysBefore"]
        recent = [f for f in dated if _true(rule, {}, _env(f, request))]
        if not recent:
            if "maxCount" in rules:  # none in the window is a count of zero only if the chart is complete: unknown
                return ItemResult(NOT_DOCUMENTED, cite(dated[-1:]), "none on record in the window")
            if undated or any(_true(rule, {}, _env(f, request, latest=True)) for f in dated):
                return ItemResult(NOT_DOCUMENTED, cite(dated[-1:]), "the date on record is not exact: confirm it")
            latest = dated[-1]
            days = (request - latest.latest_start).days  # type: ignore[operator]
            return ItemResult(NOT_MET, cite([latest]), f"latest is {days} days before the request")
    latest = recent[-1]
    if "maxCount" in rules:  # e.g. prior PET scans: a documented count within the limit, never an assumed zero
        note = f"{len(recent)} on record (limit {evidence['maxCount']})"
        if undated or any(f.start != f.latest_start for f in recent):
            return ItemResult(NOT_DOCUMENTED, cite(recent), note + "; a record's date is missing or not exact")
        status = MET if _true(rules["maxCount"], {}, {"count": len(recent)}) else NOT_MET
        return ItemResult(status, cite(recent), note)
    if "value" in rules:
        return _value_rule(evidence, rules, latest, valuesets, cite)
    return ItemResult(MET, cite([latest]))


def _value_rule(
    evidence: dict[str, Any], rules: dict[str, str], latest: Fact, valuesets: list[ValueSet], cite: Any
) -> ItemResult:
    if latest.value is None:
        return ItemResult(NOT_DOCUMENTED, cite([latest]), "the latest result has no numeric value")
    if latest.comparator:
        return ItemResult(NOT_DOCUMENTED, cite([latest]), f"the result is reported as {latest.comparator}: check")
    wanted_unit = evidence["value"].get("unit")
    value = latest.value
    if wanted_unit and latest.unit != wanted_unit:
        converted = None
        if latest.unit:
            converted = next(
                (c for vs in valuesets if (c := vs.convert(latest.value, latest.unit, wanted_unit)) is not None), None
            )
        if converted is None:
            unit = latest.unit or "no unit"
            return ItemResult(NOT_DOCUMENTED, cite([latest]), f"the result is in {unit}, not {wanted_unit}: check")
        value = converted
    status = MET if _true(rules["value"], {}, {"value": value}) else NOT_MET
    note = f"{latest.value:g} {latest.unit} = {value:g} {wanted_unit}" if value != latest.value else None
    return ItemResult(status, cite([latest]), note)


def _open_while_unread(result: ItemResult, evidence: dict[str, Any], unread: str | None) -> ItemResult:
    """A rule's answer when its kind of record was not all read (``unread`` says why): what the missing records
    could overturn (a contradiction, a count within a limit, a latest value) is left to be confirmed."""
    could_change = result.status == NOT_MET or (
        result.status == MET and ("maxCount" in evidence or "value" in evidence)
    )
    if not unread or not could_change:
        return result
    return ItemResult(NOT_DOCUMENTED, result.evidence, f"{unread}; the records not read may answer this: confirm it")


def evaluate_criterion(criterion: dict[str, Any], library: Library, index: ChartIndex, request: date) -> dict[str, Any]:
    """One criterion: the best answer among its evidence rules (any rule met wins; a contradiction beats silence)."""
    results = []
    for evidence in criterion["evidence"]:
        per_set, by_text = _candidates(evidence, library, index)
        if evidence["find"] in ("medication", "procedure") and ("minDays" in evidence or "minCount" in evidence):
            result = _course_rule(evidence, per_set, request, by_text)
        else:
            sets = [library.valuesets[v] for v in per_set]
            result = _point_rule(evidence, per_set, request, by_text, sets)
        results.append(_open_while_unread(result, evidence, index.incomplete.get(evidence["find"])))
    # Evidence rules are alternatives: any met meets; an unknown alternative keeps it open; not-met only when
    # every alternative is contradicted.
    chosen = (
        next((r for r in results if r.status == MET), None)
        or next((r for r in results if r.status == NOT_DOCUMENTED and (r.evidence or r.note)), None)
        or next((r for r in results if r.status == NOT_DOCUMENTED), None)
        or next((r for r in results if r.status == NOT_MET), ItemResult(NOT_DOCUMENTED))
    )
    status, note = chosen.status, chosen.note or next((r.note for r in results if r.note), None)
    evidence_list = chosen.evidence if status != NOT_DOCUMENTED else [e for r in results for e in r.evidence]
    if status == MET and all(e["summary"].endswith(TEXT_MATCH) for e in chosen.evidence):
        status, note = NOT_DOCUMENTED, "found only by matching words in a record, not by a code: confirm it"
    if status == MET and criterion.get("confirm"):
        # The chart holds the dated facts but not the part no code carries (a grade, "function-limiting"):
        # show the facts and ask for confirmation rather than claim the criterion.
        status, note = NOT_DOCUMENTED, f"{criterion['confirm']} ({note})" if note else criterion["confirm"]
    return {"id": criterion["id"], "text": criterion["text"], "status": status, "evidence": evidence_list, "note": note}


def _combine(node: Any, statuses: dict[str, str]) -> bool | None:
    """Kleene logic over the combine tree: met is true, not-met false, not-documented unknown."""
    if isinstance(node, str):
        return {MET: True, NOT_MET: False}.get(statuses.get(node, NOT_DOCUMENTED))
    if "allOf" in node:
        values = [_combine(n, statuses) for n in node["allOf"]]
        return False if False in values else (None if None in values else True)
    values = [_combine(n, statuses) for n in node["anyOf"]]
    return True if True in values else (None if None in values else False)


def evaluate_policy(policy: Policy, library: Library, index: ChartIndex, request: date) -> dict[str, Any]:
    """``{"criteria": [...], "policyResult": meets | does-not-meet | incomplete}`` for ``policy`` on the chart."""
    criteria = [evaluate_criterion(c, library, index, request) for c in policy.criteria]
    overall = _combine(policy.combine, {c["id"]: c["status"] for c in criteria})
    result = {True: "meets", False: "does-not-meet", None: "incomplete"}[overall]
    return {"criteria": criteria, "policyResult": result}


def relevant_facts(policy: Policy, library: Library, index: ChartIndex) -> list[Fact]:
    """Every drug and procedure the policy's rules look for (for the brief's prior-treatment list)."""
    found: dict[str, Fact] = {}
    for criterion in policy.criteria:
        for evidence in criterion["evidence"]:
            if evidence["find"] in ("medication", "procedure"):
                for facts in _candidates(evidence, library, index)[0].values():
                    for fact in facts:
                        found.setdefault(fact.reference, fact)
    return list(found.values())


def leaves(node: Any) -> list[str]:
    """The criterion ids under a combine node (``allOf``/``anyOf`` nested, or one id)."""
    if isinstance(node, str):
        return [node]
    return [leaf for child in node.get("allOf") or node.get("anyOf") or [] for leaf in leaves(child)]
