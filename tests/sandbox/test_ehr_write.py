"""DocumentReference create: per-EHR write rules (422 naming the element), conditional create, faults."""

from __future__ import annotations

import base64
import copy
import threading
from collections.abc import Callable
from typing import Any

import pytest
from ehr_helpers import FHIR, INSPECTOR, SmartFlow, bearer, client_assertion
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import Key

NOTE_ID = {"system": "urn:p2p-brief:call-note", "value": "cr-1-call-1"}
IF_NONE_EXIST = {"If-None-Exist": "identifier=urn:p2p-brief:call-note|cr-1-call-1"}
CLINICAL_NOTE = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category|clinical-note"


def note(**changes: Any) -> dict[str, Any]:
    """A call note every profile accepts; keyword arguments replace top-level elements (None removes one)."""
    doc = {
        "resourceType": "DocumentReference",
        "identifier": [NOTE_ID],
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": "http://loinc.org", "code": "34748-4", "display": "Telephone encounter Note"}]},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                        "code": "clinical-note",
                    }
                ]
            }
        ],
        "subject": {"reference": "Patient/pat-alvarez"},
        "date": "2024-05-06T15:30:00Z",
        "author": [{"reference": "Practitioner/demo-clinician"}],
        "context": {
            "encounter": [{"reference": "Encounter/enc-new"}],
            "period": {"start": "2024-05-06T15:00:00Z", "end": "2024-05-06T15:30:00Z"},
        },
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "data": base64.b64encode(b"Peer-to-peer call: overturned.").decode(),
                }
            }
        ],
    }
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


@pytest.fixture
def writer(make_ehr: Callable[..., Flask]) -> Callable[..., tuple[FlaskClient, dict[str, str], Flask]]:
    """An EHR with the given profile, a client, and bearer headers of a launched note-writing token."""

    def build(profile: str = "us-core", scope: str | None = None) -> tuple[FlaskClient, dict[str, str], Flask]:
        app = make_ehr(profile=profile)
        flow = SmartFlow(app.test_client())
        token = flow.token(**({"scope": scope} if scope else {}))
        return flow.client, bearer(token["access_token"]), app

    return build


def _content(content_type: str, data: str | None = "UGVlcg==", n: int = 1) -> list[dict[str, Any]]:
    attachment = {"contentType": content_type, **({"data": data} if data is not None else {})}
    return [{"attachment": attachment}] * n


def test_create_returns_location_etag_and_the_resource(writer: Callable) -> None:
    client, headers, _ = writer()
    answer = client.post("/fhir/DocumentReference", json=note(), headers=headers)
    assert answer.status_code == 201
    created = answer.get_json()
    assert created["meta"]["versionId"] == "1" and created["meta"]["lastUpdated"].endswith("Z")
    assert answer.headers["Location"] == f"{FHIR}/DocumentReference/{created['id']}/_history/1"
    assert answer.headers["ETag"] == 'W/"1"'
    stored = client.get(f"/fhir/DocumentReference/{created['id']}", headers=bearer(INSPECTOR)).get_json()
    assert stored["content"] == note()["content"]
    assert (
        client.get(
            answer.headers["Location"].removeprefix("http://127.0.0.1:8401"), headers=bearer(INSPECTOR)
        ).status_code
        == 200
    )


def test_conditional_create_lands_once(writer: Callable) -> None:
    client, headers, app = writer()
    first = client.post("/fhir/DocumentReference", json=note(), headers={**headers, **IF_NONE_EXIST})
    second = client.post("/fhir/DocumentReference", json=note(), headers={**headers, **IF_NONE_EXIST})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert (
        len(
            app.extensions["demo_ehr"].store.search(
                "DocumentReference", identifier=IF_NONE_EXIST["If-None-Exist"].removeprefix("identifier=")
            )
        )
        == 1
    )


def test_concurrent_conditional_creates_land_once(writer: Callable) -> None:
    _, headers, app = writer()
    statuses: list[int] = []

    def post() -> None:
        answer = app.test_client().post("/fhir/DocumentReference", json=note(), headers={**headers, **IF_NONE_EXIST})
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 7 + [201]
    assert len(app.extensions["demo_ehr"].store.all("DocumentReference")) == 1


def test_prefer_return_minimal(writer: Callable) -> None:
    client, headers, _ = writer()
    answer = client.post("/fhir/DocumentReference", json=note(), headers={**headers, "Prefer": "return=minimal"})
    assert answer.status_code == 201 and answer.data == b"" and answer.headers["Location"]


def test_epic_has_no_conditional_create(writer: Callable) -> None:
    client, headers, app = writer("epic")
    for _ in range(2):
        assert (
            client.post("/fhir/DocumentReference", json=note(), headers={**headers, **IF_NONE_EXIST}).status_code == 201
        )
    assert len(app.extensions["demo_ehr"].store.all("DocumentReference")) == 2


def test_epic_keeps_only_the_first_attachment(writer: Callable) -> None:
    client, headers, _ = writer("epic")
    doc = note()
    doc["content"].append(copy.deepcopy(doc["content"][0]))
    representation = {**headers, "Prefer": "return=representation"}
    assert len(client.post("/fhir/DocumentReference", json=doc, headers=representation).get_json()["content"]) == 1


def test_epic_answers_an_empty_201_unless_asked_for_the_representation(writer: Callable) -> None:
    client, headers, _ = writer("epic")
    answer = client.post("/fhir/DocumentReference", json=note(), headers=headers)
    assert answer.status_code == 201 and answer.data == b"" and "/DocumentReference/" in answer.headers["Location"]


def test_oracle_health_keeps_only_its_create_fields(writer: Callable) -> None:
    """Oracle: "Unsupported fields will be ignored": identifier, category, relatesTo, description and date."""
    client, headers, app = writer("oracle-health")
    doc = note(relatesTo=[{"code": "replaces", "target": {"reference": "DocumentReference/x"}}], description="d")
    representation = {**headers, "Prefer": "return=representation"}
    assert client.post("/fhir/DocumentReference", json=doc, headers=representation).data == b""
    (stored,) = app.extensions["demo_ehr"].store.all("DocumentReference")
    assert not {"identifier", "category", "relatesTo", "description", "date"} & set(stored)
    assert stored["docStatus"] == "final" and stored["context"]["period"]["end"]


CODE_SET_72 = {"system": "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/72", "code": "2820507"}


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"type": {"coding": [CODE_SET_72]}}, 201),  # as in Oracle's own example
        ({"category": None}, 201),  # not a create field
        ({"type": {"coding": [CODE_SET_72, {"system": "http://loinc.org", "code": "34748-4"}]}}, 422),
        ({"content": [{"attachment": {"contentType": "text/plain;charset=utf-8", "url": "https://x/n.txt"}}]}, 422),
        ({"content": _content("text/markdown;charset=utf-8")}, 422),
        ({"content": _content("application/pdf")}, 201),
    ],
)
def test_oracle_health_type_and_content_rules(writer: Callable, changes: dict[str, Any], status: int) -> None:
    client, headers, _ = writer("oracle-health")
    answer = client.post("/fhir/DocumentReference", json=note(**changes), headers=headers)
    assert answer.status_code == status, answer.get_json()


def test_oracle_health_answers_201_with_an_empty_body(writer: Callable) -> None:
    client, headers, _ = writer("oracle-health")
    answer = client.post("/fhir/DocumentReference", json=note(), headers=headers)
    assert answer.status_code == 201 and answer.data == b""
    assert answer.headers["ETag"] == 'W/"1"' and "/DocumentReference/" in answer.headers["Location"]


def _context(**changes: Any) -> dict[str, Any]:
    return {**note()["context"], **changes}


@pytest.mark.parametrize(
    ("profile", "changes", "expression"),
    [
        ("us-core", {"resourceType": "Binary"}, "DocumentReference.resourceType"),
        ("us-core", {"status": "superseded"}, "DocumentReference.status"),
        ("us-core", {"type": None}, "DocumentReference.type"),
        ("us-core", {"type": {"text": "Note"}}, "DocumentReference.type"),
        ("us-core", {"category": None}, "DocumentReference.category"),
        ("us-core", {"category": []}, "DocumentReference.category"),
        ("us-core", {"subject": None}, "DocumentReference.subject"),
        ("us-core", {"subject": {"reference": "Patient/nobody"}}, "DocumentReference.subject"),
        ("us-core", {"content": None}, "DocumentReference.content"),
        (
            "us-core",
            {"content": [{"attachment": {"data": "UGVlcg=="}}]},
            "DocumentReference.content[0].attachment.contentType",
        ),
        (
            "us-core",
            {"content": _content("text/plain", data=None)},
            "DocumentReference.content[0].attachment",
        ),
        (
            "us-core",
            {"content": _content("text/plain", data="not base64!")},
            "DocumentReference.content[0].attachment.data",
        ),
        ("epic", {"context": _context(encounter=None)}, "DocumentReference.context.encounter"),
        (
            "epic",
            {"context": _context(encounter=[{"reference": "Encounter/enc-brooks"}])},
            "DocumentReference.context.encounter",
        ),
        ("epic", {"content": _content("text/html")}, "DocumentReference.content[0].attachment.contentType"),
        ("oracle-health", {"docStatus": None}, "DocumentReference.docStatus"),
        ("oracle-health", {"docStatus": "preliminary"}, "DocumentReference.docStatus"),
        (
            "oracle-health",
            {"context": _context(period={"start": "2024-05-06T15:00:00Z"})},
            "DocumentReference.context.period.end",
        ),
        (
            "oracle-health",
            {"content": _content("text/plain")},
            "DocumentReference.content[0].attachment.contentType",
        ),
        (
            "oracle-health",
            {"content": _content("text/plain;charset=utf-8", n=2)},
            "DocumentReference.content",
        ),
        ("oracle-health", {"author": None}, "DocumentReference.author"),
        (
            "oracle-health",
            {"author": [{"reference": "Practitioner/someone-else"}]},
            "DocumentReference.author",
        ),
        ("oracle-health", {"date": "2024-05-06"}, "DocumentReference.date"),
    ],
)
def test_profile_rules_answer_422_naming_the_element(
    writer: Callable, profile: str, changes: dict[str, Any], expression: str
) -> None:
    client, headers, app = writer(profile)
    answer = client.post("/fhir/DocumentReference", json=note(**changes), headers=headers)
    assert answer.status_code == 422, answer.get_json()
    issues = answer.get_json()["issue"]
    assert expression in [e for i in issues for e in i["expression"]]
    assert all(i["severity"] == "error" and i["details"]["text"] for i in issues)
    assert app.extensions["demo_ehr"].store.all("DocumentReference") == []


@pytest.mark.parametrize("profile", ["us-core", "epic", "oracle-health"])
def test_the_reference_note_passes_every_profile(writer: Callable, profile: str) -> None:
    client, headers, _ = writer(profile)
    assert client.post("/fhir/DocumentReference", json=note(), headers=headers).status_code == 201


def test_us_core_does_not_need_epic_or_oracle_elements(writer: Callable) -> None:
    client, headers, _ = writer()
    doc = note(docStatus=None, author=None, context=None, date="2024-05-06")
    assert client.post("/fhir/DocumentReference", json=doc, headers=headers).status_code == 201


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b""])
def test_malformed_json_is_400(writer: Callable, body: bytes) -> None:
    client, headers, _ = writer()
    answer = client.post(
        "/fhir/DocumentReference", data=body, headers={**headers, "Content-Type": "application/fhir+json"}
    )
    assert answer.status_code == 400 and answer.get_json()["resourceType"] == "OperationOutcome"


def test_writes_need_a_create_scope(writer: Callable, client: FlaskClient) -> None:
    assert client.post("/fhir/DocumentReference", json=note(), headers=bearer(INSPECTOR)).status_code == 403
    reader, headers, _ = writer(scope="launch patient/DocumentReference.rs")
    assert reader.post("/fhir/DocumentReference", json=note(), headers=headers).status_code == 403


def test_patient_token_cannot_write_to_another_chart(writer: Callable) -> None:
    client, headers, _ = writer()
    answer = client.post(
        "/fhir/DocumentReference", json=note(subject={"reference": "Patient/pat-brooks"}), headers=headers
    )
    assert answer.status_code == 403


def test_filtered_scope_allows_only_matching_notes(writer: Callable) -> None:
    client, headers, _ = writer(scope=f"launch user/DocumentReference.c?category={CLINICAL_NOTE}")
    assert client.post("/fhir/DocumentReference", json=note(), headers=headers).status_code == 201
    other = note(category=[{"coding": [{"system": "http://loinc.org", "code": "LP173421-1"}]}])
    assert client.post("/fhir/DocumentReference", json=other, headers=headers).status_code == 403


def test_only_document_references_are_writable(writer: Callable) -> None:
    client, headers, _ = writer(scope="launch patient/*.write")
    condition = {"resourceType": "Condition", "subject": {"reference": "Patient/pat-alvarez"}}
    assert client.post("/fhir/Condition", json=condition, headers=headers).status_code == 405


def test_backend_services_token_writes_for_any_patient(
    make_ehr: Callable[..., Flask], backend_keys: dict[str, Key]
) -> None:
    client = make_ehr(profile="oracle-health").test_client()
    form = {
        "grant_type": "client_credentials",
        "scope": "system/DocumentReference.c",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(backend_keys["RS384"], "RS384"),
    }
    headers = bearer(client.post("/oauth/token", data=form).get_json()["access_token"])
    answer = client.post("/fhir/DocumentReference", json=note(docStatus="amended"), headers=headers)
    assert answer.status_code == 201
    # "Optional for system access": a system write may name no author.
    assert client.post("/fhir/DocumentReference", json=note(author=None), headers=headers).status_code == 201


def test_fault_injection(writer: Callable) -> None:
    client, headers, app = writer()
    faults = app.extensions["demo_ehr"].faults
    faults.fail_next_writes(503, times=2, retry_after=7)
    for _ in range(2):
        answer = client.post("/fhir/DocumentReference", json=note(), headers=headers)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "7"
        assert answer.get_json()["resourceType"] == "OperationOutcome"
    faults.fail_next_writes(429)
    answer = client.post("/fhir/DocumentReference", json=note(), headers=headers)
    assert answer.status_code == 429 and "Retry-After" not in answer.headers
    assert client.post("/fhir/DocumentReference", json=note(), headers=headers).status_code == 201
    assert len(app.extensions["demo_ehr"].store.all("DocumentReference")) == 1
    with pytest.raises(ValueError):
        faults.fail_next_writes(200)
