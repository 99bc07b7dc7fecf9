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
from pairs import DEMO_NOW

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
# The four ClaimResponse denials, and the shoulder MRI the payer posted only as a PDex EOB (use = preauthorization)
DEMO_DENIALS = {
    "cr-lumbar-mri-1", "cr-knee-tka-1", "cr-ra-adalimumab-1", "cr-glp1-semaglutide-1", "eob-pdex-shoulder-mri-1"
}  # fmt: skip


@pytest.fixture
def ehr() -> Iterator[tuple[RunningServer, Any]]:
    server = bind()
    client = RegisteredClient(
        "p2p-sync", [f"{server.url}/cb"], f"{server.url}/launch", "private_key_jwt", jwks=public_jwks(KEY, "RS384")
    )
    app = create_ehr_app(EhrSettings(base_url=server.url, clients=[client], inspector_token="x", now=DEMO_NOW))
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
    assert (first.read, first.eobs_read, first.denials, first.new_cases) == (5, 1, 5, 5)
    assert first.via == via
    assert first.new_p2p_eligible >= 1
    lumbar = next(r for r in rows if r.denial_id == "cr-lumbar-mri-1")
    assert lumbar.patient_name == "Raymond T. Quillfeather" and lumbar.payer == "UnitedHealthcare"
    assert lumbar.physician == "Dr. Priya Nandakumar" and lumbar.status == "new"
    assert lumbar.deadline is not None and lumbar.deadline.isoformat() == "2026-12-12T04:59:59+00:00"  # 23:59:59 EST
    again = sync(db, _client(server), clock=CLOCK, via=via)
    assert (again.read, again.eobs_read, again.new_cases) == (0, 0, 0)
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
    assert resumed.eobs_read == 1  # the EOBs' position is their own: the stop in the ClaimResponses did not move it
    assert {r.denial_id for r in rows} == DEMO_DENIALS
    fresh = sync(db, _client(server), clock=CLOCK, via=via)
    assert (fresh.read, fresh.eobs_read) == (0, 0)


def test_an_export_file_that_cannot_be_read_restarts_the_export_and_loses_nothing(
    ehr: tuple[RunningServer, Any], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = ehr
    from smart_app.errors import FhirReadError
    from smart_app.practice import sync_export
    from smart_app.store.sync_progress import load_progress

    def expired(*args: Any, **kwargs: Any) -> Any:
        raise FhirReadError("an export file could not be read: HTTP 404")

    monkeypatch.setattr(sync_export, "export_lines", expired)
    with pytest.raises(FhirReadError):
        sync(db, _client(server), clock=CLOCK, via="export")
    progress = load_progress(db, f"{server.url}/fhir")
    assert progress.export is None and progress.high_water is None  # no dead export kept, the mark not moved
    monkeypatch.undo()
    again = sync(db, _client(server), clock=CLOCK, via="export")
    assert {r.denial_id for r in cases_for(db, f"{server.url}/fhir")} == DEMO_DENIALS and again.new_cases == 5


def test_a_saved_export_the_server_failed_is_replaced_by_a_new_one(
    ehr: tuple[RunningServer, Any], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = ehr
    from smart_app.errors import FhirReadError
    from smart_app.practice import sync_export
    from smart_app.store.sync_progress import SyncProgress, save_progress

    iss = f"{server.url}/fhir"
    save_progress(
        db, iss, SyncProgress(None, set(), {"status_url": f"{iss}/bulk-status/failed", "file": 0, "lines": 0})
    )
    original = sync_export.wait_for_manifest

    def failed_job(client: Any, status_url: str, **kwargs: Any) -> Any:
        if status_url.endswith("/failed"):
            raise FhirReadError("the bulk export failed: job aborted")
        return original(client, status_url, **kwargs)

    monkeypatch.setattr(sync_export, "wait_for_manifest", failed_job)
    report = sync(db, _client(server), clock=CLOCK, via="export")
    assert report.new_cases == 5  # a new export was started instead of failing on the dead one every run


def test_a_page_whose_references_cannot_be_read_is_not_recorded_and_is_read_again(
    ehr: tuple[RunningServer, Any], db: Database, via: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = ehr
    from smart_app.errors import FhirReadError
    from smart_app.fhir.client import SearchResult

    original = FhirClient.search_all

    def practitioner_role_down(self: FhirClient, queries: Any, **kwargs: Any) -> Any:
        results = original(self, queries, **kwargs)
        return {k: SearchResult(error="PractitionerRole search failed: HTTP 503") if queries[k][0] ==
                "PractitionerRole" else r for k, r in results.items()}  # fmt: skip

    monkeypatch.setattr(FhirClient, "search_all", practitioner_role_down)
    with pytest.raises(FhirReadError, match="references could not be read"):
        sync(db, _client(server), clock=CLOCK, via=via)
    assert cases_for(db, f"{server.url}/fhir") == []  # no case without its practice
    monkeypatch.undo()
    sync(db, _client(server), clock=CLOCK, via=via)
    rows = cases_for(db, f"{server.url}/fhir")
    assert {r.denial_id for r in rows} == DEMO_DENIALS
    practices = {"Organization/org-lumbar-prairie-family-med", "Organization/org-glp1-front-range-im",
                 "Organization/org-knee-gulfcoast-ortho", "Organization/org-ra-susquehanna-rheum"}  # fmt: skip
    assert len(cases_for(db, f"{server.url}/fhir", practices)) == 5  # every case filed under its practice


def test_a_claim_response_for_another_patient_than_its_claims_is_refused_with_a_logged_reason(
    ehr: tuple[RunningServer, Any], db: Database, via: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An EHR answered one patient's Claim with a ClaimResponse naming another patient: recorded, that denial
    would be worked as the other patient's case. It is refused, and the log says which and why (references only)."""
    server, app = ehr
    store = app.extensions["demo_ehr"].store
    crossed = copy.deepcopy(store.get("ClaimResponse", "cr-lumbar-mri-1"))
    assert crossed is not None
    crossed.pop("meta", None)
    crossed["id"], crossed["identifier"] = "cr-crossed-1", [{"system": "urn:test", "value": "crossed"}]
    crossed["patient"] = {"reference": "Patient/pat-knee-tka"}  # its Claim, claim-lumbar-mri-1, is pat-lumbar-mri's
    store.add_all([crossed])
    with caplog.at_level("WARNING", logger="smart_app.practice.sync_pages"):
        report = sync(db, _client(server), clock=CLOCK, via=via)
    rows = cases_for(db, f"{server.url}/fhir")
    assert {r.denial_id for r in rows} == DEMO_DENIALS  # not recorded, under either patient
    assert report.refused == 1
    assert (
        "ClaimResponse/cr-crossed-1 refused, not recorded as a case: its patient (Patient/pat-knee-tka) is not its "
        "Claim's (Claim/claim-lumbar-mri-1, Patient/pat-lumbar-mri)"
    ) in caplog.text


def _eob_twin_of_lumbar(store: Any) -> dict[str, Any]:
    """The shoulder EOB rewritten as the payer's PDex copy of the lumbar MRI decision (same Claim, same patient)."""
    eob = copy.deepcopy(store.get("ExplanationOfBenefit", "pdex-shoulder-mri-1"))
    assert eob is not None
    eob.pop("meta", None)
    eob["id"], eob["identifier"] = "pdex-lumbar-mri-1", [{"system": "urn:test", "value": "lumbar-eob"}]
    eob["patient"] = {"reference": "Patient/pat-lumbar-mri"}
    eob["claim"] = {"reference": "Claim/claim-lumbar-mri-1"}
    eob["insurance"] = []
    return eob


def test_a_request_answered_by_a_claim_response_and_an_eob_is_one_case(
    ehr: tuple[RunningServer, Any], db: Database, via: str
) -> None:
    """The payer posted the lumbar MRI decision both as a PAS ClaimResponse and as a PDex EOB: the worklist has one
    case for it, the ClaimResponse's, as the patient's page lists it."""
    server, app = ehr
    store = app.extensions["demo_ehr"].store
    store.add_all([_eob_twin_of_lumbar(store)])
    report = sync(db, _client(server), clock=CLOCK, via=via)
    rows = cases_for(db, f"{server.url}/fhir")
    assert {r.denial_id for r in rows} == DEMO_DENIALS  # no eob-pdex-lumbar-mri-1 beside cr-lumbar-mri-1
    assert report.eobs_read == 2 and report.new_cases == 5


def test_an_eob_case_is_closed_when_its_claim_response_arrives(
    ehr: tuple[RunningServer, Any], db: Database, via: str
) -> None:
    """The EOB came first (a case of its own); the same request's ClaimResponse arrives later: one open case, the
    ClaimResponse's, and the EOB's is closed rather than worked twice."""
    server, app = ehr
    store = app.extensions["demo_ehr"].store
    answer = store._resources["ClaimResponse"].pop("cr-lumbar-mri-1")  # not posted yet
    store.add_all([_eob_twin_of_lumbar(store)])
    sync(db, _client(server), clock=CLOCK, via=via)
    assert {r.denial_id for r in cases_for(db, f"{server.url}/fhir")} >= {"eob-pdex-lumbar-mri-1"}
    answer.pop("meta", None)
    store.add_all([answer])  # posted now
    sync(db, _client(server), clock=CLOCK, via=via)
    rows = {r.denial_id: r for r in cases_for(db, f"{server.url}/fhir")}
    assert rows["eob-pdex-lumbar-mri-1"].status == "closed"
    assert rows["cr-lumbar-mri-1"].status == "new"


def test_a_client_not_granted_eobs_still_syncs_its_claim_responses_and_says_what_it_could_not_read(
    ehr: tuple[RunningServer, Any], db: Database, via: str
) -> None:
    """A backend client registered before sync read EOBs has no system/ExplanationOfBenefit.rs: the EHR refuses
    that type, and the run still records every ClaimResponse denial and names the type it could not read."""
    server, _ = ehr
    scope = " ".join(s for s in SYNC_SCOPE.split() if "ExplanationOfBenefit" not in s)
    auth = BackendAuth("p2p-sync", KEY, "RS384", scope=scope)
    iss = f"{server.url}/fhir"
    report = sync(db, FhirClient(iss, lambda: auth.token(iss)), clock=CLOCK, via=via)
    assert {r.denial_id for r in cases_for(db, iss)} == DEMO_DENIALS - {"eob-pdex-shoulder-mri-1"}
    assert list(report.not_read) == ["ExplanationOfBenefit"] and "403" in report.not_read["ExplanationOfBenefit"]
