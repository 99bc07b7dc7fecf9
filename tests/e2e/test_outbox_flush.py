"""``outbox flush``: notes saved locally reach the EHR exactly once through SMART Backend Services, even when the
EHR fails one write in three; a refusal that will never succeed is parked. Real demo EHR on loopback."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from joserfc.jwk import RSAKey

from smart_app.cli import main
from smart_app.config import load_settings
from smart_app.fhir.outbox_writer import backend_writer
from smart_app.fhir.writeback import IDENTIFIER_SYSTEM, build_document_reference
from smart_app.outcome.outbox import FlushReport, flush, outbox_rows, save_note
from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import RunningServer, bind, wait_until_ready
from smart_app.smart.backend import BackendAuth
from smart_app.smart.client_auth import public_jwks
from smart_app.store.db import Database
from smart_app.store.models import CallNote

KEY = RSAKey.generate_key(2048)
KEY.ensure_kid()
INSPECTOR = "outbox-inspector"


@pytest.fixture(scope="module")
def ehr() -> Iterator[tuple[RunningServer, Any]]:
    server = bind()
    client = RegisteredClient(
        "p2p-backend", [f"{server.url}/cb"], f"{server.url}/launch", "private_key_jwt", jwks=public_jwks(KEY, "RS384")
    )
    app = create_ehr_app(EhrSettings(base_url=server.url, clients=[client], inspector_token=INSPECTOR))
    server.mount(app)
    wait_until_ready(f"{server.url}/fhir/.well-known/smart-configuration")
    yield server, app
    server.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    """A fresh outbox database, migrated to head; tests that 'restart' open it again by this URL."""
    path = f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
    Database(path).upgrade()
    return path


def _flush(db: Database, auth: BackendAuth, **overrides: Any) -> FlushReport:
    settings = load_settings(overrides)
    return flush(db, lambda iss: backend_writer(iss, auth, settings), ignore_backoff=True)


def _save(db: Database, iss: str, count: int) -> list[str]:
    now = datetime.now(UTC)
    ids = []
    for i in range(count):
        note_id = str(uuid.uuid4())
        resource = build_document_reference(
            note_id=note_id,
            patient_id="pat-lumbar-mri",
            note_text=f"Call note {i}",
            written_at=now,
            call_start=now,
            call_end=now,
            claim_ref="Claim/claim-lumbar-mri-1",
            claim_response_ref="ClaimResponse/cr-lumbar-mri-1",
        )
        save_note(db, note_id=note_id, iss=iss, patient_id="pat-lumbar-mri", claim_response_id="cr-lumbar-mri-1",
                  form={}, note_text=f"Call note {i}", resources=[resource])  # fmt: skip
        ids.append(note_id)
    return ids


def _landed(server: RunningServer) -> Counter[str]:
    found: Counter[str] = Counter()
    url: str | None = f"{server.url}/fhir/DocumentReference?patient=pat-lumbar-mri&_count=500"
    while url:
        page = requests.get(url, headers={"Authorization": f"Bearer {INSPECTOR}"}, timeout=30).json()
        for entry in page.get("entry", []):
            for identifier in entry["resource"].get("identifier", []):
                if identifier.get("system") == IDENTIFIER_SYSTEM:
                    found[identifier["value"]] += 1
        url = next((link["url"] for link in page.get("link", []) if link["relation"] == "next"), None)
    return found


def test_a_thousand_notes_land_once_through_an_ehr_failing_one_write_in_three(
    ehr: tuple[RunningServer, Any], db_path: str
) -> None:
    server, app = ehr
    iss = f"{server.url}/fhir"
    db = Database(db_path)
    ids = _save(db, iss, 1000)
    app.extensions["demo_ehr"].faults.fail_every(3, 500)
    auth = BackendAuth("p2p-backend", KEY, "RS384")
    rounds = []
    for _ in range(12):
        report = _flush(db, auth, FHIR_MAX_RETRIES=0)
        rounds.append((report.written, report.pending, report.parked))
        if report.pending == 0:
            break
    app.extensions["demo_ehr"].faults.clear()
    landed = _landed(server)
    ours = {f"urn:uuid:{i}" for i in ids}
    assert sum(w for w, _, _ in rounds) == 1000, rounds
    assert set(landed) >= ours  # none lost
    assert all(landed[i] == 1 for i in ours)  # none duplicated
    assert outbox_rows(db) == []
    print(f"\nflush rounds (written, pending, parked): {rounds}")  # noqa: T201 - the figures for the issue note


def test_a_note_the_ehr_rejects_for_good_is_parked_with_the_reason(
    ehr: tuple[RunningServer, Any], db_path: str
) -> None:
    server, app = ehr
    iss = f"{server.url}/fhir"
    db = Database(db_path)
    (note_id,) = _save(db, iss, 1)
    app.extensions["demo_ehr"].faults.fail_next_writes(422, times=5)
    auth = BackendAuth("p2p-backend", KEY, "RS384")
    report = _flush(db, auth)
    app.extensions["demo_ehr"].faults.clear()
    assert (report.written, report.parked) == (0, 1)
    (row,) = outbox_rows(db)
    assert row["id"] == note_id and row["status"] == "parked"
    assert row["error"] == "The EHR answered HTTP 422: error: The EHR could not take the write (injected failure)"


def test_a_note_saved_before_a_crash_is_sent_once_after_restart(ehr: tuple[RunningServer, Any], db_path: str) -> None:
    """Killed between the local save and the write, or after the write but before marking it written."""
    server, _ = ehr
    iss = f"{server.url}/fhir"
    db = Database(db_path)
    unsent, already_sent = _save(db, iss, 2)
    with db.session() as session:  # the second one reached the EHR just before the crash
        row = session.get(CallNote, already_sent)
        assert row is not None
        (resource,) = json.loads(row.resource_json)
    auth = BackendAuth("p2p-backend", KEY, "RS384")
    sent = requests.post(
        f"{iss}/DocumentReference", json=resource, headers={"Authorization": f"Bearer {auth.token(iss)}"}, timeout=30
    )
    assert sent.status_code == 201
    restarted = Database(db_path)  # a new process
    report = _flush(restarted, auth)
    assert report.written == 2 and outbox_rows(restarted) == []
    landed = _landed(server)
    assert landed[f"urn:uuid:{unsent}"] == 1 and landed[f"urn:uuid:{already_sent}"] == 1


def test_a_401_mid_flow_fetches_a_new_token_and_the_note_lands(ehr: tuple[RunningServer, Any], db_path: str) -> None:
    server, app = ehr
    iss = f"{server.url}/fhir"
    db = Database(db_path)
    (note_id,) = _save(db, iss, 1)
    auth = BackendAuth("p2p-backend", KEY, "RS384")
    first_token = auth.token(iss)
    app.extensions["demo_ehr"].faults.fail_next_writes(401)
    first = _flush(db, auth, FHIR_MAX_RETRIES=0)
    assert (first.written, first.pending) == (0, 1)
    assert auth.token(iss) != first_token  # the rejected token was dropped
    second = _flush(db, auth)
    assert second.written == 1 and _landed(server)[f"urn:uuid:{note_id}"] == 1


def test_an_ehr_that_is_down_keeps_the_note_pending_with_the_reason(db_path: str) -> None:
    down = bind()  # a port nobody answers on once stopped
    iss = f"{down.url}/fhir"
    down.stop()
    db = Database(db_path)
    (note_id,) = _save(db, iss, 1)
    report = _flush(db, BackendAuth("p2p-backend", KEY, "RS384"), FHIR_TIMEOUT=2, FHIR_MAX_RETRIES=0)
    assert (report.written, report.pending, report.parked) == (0, 1, 0)
    (row,) = outbox_rows(db)
    assert row["id"] == note_id and row["status"] == "pending" and row["error"]


def test_a_429_with_retry_after_is_waited_out_and_the_note_lands_once(
    ehr: tuple[RunningServer, Any], db_path: str
) -> None:
    server, app = ehr
    iss = f"{server.url}/fhir"
    db = Database(db_path)
    (note_id,) = _save(db, iss, 1)
    app.extensions["demo_ehr"].faults.fail_next_writes(429, times=1, retry_after=1)
    report = _flush(db, BackendAuth("p2p-backend", KEY, "RS384"), FHIR_MAX_RETRIES=2)
    assert report.written == 1
    assert _landed(server)[f"urn:uuid:{note_id}"] == 1


def test_a_429_past_the_retries_stays_pending_then_lands(ehr: tuple[RunningServer, Any], db_path: str) -> None:
    server, app = ehr
    iss = f"{server.url}/fhir"
    db = Database(db_path)
    (note_id,) = _save(db, iss, 1)
    auth = BackendAuth("p2p-backend", KEY, "RS384")
    app.extensions["demo_ehr"].faults.fail_next_writes(429, times=1, retry_after=30)
    first = _flush(db, auth, FHIR_MAX_RETRIES=0)
    (row,) = outbox_rows(db)
    assert first.pending == 1 and "429" in row["error"]
    assert _flush(db, auth).written == 1
    assert _landed(server)[f"urn:uuid:{note_id}"] == 1


def test_a_token_endpoint_that_refuses_the_app_is_one_line_a_failed_exit_and_the_reason_on_each_note(
    ehr: tuple[RunningServer, Any], db_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """`p2p-brief outbox flush` signs its assertion with a key the EHR does not know: the token endpoint answers
    invalid_client. Before: Authlib's OAuthError escaped as a traceback and the note stayed leased for two minutes."""
    server, _ = ehr
    iss = f"{server.url}/fhir"
    db = Database(db_path)
    ids = _save(db, iss, 2)
    unknown_key = tmp_path / "not-registered.pem"
    unknown_key.write_bytes(RSAKey.generate_key(2048).as_pem(private=True))
    for name, value in {"DATABASE_URL": db_path, "BACKEND_CLIENT_ID": "p2p-backend",
                        "BACKEND_KEY_FILE": str(unknown_key)}.items():  # fmt: skip
        monkeypatch.setenv(f"P2P_{name}", value)
    code = main(["outbox", "flush", "--now"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    own = [line for line in err.splitlines() if "werkzeug" not in line]  # the in-process demo EHR logs its requests
    assert len(own) == 1, err
    assert own[0].startswith(f"p2p-brief: outbox flush: {iss}: The EHR refused the app's backend token request: ")
    assert "invalid_client" in own[0]
    assert sum('"POST /oauth/token"' in line for line in err.splitlines()) <= 2  # not one token request per note
    with db.session() as session:
        notes = [session.get(CallNote, note_id) for note_id in ids]
    for note in notes:
        assert note is not None and note.status == "pending"
        assert note.claimed_by is None and note.claimed_until is None  # no lease left behind
        assert note.last_error and "refused the app's backend token request" in note.last_error
    assert _landed(server)[f"urn:uuid:{ids[0]}"] == 0


def test_an_ehr_that_cannot_be_reached_is_one_line_and_a_failed_exit(
    db_path: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    down = bind()
    iss = f"{down.url}/fhir"
    down.stop()
    db = Database(db_path)
    ids = _save(db, iss, 2)
    key = Path(db_path.removeprefix("sqlite:///")).with_name("key.pem")
    key.write_bytes(KEY.as_pem(private=True))
    for name, value in {"DATABASE_URL": db_path, "BACKEND_CLIENT_ID": "p2p-backend", "BACKEND_KEY_FILE": str(key),
                        "FHIR_TIMEOUT": "2", "FHIR_MAX_RETRIES": "0"}.items():  # fmt: skip
        monkeypatch.setenv(f"P2P_{name}", value)
    code = main(["outbox", "flush", "--now"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"p2p-brief: outbox flush: {iss}: ") and "could not reach" in line
    for row in outbox_rows(db):
        assert row["status"] == "pending" and row["error"]
    with db.session() as session:
        assert all(session.get(CallNote, i).claimed_by is None for i in ids)  # type: ignore[union-attr]
