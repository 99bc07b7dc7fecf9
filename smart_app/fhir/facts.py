"""Typed, dated facts from chart resources: codings, conditions, drug courses and procedures.

Real charts are messy: a drug is a CodeableConcept or a reference to a Medication (contained or not); a date
is a dateTime, a Period or missing; a condition is coded in ICD-10-CM, SNOMED CT, both, or text only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from smart_app.fhir.chart import Chart
from smart_app.fhir.dates import parse_date, period_of
from smart_app.fhir.systems import DISPLAY_NAMES, SYSTEMS

SYSTEM_NAMES = {url: DISPLAY_NAMES[short] for short, url in SYSTEMS.items()}


@dataclass(frozen=True)
class Code:
    """One coding: its system URL, code and display."""

    system: str | None
    code: str | None
    display: str | None

    @property
    def system_name(self) -> str:
        """A short name for the code system (``ICD-10-CM``), or the URL when it is not a common one."""
        return SYSTEM_NAMES.get(self.system or "", self.system or "")

    def as_dict(self) -> dict[str, str | None]:
        """The ``{system, code, display}`` shape of the brief JSON."""
        return {"system": self.system, "code": self.code, "display": self.display}


def codes_of(concept: Any) -> list[Code]:
    """Every coding of a CodeableConcept (text-only concepts give one Code with only a display)."""
    if not isinstance(concept, dict):
        return []
    codes = [
        Code(c.get("system"), c.get("code"), c.get("display") or concept.get("text"))
        for c in concept.get("coding") or []
        if isinstance(c, dict)
    ]
    if not codes and concept.get("text"):
        codes = [Code(None, None, concept["text"])]
    return codes


def first_code(concept: Any) -> str | None:
    """The code of a CodeableConcept's first coded entry, as FHIR status concepts are read; None if uncoded."""
    return next((c.code for c in codes_of(concept) if c.code), None)


NOT_THE_PATIENTS = frozenset({"refuted", "entered-in-error"})  # Condition.verificationStatus codes


def is_refuted(condition: dict[str, Any]) -> bool:
    """True if the Condition was ruled out or entered in error: it is not a fact about this patient."""
    return first_code(condition.get("verificationStatus")) in NOT_THE_PATIENTS


def concept_text(concept: Any) -> str:
    """What a person would call the concept: its text, else the first coding's display, else its code."""
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for code in codes_of(concept):
        if code.display or code.code:
            return str(code.display or code.code)
    return ""


def role_organization(role: dict[str, Any] | None) -> str | None:
    """A PractitionerRole's organisation as ``Organization/<id>`` (an absolute reference cut to its last two
    parts), or None when it names none."""
    link = (role or {}).get("organization")
    target = link.get("reference") if isinstance(link, dict) else None
    parts = str(target).rstrip("/").split("/") if target else []
    return f"Organization/{parts[-1]}" if len(parts) >= 2 and parts[-2] == "Organization" else None


def display_name(resource: dict[str, Any] | None, *, with_prefix: bool = False) -> str | None:
    """A person's first HumanName as written (text, else [prefix] given family), or an Organization's name."""
    names = (resource or {}).get("name")
    if isinstance(names, str):  # an Organization
        return names or None
    name = next((n for n in names or [] if isinstance(n, dict)), {})
    parts = [*(name.get("prefix") or [] if with_prefix else []), *(name.get("given") or []), name.get("family") or ""]
    return (name.get("text") or " ".join(parts)).strip() or None


@dataclass(frozen=True)
class ConditionFact:
    """A diagnosis on record, with its onset."""

    reference: str
    name: str
    codes: tuple[Code, ...]
    onset: date | None
    clinical_status: str | None


@dataclass(frozen=True)
class TreatmentFact:
    """A drug course or a procedure: what, when, how it ended."""

    reference: str
    kind: str  # "medication" | "procedure"
    name: str
    codes: tuple[Code, ...]
    start: date | None
    end: date | None
    status: str | None
    outcome: str | None
    dose: str | None = None


def conditions(chart: Chart) -> list[ConditionFact]:
    """The patient's conditions, most recent onset first (undated last)."""
    facts = []
    for resource in chart.of_type("Condition"):
        if is_refuted(resource):
            continue
        onset, _ = period_of(resource, "onset")
        onset = onset or parse_date(resource.get("recordedDate"))
        facts.append(
            ConditionFact(
                reference=f"Condition/{resource['id']}",
                name=concept_text(resource.get("code")) or "Unnamed condition",
                codes=tuple(codes_of(resource.get("code"))),
                onset=onset,
                clinical_status=first_code(resource.get("clinicalStatus"))
                or concept_text(resource.get("clinicalStatus"))
                or None,
            )
        )
    return sorted(facts, key=lambda f: (f.onset is None, -(f.onset.toordinal() if f.onset else 0)))


def medication_concept(chart: Chart, resource: dict[str, Any]) -> Any:
    """The drug of a MedicationStatement/Request: its CodeableConcept, or the referenced or contained Medication's."""
    if "medicationCodeableConcept" in resource:
        return resource["medicationCodeableConcept"]
    medication = chart.resolve(resource.get("medicationReference"), container=resource)
    if medication:
        return medication.get("code")
    return {"text": (resource.get("medicationReference") or {}).get("display")}


def stop_reason(resource: dict[str, Any]) -> str | None:
    """The record's own words on how it went: statusReason and notes, joined."""
    reasons = [concept_text(r) for r in resource.get("statusReason") or [] if isinstance(r, dict)]
    if isinstance(resource.get("statusReason"), dict):
        reasons.append(concept_text(resource["statusReason"]))
    notes = [n.get("text") for n in resource.get("note") or [] if isinstance(n, dict) and n.get("text")]
    words = [w for w in [*reasons, *notes] if w]
    return "; ".join(words) or None


def dose_text(resource: dict[str, Any]) -> str | None:
    """The first dosage's text (MedicationStatement ``dosage`` or MedicationRequest ``dosageInstruction``)."""
    for dosage in resource.get("dosage") or resource.get("dosageInstruction") or []:
        if isinstance(dosage, dict) and dosage.get("text"):
            return str(dosage["text"])
    return None


def medications(chart: Chart) -> list[TreatmentFact]:
    """Drug courses from MedicationStatement and MedicationRequest, with dates, dose and how they ended."""
    facts = []
    for resource in chart.of_type("MedicationStatement"):
        start, end = period_of(resource, "effective")
        facts.append(_medication_fact(chart, resource, "MedicationStatement", start, end))
    for resource in chart.of_type("MedicationRequest"):
        start = parse_date(resource.get("authoredOn"))
        validity = ((resource.get("dispenseRequest") or {}).get("validityPeriod")) or {}
        end = parse_date(validity.get("end"))
        facts.append(_medication_fact(chart, resource, "MedicationRequest", start, end))
    return facts


def _medication_fact(
    chart: Chart, resource: dict[str, Any], rtype: str, start: date | None, end: date | None
) -> TreatmentFact:
    concept = medication_concept(chart, resource)
    return TreatmentFact(
        reference=f"{rtype}/{resource['id']}",
        kind="medication",
        name=concept_text(concept) or "Unnamed medication",
        codes=tuple(codes_of(concept)),
        start=start,
        end=end,
        status=resource.get("status"),
        outcome=stop_reason(resource),
        dose=dose_text(resource),
    )


def procedures(chart: Chart) -> list[TreatmentFact]:
    """Procedures on record with their dates and outcome."""
    facts = []
    for resource in chart.of_type("Procedure"):
        start, end = period_of(resource, "performed")
        outcome = concept_text(resource.get("outcome")) or stop_reason(resource)
        facts.append(
            TreatmentFact(
                reference=f"Procedure/{resource['id']}",
                kind="procedure",
                name=concept_text(resource.get("code")) or "Unnamed procedure",
                codes=tuple(codes_of(resource.get("code"))),
                start=start,
                end=end,
                status=resource.get("status"),
                outcome=outcome or None,
            )
        )
    return facts


def treatments_in_date_order(chart: Chart) -> list[TreatmentFact]:
    """Every drug course and procedure, oldest first (undated last)."""
    facts = [*medications(chart), *procedures(chart)]
    return sorted(facts, key=lambda f: (f.start is None, f.start or date.max, f.name))
