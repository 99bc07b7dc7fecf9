"""The demo's sample practice: copies of the four charts under new patients, across payers and decision times,
every reference resolvable, nothing of the originals changed."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from smart_app.content import content_dir
from smart_app.denials.pas import open_denials
from smart_app.fhir.chart import build_chart
from smart_app.sandbox.references import split_reference
from smart_app.sandbox.sample_practice import sample_denials
from smart_app.sandbox.store import FhirStore

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _store() -> FhirStore:
    store = FhirStore()
    store.load_bundles(Path(content_dir("fhir")) / "demo")
    return store


def _references(value: object) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def test_three_dozen_cases_across_payers_each_a_whole_chart() -> None:
    store = _store()
    before = json.dumps({t: store.all(t) for t in store.types()}, sort_keys=True)
    made = sample_denials(store, 36, now=NOW)
    assert json.dumps({t: store.all(t) for t in store.types()}, sort_keys=True) == before  # originals untouched
    patients = [r for r in made if r["resourceType"] == "Patient"]
    assert len(patients) == 36 and len({p["id"] for p in patients}) == 36
    names = {(p["name"][0]["given"][0], p["name"][0]["family"]) for p in patients}
    assert len(names) == 36
    store.add_all(copy.deepcopy(made))
    for resource in made:  # every reference points at something the EHR holds
        for reference in (r for r in _references(resource) if not r.startswith("#")):  # "#": contained
            target = split_reference(reference)
            assert target and store.get(*target) is not None, (resource["id"], reference)
    kinds = ("ClaimResponse", "Claim", "Coverage", "Organization", "PractitionerRole", "Practitioner")
    chart = build_chart([r for kind in kinds for r in store.all(kind)])
    copies = [r for r in chart.of_type("ClaimResponse") if r["id"].endswith(tuple(f"-s{n:02d}" for n in range(1, 37)))]
    denials = open_denials(copies, chart.resolve)
    assert len(denials) == 36
    assert Counter(d.payer_name for d in denials).keys() == {"UnitedHealthcare", "Aetna", "Cigna Healthcare", "Humana"}
    decided = sorted(d.decided_at for d in denials if d.decided_at)
    assert decided[0] >= NOW.replace(day=13) and decided[-1] <= NOW  # within the past ten days
    assert len({d.decided_at for d in denials}) > 6  # spread, so the worklist has deadlines of every kind
    conditions = [r for r in made if r["resourceType"] == "Condition"]
    assert len(conditions) == 36 // 4 * sum(1 for r in store.all("Condition") if "-s" not in r["id"])


def test_the_same_seed_gives_the_same_practice() -> None:
    assert sample_denials(_store(), 8, now=NOW) == sample_denials(_store(), 8, now=NOW)
