"""Benchmark: time from the EHR's launch redirect to the rendered brief page, and the FHIR requests it made.

Runs the demo EHR and the app on loopback, with the EHR answering at once and with added latency per FHIR
request, and prints a table. Not collected by pytest: ``python tests/bench/bench_launch.py [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import tempfile
import time
from html import unescape
from pathlib import Path

import requests

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import bind, wait_until_ready
from smart_app.web import create_app

PATIENTS = ("pat-lumbar-mri", "pat-ra-tnf", "pat-knee-tka", "pat-glp1-t2dm")


def _launch_to_brief(ehr_url: str, app_url: str, patient: str) -> float:
    """One user: launch from the chart, land on the denial list, open the first brief. Seconds taken."""
    browser = requests.Session()
    started = time.perf_counter()
    listing = browser.get(f"{ehr_url}/launch?patient={patient}", timeout=30)
    link = re.search(r'href="(/brief/[^"]+)"', listing.text)
    if listing.status_code != 200 or not link:
        raise RuntimeError(f"launch for {patient} did not reach the denial list ({listing.status_code})")
    brief = browser.get(app_url + unescape(link.group(1)), timeout=30)
    elapsed = time.perf_counter() - started
    if brief.status_code != 200 or "Clinical bottom line" not in brief.text:
        raise RuntimeError(f"brief for {patient} did not render ({brief.status_code})")
    return elapsed


def run(latency_ms: int, rounds: int) -> list[tuple[str, float, float, int]]:
    """Median and max seconds, and FHIR requests per launch, for each demo patient at one latency."""
    ehr_server, app_server = bind(), bind()
    ehr_app = create_ehr_app(
        EhrSettings(
            base_url=ehr_server.url,
            clients=[RegisteredClient("bench", [f"{app_server.url}/callback"], f"{app_server.url}/launch")],
            inspector_token="bench",  # noqa: S106 - a loopback benchmark token
            require_consent=False,
            latency_ms=latency_ms,
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "CLIENT_ID": "bench",
                "ALLOWED_ISS": [f"{ehr_server.url}/fhir"],
                "INSECURE_COOKIES": True,
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            }
        )
        ehr_server.mount(ehr_app)
        app_server.mount(app)
        wait_until_ready(f"{app_server.url}/health")
        ehr = ehr_app.extensions["demo_ehr"]
        rows = []
        try:
            for patient in PATIENTS:
                _launch_to_brief(ehr_server.url, app_server.url, patient)  # warm-up (discovery cache, imports)
                ehr.reset_request_count()
                times = [_launch_to_brief(ehr_server.url, app_server.url, patient) for _ in range(rounds)]
                rows.append((patient, statistics.median(times), max(times), ehr.request_count // rounds))
        finally:
            app_server.stop()
            ehr_server.stop()
    return rows


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency", type=int, nargs="*", default=[0, 50])
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(f"{'latency':>8}  {'patient':<16} {'median s':>9} {'max s':>7} {'FHIR req':>9}")  # noqa: T201
    for latency in args.latency:
        for patient, median, worst, count in run(latency, args.rounds):
            print(f"{latency:>6}ms  {patient:<16} {median:>9.3f} {worst:>7.3f} {count:>9}")  # noqa: T201


if __name__ == "__main__":
    main()
