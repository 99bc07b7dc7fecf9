"""The FHIR REST API: bearer tokens, reads, searches with paging, and scope enforcement."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ehr_helpers import FHIR, INSPECTOR, SmartFlow, bearer
from flask import Flask
from flask.testing import FlaskClient

from smart_app.content import content_dir

INSPECT = bearer(INSPECTOR)


def _issue_text(answer) -> str:  # noqa: ANN001
    outcome = answer.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    return outcome["issue"][0]["details"]["text"]


@pytest.mark.parametrize("headers", [{}, bearer("not-a-token"), {"Authorization": "Basic dXNlcjpwdw=="}])
def test_requests_without_a_live_token_get_401(client: FlaskClient, headers: dict[str, str]) -> None:
    answer = client.get("/fhir/Patient/pat-alvarez", headers=headers)
    assert answer.status_code == 401
    assert answer.mimetype == "application/fhir+json"
    assert _issue_text(answer)
    assert "WWW-Authenticate" in answer.headers


def test_expired_token_gets_401(ehr_app: Flask, flow: SmartFlow) -> None:
    token = flow.token()["access_token"]
    registry = ehr_app.extensions["demo_ehr"].registry
    start = registry.clock()
    registry.clock = lambda: start + 3601
    assert flow.client.get("/fhir/Patient/pat-alvarez", headers=bearer(token)).status_code == 401


def test_read(client: FlaskClient) -> None:
    answer = client.get("/fhir/Patient/pat-alvarez", headers=INSPECT)
    assert answer.status_code == 200
    assert answer.mimetype == "application/fhir+json"
    assert answer.headers["ETag"] == 'W/"1"'
    assert answer.get_json()["name"][0]["family"] == "Alvarez"


def test_malformed_resources_are_served_as_stored(client: FlaskClient) -> None:
    assert client.get("/fhir/Observation/obs-bad", headers=INSPECT).get_json()["valueQuantity"] == "seven"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/fhir/Patient/nobody", 404), ("/fhir/Unicorn/1", 404), ("/fhir/Unicorn", 404), ("/fhir/a/b/c/d", 404)],
)
def test_unknown_type_or_id(client: FlaskClient, path: str, status: int) -> None:
    answer = client.get(path, headers=INSPECT)
    assert answer.status_code == status
    assert _issue_text(answer)


def test_search_by_patient(client: FlaskClient) -> None:
    bundle = client.get("/fhir/Condition?patient=pat-alvarez", headers=INSPECT).get_json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    assert bundle["total"] == 3
    assert {e["resource"]["id"] for e in bundle["entry"]} == {"cond-1", "cond-2", "cond-3"}
    assert bundle["entry"][0]["fullUrl"] == FHIR + "/Condition/cond-1"
    assert client.get("/fhir/Condition?subject=Patient/pat-brooks", headers=INSPECT).get_json()["total"] == 1


def test_paging_follows_absolute_next_links(client: FlaskClient) -> None:
    seen: list[str] = []
    url: str | None = "/fhir/Condition?patient=pat-alvarez&_count=2"
    while url:
        bundle = client.get(url.removeprefix("http://127.0.0.1:8401"), headers=INSPECT).get_json()
        assert bundle["total"] == 3
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        assert links["self"].startswith(FHIR + "/Condition?")
        url = links.get("next")
        if url:
            assert url.startswith(FHIR + "/Condition?") and "_offset=" in url
    assert seen == ["cond-1", "cond-2", "cond-3"]


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("Condition?_id=cond-1,cond-3", {"cond-1", "cond-3"}),
        ("Patient?identifier=urn:oid:1.2.3.4|MRN-1002", {"pat-brooks"}),
        ("Patient?identifier=MRN-1001", {"pat-alvarez"}),
        ("ClaimResponse?patient=pat-alvarez&use=preauthorization", {"cr-1"}),
        ("ClaimResponse?request=Claim/claim-1", {"cr-1"}),
        ("Encounter?patient=pat-alvarez&status=finished", {"enc-old", "enc-new"}),
        ("Encounter?patient=pat-alvarez&status=in-progress", set()),
        ("Condition?code=http://hl7.org/fhir/sid/icd-10-cm|G89.4", {"cond-3"}),
        ("Condition?patient=pat-alvarez&unsupported-param=x", {"cond-1", "cond-2", "cond-3"}),
    ],
)
def test_search_parameters(client: FlaskClient, query: str, ids: set[str]) -> None:
    bundle = client.get(f"/fhir/{query}", headers=INSPECT).get_json()
    assert {e["resource"]["id"] for e in bundle.get("entry", [])} == ids


def test_unsupported_parameters_are_left_out_of_the_self_link(client: FlaskClient) -> None:
    bundle = client.get("/fhir/Condition?patient=pat-alvarez&bogus=1", headers=INSPECT).get_json()
    assert "bogus" not in bundle["link"][0]["url"]


def test_store_interface(ehr_app: Flask) -> None:
    store = ehr_app.extensions["demo_ehr"].store
    assert store.get("Patient", "pat-brooks")["gender"] == "male"
    assert store.get("Patient", "nobody") is None
    assert len(store.all("Encounter")) == 3
    assert [r["id"] for r in store.search("Condition", _id="cond-2,cond-brooks")] == ["cond-2", "cond-brooks"]
    assert [r["id"] for r in store.search("Encounter", patient="pat-brooks")] == ["enc-brooks"]


def test_patient_token_sees_only_its_patient(flow: SmartFlow) -> None:
    headers = bearer(flow.token()["access_token"])
    assert flow.client.get("/fhir/Patient/pat-alvarez", headers=headers).status_code == 200
    other = flow.client.get("/fhir/Patient/pat-brooks", headers=headers)
    assert other.status_code == 403 and _issue_text(other)
    assert flow.client.get("/fhir/Condition/cond-brooks", headers=headers).status_code == 403
    assert flow.client.get("/fhir/Condition?patient=pat-brooks", headers=headers).get_json()["total"] == 0
    everything = flow.client.get("/fhir/Condition", headers=headers).get_json()
    assert {e["resource"]["id"] for e in everything["entry"]} == {"cond-1", "cond-2", "cond-3"}


def test_scopes_limit_types_and_interactions(flow: SmartFlow) -> None:
    headers = bearer(flow.token()["access_token"])  # patient/Patient.r, no .s; no Claim scope at all
    assert flow.client.get("/fhir/Patient?_id=pat-alvarez", headers=headers).status_code == 403
    assert flow.client.get("/fhir/ClaimResponse/cr-1", headers=headers).status_code == 403


def test_v1_wildcard_scope_reads_everything_in_the_compartment(flow: SmartFlow) -> None:
    headers = bearer(flow.token(scope="launch patient/*.read")["access_token"])
    assert flow.client.get("/fhir/ClaimResponse/cr-1", headers=headers).status_code == 200
    assert flow.client.get("/fhir/Claim?patient=pat-alvarez", headers=headers).get_json()["total"] == 1
    assert flow.client.get("/fhir/Practitioner/prac-chen", headers=headers).status_code == 200  # shared type
    assert flow.client.get("/fhir/Encounter/enc-brooks", headers=headers).status_code == 403


def test_user_scope_is_not_confined_to_the_patient(flow: SmartFlow) -> None:
    headers = bearer(flow.token(scope="launch user/Patient.rs")["access_token"])
    assert flow.client.get("/fhir/Patient/pat-brooks", headers=headers).status_code == 200
    assert flow.client.get("/fhir/Patient", headers=headers).get_json()["total"] == 2


def test_request_count(ehr_app: Flask, client: FlaskClient) -> None:
    ehr = ehr_app.extensions["demo_ehr"]
    ehr.reset_request_count()
    client.get("/fhir/Patient/pat-alvarez", headers=INSPECT)
    client.get("/fhir/Condition?patient=pat-alvarez", headers=INSPECT)
    client.get("/fhir/Patient/pat-alvarez")  # refused, still served
    client.get("/fhir/.well-known/smart-configuration")  # discovery is not FHIR API
    client.get("/")
    assert ehr.request_count == 3
    ehr.reset_request_count()
    assert ehr.request_count == 0


def test_latency_is_added_to_fhir_requests(make_ehr: Callable[..., Flask]) -> None:
    import time

    client = make_ehr(latency_ms=120).test_client()
    start = time.monotonic()
    client.get("/fhir/Patient/pat-alvarez", headers=INSPECT)
    assert time.monotonic() - start >= 0.12


def test_update_and_delete_are_not_supported(client: FlaskClient) -> None:
    assert client.delete("/fhir/Patient/pat-alvarez", headers=INSPECT).status_code == 405
    assert client.put("/fhir/Patient/pat-alvarez", headers=INSPECT, json={}).status_code == 405


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("ExplanationOfBenefit?patient=Patient/pat-shoulder-eob&use=preauthorization", {"pdex-shoulder-mri-1"}),
        ("ExplanationOfBenefit?patient=Patient/pat-shoulder-eob&use=claim", set()),
        ("ExplanationOfBenefit?claim=Claim/none", set()),
    ],
)
def test_the_demo_ehr_searches_pdex_eobs_by_use(make_ehr: Callable[..., Flask], query: str, ids: set[str]) -> None:
    client = make_ehr(bundles_dir=content_dir("fhir") / "demo").test_client()
    bundle = client.get(f"/fhir/{query}", headers=INSPECT).get_json()
    assert {e["resource"]["id"] for e in bundle.get("entry", [])} == ids
