"""``p2p-brief sync`` against the demo EHR through SMART Backend Services, both ways it reads the server (a Bulk
Data ``$export`` and a ``_lastUpdated`` search): every open denial becomes a case without anybody launching, a
second run reads nothing new, a new ClaimResponse is found, and a run stopped part-way resumes without duplicating
a denial."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from smart_app.denials.assess import Clock
from smart_app.fhir.client import FhirClient
from smart_app.practice import sync_pages
from smart_app.practice.sync import SYNC_SCOPE, sync
from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import RunningServer, bind, wait_until_ready
from smart_app.smart.backend import BackendAuth
from smart_app.smart.client_auth import public_jwks
from smart_app.store.cases import cases_for
from smart_app.store.db import Database

KEY = RSAKey.generate_key(2048)
KEY.ensure_kid()
CLOCK = Clock.now_in("America/New_York")
DEMO_DENIALS = {"cr-lumbar-mri-1", "cr-knee-tka-1", "cr-ra-adalimumab-1", "cr-glp1-semaglutide-1"}


@pytest.fixture
def ehr() -> Iterator[tuple[RunningServer, Any]]:
    server = bind()
    client = RegisteredClient(
        "p2p-sync", [f"{server.url}/cb"], f"{server.url}/launch", "private_key_jwt", jwks=public_jwks(KEY, "RS384")
    )
    app = create_ehr_app(EhrSettings(base_url=server.url, clients=[client], inspector_token="x"))
    server.mount(app)
    wait_until_ready(f"{server.url}/fhir/.well-known/smart-configuration")
    yield server, app
    server.stop()


@pytest.fixture(params=["export", "search"])
def via(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'sync.sqlite3'}")
    database.upgrade()
    return database


def _client(server: RunningServer) -> FhirClient:
    auth = BackendAuth("p2p-sync", KEY, "RS384", scope=SYNC_SCOPE)
    iss = f"{server.url}/fhir"
    return FhirClient(iss, lambda: auth.token(iss))


def test_every_open_denial_becomes_a_case_once(ehr: tuple[RunningServer, Any], db: Database, via: str) -> None:
    server, _ = ehr
    first = sync(db, _client(server), clock=CLOCK, via=via)
    rows = cases_for(db, f"{server.url}/fhir")
    assert {r.denial_id for r in rows} == DEMO_DENIALS  # the approved PT authorization is not a denial
    assert (first.read, first.denials, first.new_cases) == (5, 4, 4)
    assert first.via == via
    assert first.new_p2p_eligible >= 1
    lumbar = next(r for r in rows if r.denial_id == "cr-lumbar-mri-1")
    assert lumbar.patient_name == "Raymond T. Quillfeather" and lumbar.payer == "UnitedHealthcare"
    assert lumbar.physician == "Dr. Priya Nandakumar" and lumbar.status == "new"
    assert lumbar.deadline is not None and lumbar.deadline.isoformat() == "2026-12-12T04:59:59+00:00"  # 23:59:59 EST
    again = sync(db, _client(server), clock=CLOCK, via=via)
    assert (again.read, again.new_cases) == (0, 0)
    assert len(cases_for(db, f"{server.url}/fhir")) == len(rows)


def test_a_new_claim_response_is_found_by_the_next_run(ehr: tuple[RunningServer, Any], db: Database, via: str) -> None:
    server, app = ehr
    sync(db, _client(server), clock=CLOCK, via=via)
    store = app.extensions["demo_ehr"].store
    newer = copy.deepcopy(store.get("ClaimResponse", "cr-lumbar-mri-1"))
    assert newer is not None
    newer.pop("meta", None)
    newer["id"], newer["identifier"] = "cr-lumbar-mri-2", [{"system": "urn:test", "value": "second-request"}]
    newer["request"] = {"reference": "Claim/claim-lumbar-mri-1"}
    store.add_all([newer])
    report = sync(db, _client(server), clock=CLOCK, via=via)
    assert (report.read, report.denials, report.new_cases) == (1, 1, 1)
    rows = {r.denial_id: r for r in cases_for(db, f"{server.url}/fhir")}
    assert rows["cr-lumbar-mri-2"].status == "new"
    assert rows["cr-lumbar-mri-1"].status == "closed"  # the older answer to the same request is not worked twice


def test_a_run_stopped_part_way_resumes_without_duplicates(
    ehr: tuple[RunningServer, Any], db: Database, via: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = ehr
    monkeypatch.setattr(sync_pages, "PAGE_SIZE", 1)  # one ClaimResponse per page
    original = sync_pages.record_page
    calls = {"n": 0}

    def crash_on_third_page(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the process was killed")
        original(*args, **kwargs)

    monkeypatch.setattr(sync_pages, "record_page", crash_on_third_page)
    with pytest.raises(RuntimeError):
        sync(db, _client(server), clock=CLOCK, via=via)
    partial = cases_for(db, f"{server.url}/fhir")
    monkeypatch.setattr(sync_pages, "record_page", original)
    resumed = sync(db, _client(server), clock=CLOCK, via=via)
    rows = cases_for(db, f"{server.url}/fhir")
    assert len({(r.patient_id, r.denial_id) for r in rows}) == len(rows)  # never a duplicate
    assert len(rows) == len(partial) + resumed.new_cases
    assert resumed.read == 5 - 2  # the two pages recorded before the stop are not read again
    assert {r.denial_id for r in rows} == DEMO_DENIALS
    fresh = sync(db, _client(server), clock=CLOCK, via=via)
    assert fresh.read == 0
