"""The Bulk Data client: it waits as the server asks, reads files as streams, never sends the token to another
origin, and says what went wrong."""

from __future__ import annotations

import pytest
import responses

from smart_app.errors import FhirReadError
from smart_app.fhir.bulk import ExportGone, export_lines, offers_export, start_export, wait_for_manifest
from smart_app.fhir.client import FhirClient

BASE = "https://ehr.example/fhir"
STATUS = f"{BASE}/bulk-status/j1"
MANIFEST = {"transactionTime": "2026-11-23T12:00:00Z", "request": f"{BASE}/$export", "requiresAccessToken": True,
            "output": [{"type": "ClaimResponse", "url": f"{BASE}/files/1"}], "error": []}  # fmt: skip


def _client() -> FhirClient:
    return FhirClient(BASE, "secret-token", max_retries=0)


@pytest.mark.parametrize(
    ("statement", "offered"),
    [
        ({"instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"]}, True),
        ({"rest": [{"operation": [{"name": "export", "definition": "x"}]}]}, True),
        ({"rest": [{"operation": [{"name": "everything"}]}]}, False),
        ({}, False),
    ],
)
def test_export_is_used_only_where_the_server_declares_it(statement: dict, offered: bool) -> None:
    assert offers_export(statement) is offered


@responses.activate
def test_kick_off_asks_asynchronously_for_ndjson_since_the_mark() -> None:
    responses.get(f"{BASE}/$export", status=202, headers={"Content-Location": STATUS})
    assert start_export(_client(), ["ClaimResponse"], "2026-11-20T00:00:00Z") == STATUS
    sent = responses.calls[0].request
    assert sent.headers["Prefer"] == "respond-async" and sent.headers["Accept"] == "application/fhir+json"
    assert "_since=2026-11-20T00%3A00%3A00Z" in sent.url and "_type=ClaimResponse" in sent.url


@responses.activate
def test_a_refused_kick_off_names_the_servers_reason() -> None:
    responses.get(f"{BASE}/$export", status=400, json={"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "invalid", "diagnostics": "_since is in the future"}]})  # fmt: skip
    with pytest.raises(FhirReadError, match="_since is in the future"):
        start_export(_client(), ["ClaimResponse"], None)


@responses.activate
def test_polling_waits_as_retry_after_says_capped_at_a_minute() -> None:
    responses.get(STATUS, status=202, headers={"Retry-After": "3"})
    responses.get(STATUS, status=202, headers={"Retry-After": "7200"})
    responses.get(STATUS, status=202)  # no Retry-After: the default
    responses.get(STATUS, json=MANIFEST)
    slept: list[float] = []
    assert wait_for_manifest(_client(), STATUS, sleep=slept.append) == MANIFEST
    assert slept == [3.0, 60.0, 2.0]


@responses.activate
def test_an_export_that_takes_too_long_stops_with_a_reason() -> None:
    responses.get(STATUS, status=202, headers={"Retry-After": "30"})
    with pytest.raises(FhirReadError, match="not ready after 45 s"):
        wait_for_manifest(_client(), STATUS, patience=45, sleep=lambda _: None)


@responses.activate
def test_a_status_url_the_server_dropped_is_gone_and_a_bad_manifest_is_refused() -> None:
    responses.get(STATUS, status=404)
    with pytest.raises(ExportGone):
        wait_for_manifest(_client(), STATUS, sleep=lambda _: None)
    responses.replace(responses.GET, STATUS, json={"output": []})  # no transactionTime
    with pytest.raises(FhirReadError, match="no transactionTime"):
        wait_for_manifest(_client(), STATUS, sleep=lambda _: None)


@responses.activate
def test_files_are_read_line_by_line_and_bad_lines_are_marked() -> None:
    body = '{"resourceType":"ClaimResponse","id":"a"}\n\nnot json\n[1,2]\n{"resourceType":"ClaimResponse","id":"b"}\n'
    responses.get(f"{BASE}/files/1", body=body, content_type="application/fhir+ndjson")
    lines = list(export_lines(_client(), f"{BASE}/files/1", requires_token=True))
    assert [r["id"] if r else None for r in lines] == ["a", None, None, "b"]
    assert responses.calls[0].request.headers["Authorization"] == "Bearer secret-token"


def test_the_token_never_goes_to_another_origin() -> None:
    with responses.RequestsMock() as mocked, pytest.raises(FhirReadError, match="token is not sent there"):
        list(export_lines(_client(), "https://files.elsewhere.example/1", requires_token=True))
    assert len(mocked.calls) == 0


@responses.activate
def test_a_file_that_needs_no_token_is_fetched_without_one() -> None:
    responses.get("https://files.elsewhere.example/1", body='{"resourceType":"ClaimResponse","id":"a"}\n')
    (line,) = export_lines(_client(), "https://files.elsewhere.example/1", requires_token=False)
    assert line == {"resourceType": "ClaimResponse", "id": "a"}
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_an_export_file_line_past_the_cap_is_abandoned_not_held_in_memory() -> None:
    """A file with no newline (one 3 MB "line") under a 1 MB cap: an error naming the cap, where iter_lines held
    the whole file in memory and went on."""
    responses.get(f"{BASE}/files/1", body=b'{"resourceType": "ClaimResponse", "x": "' + b"a" * 3_000_000)
    client = FhirClient(BASE, "secret-token", max_retries=0, max_response_bytes=1024 * 1024)
    with pytest.raises(FhirReadError, match="a line over 1 MB; abandoned"):
        list(export_lines(client, f"{BASE}/files/1", requires_token=True))


@responses.activate
def test_export_lines_are_read_one_by_one_however_the_chunks_fall() -> None:
    body = b"\n".join(b'{"resourceType": "ClaimResponse", "id": "%d"}' % n for n in range(3000)) + b"\nnot json\n"
    responses.get(f"{BASE}/files/1", body=body)
    read = list(export_lines(_client(), f"{BASE}/files/1", requires_token=True))
    assert [r["id"] for r in read[:-1] if r] == [str(n) for n in range(3000)] and read[-1] is None
