"""Benchmark: criteria evaluation time and peak memory as the chart grows (100 to 50,000 resources).

The lumbar demo chart's facts plus unrelated encounters, conditions, procedures, observations and drug records
(the bulk of a real chart) are indexed and evaluated against every shipped policy. Prints a table; growth should be
linear. Not collected by pytest: ``python tests/bench/bench_criteria.py [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from datetime import date, timedelta
from typing import Any

from smart_app.content import content_dir
from smart_app.criteria.evaluate import evaluate_policy
from smart_app.criteria.index import index_chart
from smart_app.criteria.library import library
from smart_app.fhir.chart import Chart, chart_from_bundle

SIZES = (100, 1_000, 10_000, 50_000)
REQUEST = date(2026, 11, 16)


def _filler(n: int) -> list[dict[str, Any]]:
    """Unrelated but valid resources in a realistic mix (no policy value set matches them)."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        when = (REQUEST - timedelta(days=i % 3650)).isoformat()
        kind = i % 4
        if kind == 0:
            out.append(
                {
                    "resourceType": "Observation",
                    "id": f"o{i}",
                    "status": "final",
                    "subject": {"reference": "Patient/pat-lumbar-mri"},
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "effectiveDateTime": when,
                    "valueQuantity": {
                        "value": 70 + i % 30,
                        "unit": "/min",
                        "system": "http://unitsofmeasure.org",
                        "code": "/min",
                    },
                }
            )
        elif kind == 1:
            out.append(
                {
                    "resourceType": "Procedure",
                    "id": f"p{i}",
                    "status": "completed",
                    "subject": {"reference": "Patient/pat-lumbar-mri"},
                    "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]},
                    "performedDateTime": when,
                }
            )
        elif kind == 2:
            out.append(
                {
                    "resourceType": "Condition",
                    "id": f"c{i}",
                    "subject": {"reference": "Patient/pat-lumbar-mri"},
                    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J06.9"}]},
                    "onsetDateTime": when,
                }
            )
        else:
            out.append(
                {
                    "resourceType": "MedicationStatement",
                    "id": f"m{i}",
                    "status": "completed",
                    "subject": {"reference": "Patient/pat-lumbar-mri"},
                    "medicationCodeableConcept": {
                        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "310965"}]
                    },
                    "effectivePeriod": {"start": when, "end": when},
                }
            )
    return out


def _chart(size: int) -> Chart:
    bundle = json.loads((content_dir("fhir") / "demo" / "lumbar-mri.json").read_text())
    base = len(bundle["entry"])
    bundle["entry"] += [{"resource": r} for r in _filler(max(0, size - base))]
    return chart_from_bundle(bundle, patient_id="pat-lumbar-mri")


def _evaluate_all(chart: Chart) -> dict[str, str]:
    lib = library()
    index = index_chart(chart, lib.ingredients)
    return {p.id: evaluate_policy(p, lib, index, REQUEST)["policyResult"] for p in lib.policies}


def main() -> None:
    """Print time and peak memory of indexing plus evaluating all 10 policies, per chart size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    _evaluate_all(_chart(100))  # warm the library and the FHIRPath cache
    header = f"{'resources':>10} {'index+evaluate (ms, median)':>28} {'ms per 1,000':>13} {'peak memory (MiB)':>18}"
    print(header + "  lumbar")  # noqa: T201
    for size in SIZES:
        chart = _chart(size)
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            results = _evaluate_all(chart)
            times.append((time.perf_counter() - started) * 1000)
        tracemalloc.start()
        _evaluate_all(chart)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        median = statistics.median(times)
        print(f"{size:>10,} {median:>28.1f} {median / size * 1000:>13.2f} {peak:>18.1f}  {results['lumbar-spine-mri']}")  # noqa: T201


if __name__ == "__main__":
    main()
