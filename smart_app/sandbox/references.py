"""Read FHIR references and loosely typed elements of resources that were stored without validation."""

from __future__ import annotations

from typing import Any

#: Types that belong to no patient: a patient-scoped token may read them when its scopes name the type.
SHARED_TYPES = frozenset({"Organization", "Practitioner", "PractitionerRole", "Medication", "Location"})

#: Elements putting a resource in a patient's compartment (Claim.patient, Condition.subject, ...).
PATIENT_ELEMENTS = ("subject", "patient", "beneficiary")


def as_list(value: Any) -> list[Any]:
    """The value as a list: a list as is, None as empty, anything else wrapped."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def as_dict(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty one (malformed resources must not crash a page)."""
    return value if isinstance(value, dict) else {}


def split_reference(reference: Any) -> tuple[str, str] | None:
    """``("Patient", "123")`` from ``"Patient/123"``, an absolute or a ``_history`` URL; None if no reference.

    Accepts a Reference object (``{"reference": ...}``) or the string itself.
    """
    if isinstance(reference, dict):
        reference = reference.get("reference")
    if not isinstance(reference, str) or "/" not in reference:
        return None
    parts = reference.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2 or not parts[-1] or not parts[-2]:
        return None
    return parts[-2], parts[-1]


def reference_id(reference: Any, resource_type: str) -> str | None:
    """The id a reference points to when it points to ``resource_type``, else None."""
    target = split_reference(reference)
    if target is None or target[0] != resource_type:
        return None
    return target[1]


def patient_ids(resource: dict[str, Any]) -> set[str]:
    """Ids of the patients a resource belongs to (the resource's own id for a Patient)."""
    if resource.get("resourceType") == "Patient":
        return {str(resource.get("id"))}
    found: set[str] = set()
    for element in PATIENT_ELEMENTS:
        for ref in as_list(resource.get(element)):
            pid = reference_id(ref, "Patient")
            if pid:
                found.add(pid)
    return found


def in_patient_compartment(resource: dict[str, Any], patient_id: str) -> bool:
    """Whether a patient-scoped token for ``patient_id`` may see this resource."""
    if resource.get("resourceType") in SHARED_TYPES:
        return True
    return patient_id in patient_ids(resource)


def codings(value: Any) -> list[dict[str, Any]]:
    """Every Coding under a CodeableConcept or a list of them."""
    found: list[dict[str, Any]] = []
    for concept in as_list(value):
        found.extend(c for c in as_list(as_dict(concept).get("coding")) if isinstance(c, dict))
    return found


def concept_text(value: Any) -> str | None:
    """A human label for a CodeableConcept: its text, else the first coding's display or code."""
    concept = as_dict(value)
    if isinstance(concept.get("text"), str):
        return concept["text"]
    for coding in codings(concept):
        label = coding.get("display") or coding.get("code")
        if isinstance(label, str):
            return label
    return None
