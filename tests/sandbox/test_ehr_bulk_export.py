"""The demo EHR's Bulk Data export (system level): kick-off rules, polling, the manifest, NDJSON files for the
client that asked only, ``_since``, ``_type`` and cancelling."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from ehr_helpers import bearer, client_assertion
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import Key

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def _system_token(client: FlaskClient, key: Key, scope: str = "system/ClaimResponse.rs system/Patient.rs") -> str:
    answer = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": scope,
                                                "client_assertion_type": ASSERTION_TYPE,
                                                "client_assertion": client_assertion(key, "RS384")})  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    return str(answer.get_json()["access_token"])


def _export(client: FlaskClient, token: str, query: str = "_type=ClaimResponse") -> Any:
    return client.get(f"/fhir/$export?{query}", headers={**ASYNC, **bearer(token)})


def _manifest(client: FlaskClient, token: str, status_url: str) -> dict[str, Any]:
    path = status_url.split("://", 1)[1].split("/", 1)[1]
    first = client.get(f"/{path}", headers=bearer(token))
    assert first.status_code == 202 and first.headers["Retry-After"] == "1"  # in progress, then done
    done = client.get(f"/{path}", headers=bearer(token))
    assert done.status_code == 200
    return done.get_json()


def _lines(client: FlaskClient, token: str, url: str) -> list[dict[str, Any]]:
    answer = client.get("/" + url.split("://", 1)[1].split("/", 1)[1], headers=bearer(token))
    assert answer.status_code == 200 and answer.mimetype == "application/fhir+ndjson"
    return [json.loads(line) for line in answer.get_data(as_text=True).splitlines()]


def test_the_capability_statement_offers_bulk_export(client: FlaskClient) -> None:
    statement = client.get("/fhir/metadata").get_json()
    assert "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data" in statement["instantiates"]
    assert {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"} in (
        statement["rest"][0]["operation"]
    )


def test_an_export_runs_from_kick_off_to_files(client: FlaskClient, backend_keys: dict[str, Key]) -> None:
    token = _system_token(client, backend_keys["RS384"])
    started = _export(client, token, "_type=ClaimResponse,Patient&_outputFormat=application/fhir%2Bndjson")
    assert started.status_code == 202 and started.headers["Content-Location"].startswith("http")
    manifest = _manifest(client, token, started.headers["Content-Location"])
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert manifest["transactionTime"] and "$export" in manifest["request"]
    by_type = {o["type"]: o for o in manifest["output"]}
    assert set(by_type) == {"ClaimResponse", "Patient"}
    patients = _lines(client, token, by_type["Patient"]["url"])
    assert len(patients) == by_type["Patient"]["count"] == 2 and {p["resourceType"] for p in patients} == {"Patient"}


def test_since_keeps_only_what_changed_after_it(
    ehr_app: Flask, client: FlaskClient, backend_keys: dict[str, Key]
) -> None:
    token = _system_token(client, backend_keys["RS384"])
    cut = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 1)) + "Z"
    time.sleep(1.2)
    ehr_app.extensions["demo_ehr"].store.add_all(
        [{"resourceType": "ClaimResponse", "id": "cr-new", "status": "active"}]
    )
    manifest = _manifest(
        client, token, _export(client, token, f"_type=ClaimResponse&_since={cut}").headers["Content-Location"]
    )
    (output,) = manifest["output"]
    assert [r["id"] for r in _lines(client, token, output["url"])] == ["cr-new"]


@pytest.mark.parametrize(
    ("query", "headers", "status", "words"),
    [
        ("_type=ClaimResponse", {"Accept": "application/fhir+json"}, 400, "Prefer: respond-async"),
        ("_type=Spaceship", ASYNC, 400, "Unknown resource type"),
        ("_type=Condition", ASYNC, 403, "do not allow exporting Condition"),
        ("_outputFormat=text/csv", ASYNC, 400, "only NDJSON"),
        ("_since=yesterday", ASYNC, 400, "not a FHIR instant"),
    ],
)
def test_kick_off_refusals(client: FlaskClient, backend_keys: dict[str, Key], query: str, headers: dict, status: int,
                           words: str) -> None:  # fmt: skip
    token = _system_token(client, backend_keys["RS384"])
    answer = client.get(f"/fhir/$export?{query}", headers={**headers, **bearer(token)})
    assert answer.status_code == status
    assert answer.get_json()["resourceType"] == "OperationOutcome" and words in json.dumps(answer.get_json())


def test_a_patient_launch_token_cannot_export(client: FlaskClient, flow: Any) -> None:
    token = flow.token()["access_token"]
    answer = _export(client, token)
    assert answer.status_code == 403 and "patient context" in json.dumps(answer.get_json())


def test_only_the_client_that_asked_reads_the_status_and_files(
    client: FlaskClient, backend_keys: dict[str, Key], flow: Any
) -> None:
    token = _system_token(client, backend_keys["RS384"])
    status_url = _export(client, token).headers["Content-Location"]
    manifest = _manifest(client, token, status_url)
    other = flow.token()["access_token"]  # another client (the public app), another token
    status_path = "/" + status_url.split("://", 1)[1].split("/", 1)[1]
    file_path = "/" + manifest["output"][0]["url"].split("://", 1)[1].split("/", 1)[1]
    assert client.get(status_path, headers=bearer(other)).status_code == 404
    assert client.get(file_path, headers=bearer(other)).status_code == 404
    assert client.get(file_path).status_code == 401  # no token at all
    assert client.delete(status_path, headers=bearer(token)).status_code == 202  # cancelled: gone for everyone
    assert client.get(status_path, headers=bearer(token)).status_code == 404
    assert client.get(file_path, headers=bearer(token)).status_code == 404
