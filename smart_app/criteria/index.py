"""Index a chart once, by code: every condition, drug course, procedure and observation as a dated ``Fact`` under
each ``system|code`` key it carries (drug products also under their RxNorm ingredient). Criteria then look up
their value sets' keys instead of rescanning the chart, so evaluation grows linearly with the chart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from smart_app.criteria.systems import code_key
from smart_app.fhir.chart import Chart
from smart_app.fhir.dates import parse_date, period_of
from smart_app.fhir.facts import codes_of, concept_text

DURATION_DAYS = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7, "mo": 30, "month": 30, "months": 30}
ACTIVE = frozenset({"active", "in-progress", "intended", "on-hold"})


@dataclass(frozen=True)
class Fact:
    """One dated thing in the chart a criterion can cite."""

    kind: str  # condition | medication | procedure | observation
    reference: str
    name: str
    keys: tuple[str, ...]
    start: date | None
    end: date | None
    ongoing: bool = False
    status: str | None = None
    outcome: str | None = None
    value: float | None = None
    unit: str | None = None
    value_text: str | None = None
    resource: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class ChartIndex:
    """Facts by ``system|code`` key and by every ICD-10-CM prefix of a key, and all facts by kind."""

    by_key: dict[str, list[Fact]]
    by_prefix: dict[str, list[Fact]]
    by_kind: dict[str, list[Fact]]

    def lookup(self, kind: str, exact: frozenset[str], prefixes: frozenset[str]) -> list[Fact]:
        """Facts of ``kind`` carrying one of the ``exact`` keys or a key under one of the ``prefixes`` (each once).

        Cost is the size of the value set, not of the chart.
        """
        found: dict[str, Fact] = {}
        for facts in [*(self.by_key.get(k, []) for k in exact), *(self.by_prefix.get(p, []) for p in prefixes)]:
            for fact in facts:
                if fact.kind == kind:
                    found.setdefault(fact.reference, fact)
        return list(found.values())


def _keys(concept: Any, ingredients: dict[str, str]) -> tuple[str, ...]:
    keys = [k for c in codes_of(concept) for k in [code_key(c.system, c.code)] if k]
    return tuple(dict.fromkeys([*keys, *(ingredients[k] for k in keys if k in ingredients)]))


def _supply_end(resource: dict[str, Any], start: date | None) -> date | None:
    """The last day a MedicationRequest covers: the supply (duration × fills) from its start, cut at the validity
    period's end when the order was stopped or completed; the validity end alone when no supply is stated."""
    dispense = resource.get("dispenseRequest") or {}
    valid_end = parse_date((dispense.get("validityPeriod") or {}).get("end"))
    supply = dispense.get("expectedSupplyDuration") or {}
    unit = str(supply.get("code") or supply.get("unit") or "").lower()
    supply_end = None
    if start and isinstance(supply.get("value"), int | float) and unit in DURATION_DAYS:
        fills = 1 + int(dispense.get("numberOfRepeatsAllowed") or 0)
        supply_end = start + timedelta(days=int(supply["value"] * DURATION_DAYS[unit] * fills) - 1)
    if supply_end and valid_end and resource.get("status") in ("stopped", "completed", "cancelled"):
        return min(supply_end, valid_end)
    return supply_end or valid_end


def _medication(chart: Chart, resource: dict[str, Any], ingredients: dict[str, str]) -> Fact:
    rtype = resource["resourceType"]
    concept = resource.get("medicationCodeableConcept")
    if concept is None:
        medication = chart.resolve(resource.get("medicationReference"), container=resource)
        concept = (medication or {}).get("code") or {"text": (resource.get("medicationReference") or {}).get("display")}
    if rtype == "MedicationStatement":
        start, end = period_of(resource, "effective")
        if isinstance(resource.get("effectivePeriod"), dict) and not resource["effectivePeriod"].get("end"):
            end = None
    else:
        start = parse_date(resource.get("authoredOn"))
        end = _supply_end(resource, start)
    status = resource.get("status")
    reasons = [concept_text(r) for r in resource.get("statusReason") or [] if isinstance(r, dict)]
    if isinstance(resource.get("statusReason"), dict):
        reasons.append(concept_text(resource["statusReason"]))
    notes = [n.get("text") for n in resource.get("note") or [] if isinstance(n, dict) and n.get("text")]
    return Fact(
        kind="medication",
        reference=f"{rtype}/{resource['id']}",
        name=concept_text(concept) or "Unnamed medication",
        keys=_keys(concept, ingredients),
        start=start,
        end=end,
        ongoing=status in ACTIVE and end is None,
        status=status,
        outcome="; ".join(w for w in [*reasons, *notes] if w) or None,
        resource=resource,
    )


def _observation(resource: dict[str, Any]) -> Fact:
    start, _ = period_of(resource, "effective")
    start = start or parse_date(resource.get("issued"))
    quantity = resource.get("valueQuantity") or {}
    value = quantity.get("value") if isinstance(quantity.get("value"), int | float) else None
    text = concept_text(resource.get("valueCodeableConcept")) or resource.get("valueString")
    return Fact(
        kind="observation",
        reference=f"Observation/{resource['id']}",
        name=concept_text(resource.get("code")) or "Unnamed observation",
        keys=_keys(resource.get("code"), {}),
        start=start,
        end=start,
        status=resource.get("status"),
        value=float(value) if value is not None else None,
        unit=quantity.get("code") or quantity.get("unit"),
        value_text=text,
        resource=resource,
    )


def _others(chart: Chart) -> list[Fact]:
    facts = []
    for resource in chart.of_type("Condition"):
        onset, _ = period_of(resource, "onset")
        status = ((resource.get("clinicalStatus") or {}).get("coding") or [{}])[0].get("code")
        facts.append(
            Fact(
                kind="condition",
                reference=f"Condition/{resource['id']}",
                name=concept_text(resource.get("code")) or "Unnamed condition",
                keys=_keys(resource.get("code"), {}),
                start=onset or parse_date(resource.get("recordedDate")),
                end=parse_date(resource.get("abatementDateTime")),
                status=status,
                resource=resource,
            )
        )
    for resource in chart.of_type("Procedure"):
        start, end = period_of(resource, "performed")
        facts.append(
            Fact(
                kind="procedure",
                reference=f"Procedure/{resource['id']}",
                name=concept_text(resource.get("code")) or "Unnamed procedure",
                keys=_keys(resource.get("code"), {}),
                start=start,
                end=end,
                status=resource.get("status"),
                outcome=concept_text(resource.get("outcome")) or _notes(resource),
                resource=resource,
            )
        )
    facts.extend(_observation(r) for r in chart.of_type("Observation"))
    for resource in chart.of_type("Encounter"):
        start = parse_date((resource.get("period") or {}).get("start"))
        types = [t for t in resource.get("type") or [] if isinstance(t, dict)]
        keys = tuple(dict.fromkeys(k for t in types for k in _keys(t, {})))
        facts.append(
            Fact(
                kind="encounter",
                reference=f"Encounter/{resource['id']}",
                name=next((concept_text(t) for t in types if concept_text(t)), "Visit"),
                keys=keys,
                start=start,
                end=start,
                status=resource.get("status"),
                resource=resource,
            )
        )
    return facts


def _notes(resource: dict[str, Any]) -> str | None:
    notes = [n.get("text") for n in resource.get("note") or [] if isinstance(n, dict) and n.get("text")]
    return "; ".join(notes) or None


def index_chart(chart: Chart, ingredients: dict[str, str]) -> ChartIndex:
    """Index every fact of the chart under each of its keys, in one pass."""
    facts = [
        *(_medication(chart, r, ingredients) for r in chart.of_type("MedicationStatement")),
        *(_medication(chart, r, ingredients) for r in chart.of_type("MedicationRequest")),
        *_others(chart),
    ]
    by_key: dict[str, list[Fact]] = defaultdict(list)
    by_prefix: dict[str, list[Fact]] = defaultdict(list)
    by_kind: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_kind[fact.kind].append(fact)
        for key in fact.keys:
            by_key[key].append(fact)
            system, _, code = key.partition("|")
            if system == "icd10cm":
                for n in range(1, len(code)):
                    by_prefix[f"{system}|{code[:n]}"].append(fact)
    return ChartIndex(dict(by_key), dict(by_prefix), dict(by_kind))
