"""The chart: every resource read for one patient, validated leniently and indexed by reference.

A resource that fails ``fhir.resources.R4B`` validation is left out and reported in ``warnings`` (by
reference and the failing element, never by value), so one bad record never costs the whole brief. A chart built
for one patient keeps only that patient's records: an EHR that ignores ``patient=`` answers with everyone's, and
another patient's denial or conditions must never be listed, saved as a case, briefed or printed under this one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from smart_app.smart.scopes import READ_TYPES

log = logging.getLogger(__name__)

# Types the brief reads (the ones the app asks scopes for) plus what a Bundle file may also carry.
KNOWN_TYPES = frozenset(READ_TYPES) | {"DiagnosticReport", "DocumentReference", "ServiceRequest", "Location"}
# The element naming whose record it is (FHIR's Patient compartment), where it is not ``subject``.
OWNER_ELEMENTS = {
    "Claim": "patient",
    "ClaimResponse": "patient",
    "ExplanationOfBenefit": "patient",
    "Coverage": "beneficiary",
}
UNOWNED_TYPES = frozenset({"Organization", "Practitioner", "PractitionerRole", "Medication", "Location"})


@dataclass
class Chart:
    """One patient's resources, valid ones only, with the warnings raised while reading them."""

    patient_id: str | None
    by_type: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    index: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Types the EHR did not give in full (the search failed, ran out of time or stopped short): type -> why.
    # Absence there proves nothing: what their missing records could answer is not decided from the rest (see
    # criteria/evaluate.py), and a denial not found among them was not read, not "not in the chart".
    incomplete: dict[str, str] = field(default_factory=dict)

    @property
    def patient(self) -> dict[str, Any] | None:
        """The Patient resource the launch is about."""
        if self.patient_id:
            return self.index.get(f"Patient/{self.patient_id}")
        patients = self.by_type.get("Patient") or []
        return patients[0] if patients else None

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        """Every valid resource of one type."""
        return self.by_type.get(resource_type, [])

    def resolve(self, reference: Any, *, container: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Follow a Reference or its string: ``#contained``, ``Type/id``, an absolute URL or a ``urn:uuid``."""
        ref = reference.get("reference") if isinstance(reference, dict) else reference
        if not ref and isinstance(reference, dict) and isinstance(reference.get("identifier"), dict):
            return self._by_identifier(reference["identifier"], reference.get("type"))
        if not isinstance(ref, str) or not ref:
            return None
        if ref.startswith("#"):
            for contained in (container or {}).get("contained") or []:
                if isinstance(contained, dict) and contained.get("id") == ref[1:]:
                    return contained
            return None
        if ref in self.index:
            return self.index[ref]
        parts = ref.split("/_history/")[0].rstrip("/").split("/")
        return self.index.get("/".join(parts[-2:])) if len(parts) >= 2 else None

    def _by_identifier(self, identifier: dict[str, Any], resource_type: Any) -> dict[str, Any] | None:
        """A logical reference (``Reference.identifier``, as PAS allows for ``ClaimResponse.request``)."""
        if not identifier.get("value"):
            return None
        for key, resource in self.index.items():
            if key.count("/") != 1 or (
                isinstance(resource_type, str) and resource.get("resourceType") != resource_type
            ):
                continue
            if _identifier_matches(resource, identifier):
                return resource
        return None


def _identifier_matches(resource: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return any(
        isinstance(i, dict) and i.get("value") == wanted.get("value") and i.get("system") == wanted.get("system")
        for i in resource.get("identifier") or []
    )


def _is_fhir_type(name: str) -> bool:
    try:
        get_fhir_model_class(name)
    except ValueError:
        return False
    return True


MAX_DEPTH = 64  # nesting no real resource comes near (the R4 examples stay under 15); deeper is refused unread


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply ``value`` nests lists and objects, counted without recursion and stopping past ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def validation_problem(resource: dict[str, Any]) -> str | None:
    """Why ``resource`` is not valid R4 (element paths only, no values), or None when it is."""
    if nesting_depth(resource) > MAX_DEPTH:
        return f"nesting deeper than {MAX_DEPTH} levels"
    model = get_fhir_model_class(resource["resourceType"])
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        paths = sorted({".".join(str(p) for p in err["loc"] if not isinstance(p, int)) for err in exc.errors()})
        return ", ".join(paths[:3]) or "invalid"
    except (ValueError, TypeError) as exc:
        return type(exc).__name__
    return None


def record_owner(resource: dict[str, Any], full_urls: dict[str, str] | None = None) -> str | None:
    """``Type/id`` of whom ``resource`` is about (its patient, subject or beneficiary; a Patient is itself), or None
    when it names no one this can read (no such element, a contained or identifier-only reference)."""
    rtype = resource.get("resourceType")
    if rtype == "Patient":
        return f"Patient/{resource.get('id')}"
    if rtype in UNOWNED_TYPES:
        return None
    element = resource.get(OWNER_ELEMENTS.get(str(rtype), "subject"))
    reference = element.get("reference") if isinstance(element, dict) else None
    if not isinstance(reference, str) or not reference or reference.startswith("#"):
        return None
    if full_urls and reference in full_urls:
        return full_urls[reference]
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else None


def _of_another_patient(resource: dict[str, Any], patient_id: str, full_urls: dict[str, str] | None) -> bool:
    owner = record_owner(resource, full_urls)
    return owner is not None and owner != f"Patient/{patient_id}"


def _dropped_warning(dropped: list[str]) -> str:
    shown = ", ".join(dropped[:5]) + (f" and {len(dropped) - 5} more" if len(dropped) > 5 else "")
    return (
        f"{len(dropped)} record(s) of another patient were left out: the EHR returned them for this patient's "
        f"searches ({shown}). Tell your EHR administrator; nothing of theirs is shown or saved here."
    )


def build_chart(
    resources: Iterable[Any], *, patient_id: str | None = None, full_urls: dict[str, str] | None = None
) -> Chart:
    """Validate and index ``resources``; ``full_urls`` maps a Bundle entry's fullUrl to its ``Type/id``. With a
    ``patient_id``, a record whose patient, subject or beneficiary is someone else is dropped, named (by reference
    only) in the first warning and the log."""
    chart = Chart(patient_id=patient_id)
    seen: set[str] = set()
    dropped: list[str] = []
    for resource in resources:
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            chart.warnings.append("A record that is not a FHIR resource was skipped.")
            continue
        rtype = resource["resourceType"]
        if rtype not in KNOWN_TYPES:
            if not _is_fhir_type(rtype):
                chart.warnings.append("A record whose resourceType is not a FHIR R4 type was skipped.")
            continue
        if not isinstance(resource.get("id"), str) or not resource["id"]:
            chart.warnings.append(f"A {rtype} without an id was left out: a fact the brief cannot cite is not used.")
            continue
        key = f"{rtype}/{resource['id']}"
        if key in seen or key in dropped:
            continue
        if patient_id is not None and _of_another_patient(resource, patient_id, full_urls):
            dropped.append(key)
            continue
        problem = validation_problem(resource)
        if problem:
            chart.warnings.append(f"{key} could not be read and was left out (invalid {problem}).")
            continue
        seen.add(key)
        chart.by_type.setdefault(rtype, []).append(resource)
        chart.index[key] = resource
    for full_url, key in (full_urls or {}).items():
        if key in chart.index:
            chart.index[full_url] = chart.index[key]
    if dropped:
        log.warning("left out %d record(s) not of the launched patient: %s", len(dropped), ", ".join(dropped))
        chart.warnings.insert(0, _dropped_warning(dropped))
    return chart


def chart_from_bundle(bundle: dict[str, Any], *, patient_id: str | None = None) -> Chart:
    """A chart from a FHIR Bundle file (the CLI path): entries' resources, with ``fullUrl`` references resolvable."""
    resources, full_urls = [], {}
    for entry in _listed(bundle.get("entry")):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        full_url = entry.get("fullUrl") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and not resource.get("id") and isinstance(full_url, str) and full_url:
            # A transaction Bundle names a new resource by its fullUrl (urn:uuid:…) alone: that is its identity.
            resource = {**resource, "id": full_url.rstrip("/").split("/")[-1].split(":")[-1]}
        resources.append(resource)
        if isinstance(resource, dict) and isinstance(entry.get("fullUrl"), str):
            full_urls[entry["fullUrl"]] = f"{resource.get('resourceType')}/{resource.get('id')}"
    return build_chart(resources, patient_id=patient_id, full_urls=full_urls)


def _listed(value: Any) -> list[Any]:
    """A repeating element as a list: a malformed file may give a single object, a string or a number."""
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


def as_collection(resource: dict[str, Any]) -> dict[str, Any]:
    """Any FHIR input as one collection Bundle: a Bundle's entries, the Bundles inside a Parameters (PAS
    ``$inquire`` answers, whatever the parameter is named) and their entries, or a lone resource."""
    entries: list[dict[str, Any]] = []

    def walk(item: Any, full_url: Any = None, depth: int = 0) -> None:
        kind = item.get("resourceType") if isinstance(item, dict) else None
        if depth > 4:
            return
        if kind == "Bundle":
            for entry in _listed(item.get("entry")):
                if isinstance(entry, dict):
                    walk(entry.get("resource"), entry.get("fullUrl"), depth + 1)
        elif kind == "Parameters":
            for parameter in _listed(item.get("parameter")):
                if isinstance(parameter, dict) and "resource" in parameter:
                    walk(parameter["resource"], None, depth + 1)
        else:
            entries.append({"fullUrl": full_url, "resource": item} if isinstance(full_url, str) else {"resource": item})

    walk(resource)
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
