"""Sample practice denials for the demo: a few dozen more patients, each a copy of one of the four demo charts
(every resource of that patient, with new ids and references) under a new fictional name, decided at a different
time in the past ten days, by a payer rotated among the demo's payers. They fill the practice worklist and the
rates page with cases across payers, services, physicians and deadlines; each opens to a full brief, because the
whole chart was copied, not just the denial."""

from __future__ import annotations

import copy
import json
import random
from datetime import datetime, timedelta
from typing import Any

from .references import split_reference
from .store import FhirStore

TEMPLATES = ("pat-lumbar-mri", "pat-ra-tnf", "pat-knee-tka", "pat-glp1-t2dm")
PAYERS = ("org-uhc", "org-aetna", "org-cigna", "org-humana")
GIVEN = ("Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn", "Rowan", "Emerson", "Harper", "Reese", "Sawyer",
         "Finley", "Hayden", "Parker", "Dakota", "Skyler", "Kendall", "Blair")  # fmt: skip
FAMILY = ("Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Juniper", "Larch", "Maple",
          "Oakes", "Pine", "Redwood", "Spruce", "Tamarack", "Willow", "Yew")  # fmt: skip


def _chart_of(store: FhirStore, patient_id: str) -> list[dict[str, Any]]:
    """The patient and every resource whose subject, patient or beneficiary is that patient."""
    wanted = ("Patient", patient_id)
    chart = [store.get("Patient", patient_id) or {}]
    for resource_type in store.types():
        for resource in store.all(resource_type):
            if any(split_reference(resource.get(k)) == wanted for k in ("subject", "patient", "beneficiary")):
                chart.append(resource)
    return [r for r in chart if r]


def _renamed(chart: list[dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    """A copy of the chart with every id (and every reference to one) given ``suffix``; references outside the
    chart (practitioners, practices, payers) are kept."""
    ids = {f"{r['resourceType']}/{r['id']}" for r in chart}
    text = json.dumps(chart)
    for old in sorted(ids, key=len, reverse=True):
        text = text.replace(f'"{old}"', f'"{old}-{suffix}"')
    copies = json.loads(text)
    for resource in copies:
        resource["id"] = f"{resource['id']}-{suffix}"
        resource.pop("meta", None)  # loaded now: the EHR stamps lastUpdated
    return copies


def _retag(resource: dict[str, Any], suffix: str) -> None:
    """Business identifiers stay unique: the payer's and the practice's numbers get the suffix."""
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
            identifier["value"] = f"{identifier['value']}-{suffix.upper()}"
    if isinstance(resource.get("preAuthRef"), str):
        resource["preAuthRef"] = f"{resource['preAuthRef']}-{suffix.upper()}"


def _latest_decision(chart: list[dict[str, Any]], default: datetime) -> datetime:
    made = [
        datetime.fromisoformat(r["created"])
        for r in chart
        if r.get("resourceType") == "ClaimResponse" and isinstance(r.get("created"), str)
    ]
    return max(made, default=default)


def sample_denials(store: FhirStore, count: int, *, now: datetime, seed: int = 23) -> list[dict[str, Any]]:
    """``count`` copied charts (resources to add to ``store``), decided between 2 hours and 10 days before
    ``now``; the same seed gives the same practice."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    templates = [(t, _chart_of(store, t)) for t in TEMPLATES if store.get("Patient", t)]
    made: list[dict[str, Any]] = []
    for n in range(count if templates else 0):
        template, chart = templates[n % len(templates)]
        suffix = f"s{n + 1:02d}"
        decided = now - timedelta(hours=rng.choice((2, 5, 9, 18, 30, 44, 60, 80, 110, 150, 200, 240)))
        payer = PAYERS[(n // len(templates) + TEMPLATES.index(template)) % len(PAYERS)]
        shift = decided - _latest_decision(chart, decided)  # the chart's answers move together, history included
        for resource in _renamed(chart, suffix):
            _retag(resource, suffix)
            kind = resource["resourceType"]
            if kind == "Patient":
                resource["name"] = [{"use": "official", "family": FAMILY[(n * 5 + n // len(GIVEN)) % len(FAMILY)],
                                     "given": [GIVEN[n % len(GIVEN)]]}]  # fmt: skip
            elif kind == "Coverage":
                resource["payor"] = [{"reference": f"Organization/{payer}"}]
            elif kind in ("Claim", "ClaimResponse"):
                resource["insurer"] = {"reference": f"Organization/{payer}"}
                if isinstance(resource.get("created"), str):
                    created = datetime.fromisoformat(resource["created"]) + shift
                    resource["created"] = created.isoformat(timespec="seconds")
            made.append(copy.deepcopy(resource))
    return made
