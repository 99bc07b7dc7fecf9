"""Benchmark: rendering the brief (HTML and the fitted one-page PDF) and the call script, per demo patient and for a
chart of 5,000 resources. Prints time per brief and peak memory. Not collected by pytest:
``python tests/bench/bench_render.py [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from smart_app.brief.render import render_pdf_fitted, render_print_html, render_script_pdf
from smart_app.cli import brief_clock, brief_from_bundle
from smart_app.content import content_dir

DEMO = content_dir("fhir") / "demo"


def _big_bundle(size: int) -> Path:
    """The lumbar chart padded with unrelated observations to ``size`` resources, as a temporary Bundle file."""
    bundle = json.loads((DEMO / "lumbar-mri.json").read_text())
    for i in range(size - len(bundle["entry"])):
        bundle["entry"].append(
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": f"hr{i}",
                    "status": "final",
                    "subject": {"reference": "Patient/pat-lumbar-mri"},
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "effectiveDateTime": f"20{10 + i % 16}-0{1 + i % 9}-1{i % 9}",
                    "valueQuantity": {"value": 60 + i % 40, "unit": "/min", "system": "http://unitsofmeasure.org"},
                }
            }
        )
    path = Path(tempfile.mkdtemp()) / "big.json"
    path.write_text(json.dumps(bundle))
    return path


def _time(action: Any, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    clock = brief_clock("2026-11-23", "America/New_York")
    charts = [p for p in sorted(DEMO.glob("*.json")) if p.stem != "practice-staff"]  # the staff bundle has no chart
    cases = [(p.stem, p) for p in charts] + [("5,000 resources", _big_bundle(5_000))]
    render_pdf_fitted(brief_from_bundle(cases[0][1], clock=clock))  # warm WeasyPrint and the fonts
    print(
        f"{'chart':<16} {'model ms':>9} {'HTML ms':>8} {'PDF ms':>8} {'fit':>4} {'script PDF ms':>14} {'peak MiB':>9}"
    )  # noqa: T201
    for name, path in cases:
        model = _time(lambda p=path: brief_from_bundle(p, clock=clock), args.rounds)
        brief = brief_from_bundle(path, clock=clock)
        html = _time(lambda b=brief: render_print_html(b), args.rounds)
        pdf = _time(lambda b=brief: render_pdf_fitted(b), args.rounds)
        script = _time(lambda b=brief: render_script_pdf(b), args.rounds)
        tracemalloc.start()
        _, level = render_pdf_fitted(brief_from_bundle(path, clock=clock))
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{name:<16} {model:>9.0f} {html:>8.1f} {pdf:>8.0f} {level:>4} {script:>14.0f} {peak:>9.1f}")  # noqa: T201


if __name__ == "__main__":
    main()
