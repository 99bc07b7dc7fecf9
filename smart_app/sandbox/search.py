"""FHIR search over stored resources: which parameters each type takes, matching, and searchset paging."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from .references import as_dict, as_list, split_reference

DEFAULT_COUNT = 50
MAX_COUNT = 200

#: Reference parameters and the elements they search (``patient`` covers subject, patient and beneficiary).
REFERENCE_PARAMS: dict[str, tuple[str, ...]] = {
    "patient": ("subject", "patient", "beneficiary"),
    "subject": ("subject",),
    "beneficiary": ("beneficiary",),
    "encounter": ("encounter", "context.encounter"),
    "request": ("request",),
    "claim": ("claim",),
    "practitioner": ("practitioner",),
    "organization": ("organization",),
}
#: Token parameters and the elements they search (code, Coding, CodeableConcept or Identifier).
TOKEN_PARAMS: dict[str, tuple[str, ...]] = {
    "identifier": ("identifier",),
    "status": ("status",),
    "use": ("use",),
    "category": ("category",),
    "code": ("code",),
    "type": ("type",),
    "clinical-status": ("clinicalStatus",),
}
_CLINICAL = ("patient", "subject", "status", "category", "code", "encounter", "identifier")
#: The search parameters served per type; ``_id`` is served for every type.
TYPE_PARAMS: dict[str, tuple[str, ...]] = {
    "Patient": ("identifier",),
    "Practitioner": ("identifier",),
    "PractitionerRole": ("practitioner", "organization", "identifier"),
    "Organization": ("identifier",),
    "Location": ("identifier",),
    "Medication": ("identifier", "code"),
    "Encounter": ("patient", "subject", "status", "identifier"),
    "Condition": ("patient", "subject", "category", "code", "clinical-status", "encounter", "identifier"),
    "AllergyIntolerance": ("patient", "clinical-status", "identifier"),
    "Observation": _CLINICAL,
    "Procedure": ("patient", "subject", "status", "code", "encounter", "identifier"),
    "MedicationRequest": ("patient", "subject", "status", "category", "encounter", "identifier"),
    "MedicationStatement": ("patient", "subject", "status", "category", "identifier"),
    "ServiceRequest": _CLINICAL,
    "DeviceRequest": ("patient", "subject", "status", "code", "encounter", "identifier"),
    "DiagnosticReport": _CLINICAL,
    "Coverage": ("patient", "beneficiary", "status", "identifier"),
    "Claim": ("patient", "use", "status", "identifier", "encounter"),
    "ClaimResponse": ("patient", "use", "status", "identifier", "request"),
    "ExplanationOfBenefit": ("patient", "use", "status", "identifier", "claim"),
    "DocumentReference": ("patient", "subject", "status", "category", "type", "encounter", "identifier"),
}


def params_for(resource_type: str) -> tuple[str, ...]:
    """Search parameters honoured for ``resource_type`` (unknown ones are ignored, as FHIR allows)."""
    return ("_id", "_lastUpdated", *TYPE_PARAMS.get(resource_type, ("patient", "status", "identifier")))


@dataclass
class SearchQuery:
    """A parsed search: criteria that are ANDed (a comma inside one value ORs), and the page wanted."""

    resource_type: str
    criteria: list[tuple[str, str]]
    count: int = DEFAULT_COUNT
    offset: int = 0
    sort: str | None = None  # "_lastUpdated" (oldest first) or "-_lastUpdated"


def parse_query(resource_type: str, pairs: Iterable[tuple[str, str]]) -> SearchQuery:
    """Build a query from URL parameters; parameters the type does not support are dropped."""
    served = params_for(resource_type)
    query = SearchQuery(resource_type, [])
    for name, value in pairs:
        if name == "_count":
            query.count = _bounded_int(value, DEFAULT_COUNT, 0, MAX_COUNT)
        elif name == "_offset":
            query.offset = _bounded_int(value, 0, 0, 10**9)
        elif name == "_sort" and value in ("_lastUpdated", "-_lastUpdated"):
            query.sort = value
        elif name in served and value != "":
            query.criteria.append((name, value))
    return query


def _bounded_int(text: str, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(text)))
    except ValueError:
        return default


def matches(resource: dict[str, Any], criteria: Iterable[tuple[str, str]]) -> bool:
    """Whether the resource satisfies every criterion."""
    return all(_matches_one(resource, name, value) for name, value in criteria)


def _matches_one(resource: dict[str, Any], name: str, value: str) -> bool:
    alternatives = [v for v in value.split(",") if v]
    if name == "_id":
        return str(resource.get("id")) in alternatives
    if name == "_lastUpdated":
        return _instant_matches(last_updated(resource), value)
    if name in REFERENCE_PARAMS:
        found = _values(resource, REFERENCE_PARAMS[name])
        return any(_reference_matches(ref, name, alt) for ref in found for alt in alternatives)
    if name in TOKEN_PARAMS:
        found = _values(resource, TOKEN_PARAMS[name])
        return any(_token_matches(item, alt) for item in found for alt in alternatives)
    return True


DATE_PREFIXES = ("gt", "ge", "lt", "le", "eq")


def last_updated(resource: dict[str, Any]) -> datetime | None:
    """``meta.lastUpdated`` as an aware instant, or None."""
    value = as_dict(resource.get("meta")).get("lastUpdated")
    return parse_instant(value) if isinstance(value, str) else None


def parse_instant(value: str) -> datetime | None:
    """A FHIR instant (with its zone; ``Z`` allowed) as an aware datetime, or None."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _instant_matches(moment: datetime | None, wanted: str) -> bool:
    prefix = wanted[:2] if wanted[:2] in DATE_PREFIXES else "eq"
    bound = parse_instant(wanted[2:] if wanted[:2] in DATE_PREFIXES else wanted)
    if moment is None or bound is None:
        return False
    return {
        "gt": moment > bound,
        "ge": moment >= bound,
        "lt": moment < bound,
        "le": moment <= bound,
        "eq": moment == bound,
    }[prefix]


def sort_found(query: SearchQuery, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``found`` in the order ``_sort`` asks for (by lastUpdated, then id), or as stored."""
    if query.sort is None:
        return found

    def key(resource: dict[str, Any]) -> tuple[float, str]:
        moment = last_updated(resource)
        return (moment.timestamp() if moment else float("-inf"), str(resource.get("id")))

    return sorted(found, key=key, reverse=query.sort.startswith("-"))


def _values(resource: dict[str, Any], paths: tuple[str, ...]) -> list[Any]:
    found: list[Any] = []
    for path in paths:
        current: list[Any] = [resource]
        for step in path.split("."):
            current = [v for item in current for v in as_list(as_dict(item).get(step))]
        found.extend(current)
    return found


def _reference_matches(reference: Any, param: str, wanted: str) -> bool:
    target = split_reference(reference)
    if target is None:
        return False
    if param == "patient" and target[0] != "Patient":
        return False
    wanted_target = split_reference(wanted)
    if wanted_target is None:
        return target[1] == wanted
    return target == wanted_target


def _token_matches(item: Any, wanted: str) -> bool:
    system, _, code = wanted.rpartition("|") if "|" in wanted else (None, "", wanted)
    if isinstance(item, str):
        return system in (None, "") and item == code
    element = as_dict(item)
    if "coding" in element:
        return any(_token_matches(c, wanted) for c in as_list(element.get("coding")))
    value = element.get("value") if "value" in element else element.get("code")
    if system and element.get("system") != system:
        return False
    if system == "" and element.get("system"):
        return False
    return code == "" or value == code


def searchset(query: SearchQuery, found: list[dict[str, Any]], fhir_base: str) -> dict[str, Any]:
    """A searchset Bundle for one page of ``found``, with ``total`` and absolute self/next/previous links."""
    page = copy.deepcopy(found[query.offset : query.offset + query.count])  # only the page is copied
    links = [{"relation": "self", "url": _page_url(query, query.offset, fhir_base)}]
    if query.count and query.offset + query.count < len(found):
        links.append({"relation": "next", "url": _page_url(query, query.offset + query.count, fhir_base)})
    if query.count and query.offset > 0:
        links.append({"relation": "previous", "url": _page_url(query, max(0, query.offset - query.count), fhir_base)})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "link": links,
        "entry": [
            {
                "fullUrl": f"{fhir_base}/{r.get('resourceType')}/{r.get('id')}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in page
        ],
    }


def _page_url(query: SearchQuery, offset: int, fhir_base: str) -> str:
    pairs = [*query.criteria, ("_count", str(query.count))]
    if query.sort:
        pairs.append(("_sort", query.sort))
    if offset:
        pairs.append(("_offset", str(offset)))
    return f"{fhir_base}/{query.resource_type}?{urlencode(pairs)}"


def served_types(present: Iterable[str]) -> list[str]:
    """Resource types the FHIR API serves: the common US Core and PAS types plus any type in the store."""
    return sorted(set(TYPE_PARAMS) | set(present))
