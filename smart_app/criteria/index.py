"""Index a chart once, by code: every condition, drug course, procedure, observation and visit as a dated ``Fact``
under each ``system|code`` key it carries (drug products also under their RxNorm ingredient, ICD-10-CM codes also
under each of their prefixes). Criteria then look up their value sets' keys instead of rescanning the chart, so
evaluation grows linearly with the chart.

Records that say they did not happen (refuted, entered in error, not taken, not done, cancelled) are left out. A
partial date keeps both ends of what it may mean (``start`` the earliest day, ``start_latest`` the latest), so a
rule is only met when every reading of the date meets it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from smart_app.fhir.chart import Chart
from smart_app.fhir.dates import latest_date, parse_date
from smart_app.fhir.facts import (
    codes_of,
    concept_text,
    dose_text,
    first_code,
    is_refuted,
    medication_concept,
    stop_reason,
)
from smart_app.fhir.systems import code_key

DURATION_DAYS = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7, "mo": 30, "month": 30, "months": 30}
ACTIVE = frozenset({"active", "in-progress"})
DID_NOT_HAPPEN = {
    "MedicationStatement": {"not-taken", "entered-in-error"},
    "MedicationRequest": {"cancelled", "entered-in-error", "draft"},
    "Procedure": {"not-done", "entered-in-error", "preparation"},
    "Observation": {"entered-in-error", "cancelled", "registered"},
    "Encounter": {"cancelled", "entered-in-error", "planned"},
}


@dataclass(frozen=True)
class Fact:
    """One dated thing in the chart a criterion can cite."""

    kind: str  # condition | medication | procedure | observation | encounter
    reference: str
    name: str
    keys: tuple[str, ...]
    start: date | None  # the earliest day the (possibly partial) date may mean
    end: date | None
    ongoing: bool = False
    status: str | None = None
    outcome: str | None = None
    value: float | None = None
    unit: str | None = None
    value_text: str | None = None
    start_latest: date | None = None  # the latest day the start may mean (same as start for a full date)
    duration_known: bool = True  # False: a record with a start but no way to tell how long it lasted
    comparator: str | None = None
    dose: str | None = None
    resource: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def latest_start(self) -> date | None:
        """The latest day the start may mean."""
        return self.start_latest or self.start


# The resource types each kind of fact is read from (a drug's Medication too: without it a course has no code).
KIND_TYPES = {
    "medication": ("MedicationStatement", "MedicationRequest", "Medication"),
    "condition": ("Condition",),
    "procedure": ("Procedure",),
    "observation": ("Observation",),
    "encounter": ("Encounter",),
}


@dataclass
class ChartIndex:
    """Facts by ``system|code`` key and by every ICD-10-CM prefix of a key, and all facts by kind; ``incomplete``
    names the kinds whose records the EHR did not give in full, and why."""

    by_key: dict[str, list[Fact]]
    by_prefix: dict[str, list[Fact]]
    by_kind: dict[str, list[Fact]]
    incomplete: dict[str, str] = field(default_factory=dict)

    def lookup(self, kind: str, exact: frozenset[str], prefixes: frozenset[str]) -> list[Fact]:
        """Facts of ``kind`` carrying one of the ``exact`` keys or a key under one of the ``prefixes`` (each once).

        Cost is the size of the value set (and of the matches, sorted), not of the chart.
        """
        found: dict[str, Fact] = {}
        keys = [
            *(self.by_key.get(k, []) for k in sorted(exact)),
            *(self.by_prefix.get(p, []) for p in sorted(prefixes)),
        ]
        for facts in keys:
            for fact in facts:
                if fact.kind == kind:
                    found.setdefault(fact.reference, fact)
        # Oldest first, then by reference: the same chart gives the same evidence in the same order on every run.
        return sorted(found.values(), key=lambda f: (f.start or date.max, f.reference))


def _keys(concept: Any, ingredients: dict[str, str]) -> tuple[str, ...]:
    keys = [k for c in codes_of(concept) for k in [code_key(c.system, c.code)] if k]
    return tuple(dict.fromkeys([*keys, *(ingredients[k] for k in keys if k in ingredients)]))


def _bounds(value: Any) -> tuple[date | None, date | None]:
    return parse_date(value), latest_date(value)


def _period(resource: dict[str, Any], prefix: str) -> tuple[Any, Any, bool]:
    """Raw start and end of ``<prefix>Period``, ``<prefix>DateTime``, ``Date`` or ``Instant`` (as ``period_of`` in
    ``fhir/dates.py`` reads them, but unparsed: partial dates keep their reading), and whether it was a period."""
    period = resource.get(f"{prefix}Period")
    if isinstance(period, dict):
        return period.get("start"), period.get("end"), True
    when = next(
        (resource[f"{prefix}{s}"] for s in ("DateTime", "Date", "Instant") if resource.get(f"{prefix}{s}")), None
    )
    return when, when, False


def _supply_end(resource: dict[str, Any], start: date | None) -> tuple[date | None, bool]:
    """The last day a MedicationRequest's first fill covers (refills are not proof of taking), cut at the validity
    end for a stopped or completed order; ``(None, False)`` when the order states no supply."""
    dispense = resource.get("dispenseRequest") or {}
    valid_end = parse_date((dispense.get("validityPeriod") or {}).get("end"))
    supply = dispense.get("expectedSupplyDuration") or {}
    unit = str(supply.get("code") or supply.get("unit") or "").lower()
    if not (start and isinstance(supply.get("value"), int | float) and unit in DURATION_DAYS):
        return None, False
    end = start + timedelta(days=max(int(supply["value"] * DURATION_DAYS[unit]), 1) - 1)
    if valid_end and resource.get("status") in ("stopped", "completed"):
        end = min(end, valid_end)
    return end, True


def _medication(chart: Chart, resource: dict[str, Any], ingredients: dict[str, str]) -> Fact:
    rtype = resource["resourceType"]
    concept = medication_concept(chart, resource)
    status = resource.get("status")
    if rtype == "MedicationStatement":
        raw_start, raw_end, is_period = _period(resource, "effective")
        start, start_latest = _bounds(raw_start)
        end = parse_date(raw_end) if is_period else None
        known = is_period and end is not None
    else:
        start, start_latest = _bounds(resource.get("authoredOn"))
        end, known = _supply_end(resource, start)
    ongoing = status in ACTIVE and (end is None or not known)
    return Fact(
        kind="medication",
        reference=f"{rtype}/{resource['id']}",
        name=concept_text(concept) or "Unnamed medication",
        keys=_keys(concept, ingredients),
        start=start,
        end=None if ongoing else end,
        ongoing=ongoing,
        status=status,
        outcome=stop_reason(resource),
        start_latest=start_latest,
        duration_known=known or ongoing,
        dose=dose_text(resource),
        resource=resource,
    )


def _observation(resource: dict[str, Any]) -> Fact:
    raw, _, _ = _period(resource, "effective")
    start, start_latest = _bounds(raw or resource.get("issued"))
    quantity = resource.get("valueQuantity") or {}
    value = quantity.get("value") if isinstance(quantity.get("value"), int | float) else None
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
        value_text=concept_text(resource.get("valueCodeableConcept")) or resource.get("valueString"),
        start_latest=start_latest,
        comparator=quantity.get("comparator"),
        resource=resource,
    )


def _condition(resource: dict[str, Any]) -> Fact | None:
    if is_refuted(resource):
        return None
    raw_start, _, _ = _period(resource, "onset")
    start, start_latest = _bounds(raw_start or resource.get("recordedDate"))
    return Fact(
        kind="condition",
        reference=f"Condition/{resource['id']}",
        name=concept_text(resource.get("code")) or "Unnamed condition",
        keys=_keys(resource.get("code"), {}),
        start=start,
        end=parse_date(resource.get("abatementDateTime")),
        status=first_code(resource.get("clinicalStatus")),
        start_latest=start_latest,
        resource=resource,
    )


def _procedure(resource: dict[str, Any]) -> Fact:
    raw_start, raw_end, is_period = _period(resource, "performed")
    start, start_latest = _bounds(raw_start)
    end = parse_date(raw_end) if raw_end else None
    ongoing = resource.get("status") == "in-progress" and is_period and end is None
    return Fact(
        kind="procedure",
        reference=f"Procedure/{resource['id']}",
        name=concept_text(resource.get("code")) or "Unnamed procedure",
        keys=_keys(resource.get("code"), {}),
        start=start,
        end=end or (None if ongoing else start),
        ongoing=ongoing,
        status=resource.get("status"),
        outcome=concept_text(resource.get("outcome")) or stop_reason(resource),
        start_latest=start_latest,
        resource=resource,
    )


def _encounter(resource: dict[str, Any]) -> Fact:
    start, start_latest = _bounds((resource.get("period") or {}).get("start"))
    types = [t for t in resource.get("type") or [] if isinstance(t, dict)]
    return Fact(
        kind="encounter",
        reference=f"Encounter/{resource['id']}",
        name=next((concept_text(t) for t in types if concept_text(t)), "Visit"),
        keys=tuple(dict.fromkeys(k for t in types for k in _keys(t, {}))),
        start=start,
        end=start,
        status=resource.get("status"),
        start_latest=start_latest,
        resource=resource,
    )


def _happened(resource: dict[str, Any]) -> bool:
    return resource.get("status") not in DID_NOT_HAPPEN.get(resource["resourceType"], set())


def index_chart(chart: Chart, ingredients: dict[str, str]) -> ChartIndex:
    """Index every fact of the chart under each of its keys, in one pass."""
    facts: list[Fact] = []
    for rtype in ("MedicationStatement", "MedicationRequest"):
        facts += [_medication(chart, r, ingredients) for r in chart.of_type(rtype) if _happened(r)]
    facts += [f for r in chart.of_type("Condition") if (f := _condition(r))]
    facts += [_procedure(r) for r in chart.of_type("Procedure") if _happened(r)]
    facts += [_observation(r) for r in chart.of_type("Observation") if _happened(r)]
    facts += [_encounter(r) for r in chart.of_type("Encounter") if _happened(r)]
    by_key: dict[str, list[Fact]] = defaultdict(list)
    by_prefix: dict[str, list[Fact]] = defaultdict(list)
    by_kind: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_kind[fact.kind].append(fact)
        for key in fact.keys:
            by_key[key].append(fact)
            system, _, code = key.partition("|")
            if system == "icd10cm":
                for n in range(1, len(code) + 1):
                    by_prefix[f"{system}|{code[:n]}"].append(fact)
    incomplete = {
        kind: "; ".join(chart.incomplete[t] for t in types if t in chart.incomplete)
        for kind, types in KIND_TYPES.items()
        if any(t in chart.incomplete for t in types)
    }
    return ChartIndex(dict(by_key), dict(by_prefix), dict(by_kind), incomplete)
