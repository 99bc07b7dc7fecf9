"""Benchmark: ``p2p-brief sync`` over N ClaimResponses on the demo EHR (loopback, SMART Backend Services).

Reads by Bulk Data ``$export`` (default) or by ``_lastUpdated`` search (``--via search``). Each generated
ClaimResponse is a denial for its own patient and Claim (copies of the lumbar demo's, with new ids), so every one
becomes a case. Prints wall time, pages, FHIR requests, cases created and the peak memory the sync itself allocated
(tracemalloc). Not collected by pytest: ``python tests/bench/bench_sync.py [--count 10000] [--via search]``.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey

from smart_app.denials.assess import Clock
from smart_app.fhir.client import FhirClient
from smart_app.practice.sync import SYNC_SCOPE, sync
from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import bind, wait_until_ready
from smart_app.smart.backend import BackendAuth
from smart_app.smart.client_auth import public_jwks
from smart_app.store.cases import cases_for
from smart_app.store.db import Database


def _copies(store: Any, count: int) -> list[dict[str, Any]]:
    """``count`` denials, each with its own Patient, Claim and ClaimResponse, sharing payer and provider."""
    patient, claim, response = (
        store.get("Patient", "pat-lumbar-mri"),
        store.get("Claim", "claim-lumbar-mri-1"),
        store.get("ClaimResponse", "cr-lumbar-mri-1"),
    )
    made: list[dict[str, Any]] = []
    for i in range(count):
        p, c, r = copy.deepcopy(patient), copy.deepcopy(claim), copy.deepcopy(response)
        p["id"], c["id"], r["id"] = f"bench-pat-{i}", f"bench-claim-{i}", f"bench-cr-{i}"
        c["patient"] = r["patient"] = {"reference": f"Patient/bench-pat-{i}"}
        r["request"] = {"reference": f"Claim/bench-claim-{i}"}
        for resource in (c, r):
            resource.pop("identifier", None)
            resource.pop("meta", None)
        made += [p, c, r]
    return made


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--via", choices=("export", "search"), default="export")
    args = parser.parse_args()
    count, via = args.count, args.via
    key = RSAKey.generate_key(2048)
    key.ensure_kid()
    server = bind()
    client = RegisteredClient("bench-sync", [f"{server.url}/cb"], f"{server.url}/launch", "private_key_jwt",
                              jwks=public_jwks(key, "RS384"))  # fmt: skip
    ehr = create_ehr_app(EhrSettings(base_url=server.url, clients=[client], inspector_token="x"))
    ehr.extensions["demo_ehr"].store.add_all(_copies(ehr.extensions["demo_ehr"].store, count))
    server.mount(ehr)
    wait_until_ready(f"{server.url}/fhir/.well-known/smart-configuration")
    iss = f"{server.url}/fhir"
    db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}")
    db.upgrade()
    auth = BackendAuth("bench-sync", key, "RS384", scope=SYNC_SCOPE)
    fhir = FhirClient(iss, lambda: auth.token(iss))
    state = ehr.extensions["demo_ehr"]
    state.reset_request_count()
    tracemalloc.start()
    started = time.perf_counter()
    report = sync(db, fhir, clock=Clock.now_in("America/New_York"), via=via)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    again = time.perf_counter()
    second = sync(db, fhir, clock=Clock.now_in("America/New_York"), via=via)
    rerun = time.perf_counter() - again
    cases = len(cases_for(db, iss))
    server.stop()
    print("| via | ClaimResponses | pages | FHIR requests | cases | time | per 1,000 | peak memory | re-run |")  # noqa: T201
    print("|---|---|---|---|---|---|---|---|---|")  # noqa: T201
    print(  # noqa: T201
        f"| {report.via} | {report.read:,} | {report.pages} | {state.request_count:,} "
        f"| {cases:,} (new {report.new_cases:,}) "
        f"| {elapsed:.1f} s | {1000 * elapsed / max(report.read, 1):.2f} s | {peak / 2**20:.1f} MiB "
        f"| {rerun:.2f} s, {second.read} read |"
    )


if __name__ == "__main__":
    main()
