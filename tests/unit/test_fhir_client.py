"""The FHIR client: paging, same-origin next links, concurrency, retries, and how failures surface."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import requests
import responses

from smart_app.errors import FhirAuthError, FhirReadError, FhirUnreachable
from smart_app.fhir.chart import build_chart
from smart_app.fhir.client import FhirClient

BASE = "https://ehr.example/fhir"


def _bundle(*ids: str, rtype: str = "Condition", next_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": rtype, "id": i}, "search": {"mode": "match"}} for i in ids],
    }
    if next_url:
        bundle["link"] = [{"relation": "self", "url": f"{BASE}/{rtype}"}, {"relation": "next", "url": next_url}]
    return bundle


def _client(**kwargs: Any) -> FhirClient:
    return FhirClient(BASE, "tok-1", **kwargs)


@responses.activate
def test_search_follows_next_links_through_three_pages() -> None:
    responses.get(f"{BASE}/Condition", json=_bundle("c1", "c2", next_url=f"{BASE}?_getpages=abc&page=2"))
    responses.get(f"{BASE}?_getpages=abc&page=2", json=_bundle("c3", next_url=f"{BASE}?_getpages=abc&page=3"))
    responses.get(f"{BASE}?_getpages=abc&page=3", json=_bundle("c4"))

    result = _client().search("Condition", {"patient": "p1"})

    assert result.error is None
    assert result.pages == 3
    assert [r["id"] for r in result.resources] == ["c1", "c2", "c3", "c4"]
    assert len(responses.calls) == 3
    assert "patient=p1" in responses.calls[0].request.url
    assert "patient=p1" not in responses.calls[1].request.url  # the next link is followed as given
    assert all(c.request.headers["Authorization"] == "Bearer tok-1" for c in responses.calls)


@responses.activate
def test_next_link_to_another_origin_is_not_followed() -> None:
    responses.get(f"{BASE}/Condition", json=_bundle("c1", next_url="https://evil.example/steal?page=2"))

    result = _client().search("Condition", {"patient": "p1"})

    assert [r["id"] for r in result.resources] == ["c1"]
    assert result.error is not None and "another origin" in result.error
    assert len(responses.calls) == 1  # the token never went to evil.example


@responses.activate
def test_page_limit_stops_paging_with_an_error() -> None:
    responses.get(f"{BASE}/Condition", json=_bundle("c1", next_url=f"{BASE}/Condition?page=2"))

    result = _client(page_limit=2).search("Condition")

    assert result.pages == 2
    assert "stopped after 2 pages" in (result.error or "")


@responses.activate
def test_a_total_above_what_was_read_with_no_next_link_says_how_many_were_read() -> None:
    bundle = {**_bundle("c1", "c2"), "total": 5}  # as Medplum answers: a full page, the true total, no next link
    responses.get(f"{BASE}/Condition", json=bundle)

    result = _client().search("Condition", {"patient": "Patient/p1"})

    assert [r["id"] for r in result.resources] == ["c1", "c2"]  # what was read is kept
    assert result.error == "2 of 5 Conditions read: the EHR gave no link to the rest"


@responses.activate
def test_page_limit_with_a_total_says_how_many_were_read() -> None:
    responses.get(f"{BASE}/Condition", json={**_bundle("c1", next_url=f"{BASE}/Condition?page=2"), "total": 9})

    result = _client(page_limit=2).search("Condition")

    assert result.error == "2 of 9 Conditions read: the search stopped after 2 pages"


@responses.activate
def test_a_total_that_counts_what_was_read_is_no_error() -> None:
    bundle = {**_bundle("c1", "c2"), "total": 2}
    bundle["entry"].append({"resource": {"resourceType": "Patient", "id": "p1"}, "search": {"mode": "include"}})
    responses.get(f"{BASE}/Condition", json=bundle)

    result = _client().search("Condition", {"_include": "Condition:subject"})

    assert result.error is None  # an included resource is not one of the matches Bundle.total counts
    assert len(result.resources) == 3


@responses.activate
def test_outcome_entries_are_not_resources() -> None:
    bundle = _bundle("c1")
    bundle["entry"].append({"resource": {"resourceType": "OperationOutcome"}, "search": {"mode": "outcome"}})
    responses.get(f"{BASE}/Condition", json=bundle)

    assert [r["resourceType"] for r in _client().search("Condition").resources] == ["Condition"]


def test_search_all_runs_searches_concurrently() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def slow(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.1)
        with lock:
            active -= 1
        rtype = request.path_url.split("?")[0].rsplit("/", 1)[-1]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(_bundle(f"{rtype}-1", rtype=rtype))

    types = ["Condition", "Procedure", "Observation", "Claim", "Coverage", "Encounter"]
    with responses.RequestsMock() as mock:
        for rtype in types:
            mock.add_callback(responses.GET, f"{BASE}/{rtype}", callback=slow)
        client = _client(max_workers=8)
        started = time.perf_counter()
        results = client.search_all({t: (t, {"patient": "p1"}) for t in types})
        elapsed = time.perf_counter() - started

    assert elapsed < 0.45, f"6 searches of 0.1 s took {elapsed:.2f} s: not concurrent"
    assert peak > 1
    assert {k: [r["id"] for r in v.resources] for k, v in results.items()} == {t: [f"{t}-1"] for t in types}


@responses.activate
def test_401_raises_fhir_auth_error_from_search() -> None:
    responses.get(f"{BASE}/Condition", status=401)

    with pytest.raises(FhirAuthError) as excinfo:
        _client().search("Condition")
    assert "(401)" in excinfo.value.message
    assert excinfo.value.status == 403


@responses.activate
def test_403_on_one_type_is_a_search_error_not_raised() -> None:
    responses.get(f"{BASE}/Condition", json=_bundle("c1"))
    responses.get(
        f"{BASE}/Procedure",
        status=403,
        json={
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "scope lacks Procedure"}],
        },
    )

    results = _client().search_all({"Condition": ("Condition", {}), "Procedure": ("Procedure", {})})

    assert results["Condition"].error is None
    assert [r["id"] for r in results["Condition"].resources] == ["c1"]
    assert results["Procedure"].resources == []
    assert "(403)" in (results["Procedure"].error or "")
    assert "scope lacks Procedure" in (results["Procedure"].error or "")


@responses.activate
def test_429_with_retry_after_is_retried_after_that_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    monkeypatch.setattr("smart_app.fhir.client.time.sleep", delays.append)
    responses.get(f"{BASE}/Condition", status=429, headers={"Retry-After": "2"})
    responses.get(f"{BASE}/Condition", json=_bundle("c1"))

    result = _client().search("Condition")

    assert delays == [2.0]
    assert result.error is None
    assert [r["id"] for r in result.resources] == ["c1"]
    assert len(responses.calls) == 2


@responses.activate
def test_retry_after_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    monkeypatch.setattr("smart_app.fhir.client.time.sleep", delays.append)
    responses.get(f"{BASE}/Condition", status=429, headers={"Retry-After": "3600"})
    responses.get(f"{BASE}/Condition", json=_bundle("c1"))

    _client().search("Condition")

    assert delays == [10.0]


@responses.activate
def test_503_beyond_max_retries_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    monkeypatch.setattr("smart_app.fhir.client.time.sleep", delays.append)
    responses.get(f"{BASE}/Condition", status=503)

    result = _client(max_retries=2).search("Condition")

    assert len(responses.calls) == 3  # one try and two retries, then give up
    assert len(delays) == 2
    assert result.resources == []
    assert "HTTP 503" in (result.error or "")


@responses.activate
def test_timeout_is_fhir_unreachable() -> None:
    responses.get(f"{BASE}/Patient/p1", body=requests.ReadTimeout("slow"))

    with pytest.raises(FhirUnreachable, match="timed out"):
        _client(timeout=3).read("Patient", "p1")


@responses.activate
def test_timeout_during_search_is_a_search_error() -> None:
    responses.get(f"{BASE}/Condition", body=requests.ConnectTimeout("slow"))

    result = _client().search("Condition")

    assert "timed out" in (result.error or "")


@responses.activate
def test_read_of_missing_resource_is_read_error() -> None:
    responses.get(
        f"{BASE}/Patient/nope",
        status=404,
        json={
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "not-found", "details": {"text": "No such patient"}}],
        },
    )

    with pytest.raises(FhirReadError, match="No such patient"):
        _client().read("Patient", "nope")


@responses.activate
def test_malformed_resource_is_skipped_with_a_warning_without_its_value() -> None:
    secret = "SSN-123-45-6789-not-a-date"
    responses.get(
        f"{BASE}/Condition/bad",
        json={
            "resourceType": "Condition",
            "id": "bad",
            "subject": {"reference": "Patient/p1"},
            "onsetDateTime": secret,
        },
    )
    responses.get(
        f"{BASE}/Condition/good",
        json={"resourceType": "Condition", "id": "good", "subject": {"reference": "Patient/p1"}},
    )
    client = _client()

    chart = build_chart([client.read("Condition", "bad"), client.read("Condition", "good")], patient_id="p1")

    assert [r["id"] for r in chart.of_type("Condition")] == ["good"]
    assert "Condition/bad" not in chart.index
    assert len(chart.warnings) == 1
    warning = chart.warnings[0]
    assert "Condition/bad" in warning
    assert "onsetDateTime" in warning
    assert secret not in warning
    assert "SSN" not in warning


def test_a_search_past_the_deadline_is_given_up_and_named_while_the_rest_arrive() -> None:
    def slow(request: Any) -> tuple[int, dict[str, str], str]:
        time.sleep(1.5)
        return 200, {}, json.dumps(_bundle("p1", rtype="Procedure"))

    with responses.RequestsMock() as mocked:
        mocked.get(f"{BASE}/Condition", json=_bundle("c1"))
        mocked.add_callback(responses.GET, f"{BASE}/Procedure", callback=slow)
        started = time.monotonic()
        results = _client().search_all(
            {"Condition": ("Condition", {}), "Procedure": ("Procedure", {})}, deadline=time.monotonic() + 0.4
        )
        elapsed = time.monotonic() - started
        time.sleep(1.3)  # let the abandoned request finish inside the mock
    assert elapsed < 1.0  # the caller was not held by the slow type
    assert [r["id"] for r in results["Condition"].resources] == ["c1"]
    assert results["Procedure"].resources == []
    assert results["Procedure"].error == "Procedure: the EHR did not answer in time, so it was not read"
