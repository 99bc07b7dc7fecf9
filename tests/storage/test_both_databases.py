"""The storage the app relies on, run on SQLite and on a real PostgreSQL server (``make test`` starts Debian's
PostgreSQL and sets ``P2P_TEST_POSTGRES_URL``): migrations both ways, one case per denial under concurrent
writers, two outbox flushers writing every note once, sync checkpoints, and the web app's sessions."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from smart_app.outcome.outbox import flush, note_for_key, outbox_rows, save_note
from smart_app.store.audit import audit_rows, audit_users, record_event
from smart_app.store.cases import (
    CaseSnapshot,
    assign,
    case_row,
    cases_for,
    close,
    record_case,
    record_cases,
    unattributed_count,
)
from smart_app.store.db import Database, alembic_config
from smart_app.store.hand_entries import hand_entries_for, save_hand_entry
from smart_app.store.sync_progress import SyncProgress, load_progress, save_progress
from smart_app.web import create_app

POSTGRES = os.environ.get("P2P_TEST_POSTGRES_URL")


OPENED: list[Database] = []


def _open(url: str) -> Database:
    """A Database for this test, closed when the test ends (a pooled PostgreSQL connection left open warns)."""
    OPENED.append(Database(url))
    return OPENED[-1]


@pytest.fixture(autouse=True)
def _close_databases() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    if not POSTGRES:
        pytest.skip("P2P_TEST_POSTGRES_URL is not set: `make test` starts PostgreSQL and sets it")
    engine = create_engine(POSTGRES)
    with engine.begin() as connection:  # a clean schema for each test
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield POSTGRES


def test_migrations_run_up_down_and_up_again(url: str) -> None:
    db = _open(url)
    db.upgrade()
    config = alembic_config(url)
    with db.engine.begin() as connection:  # on the Database's own pool, which the test closes
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        command.upgrade(config, "head")
    with db.engine.connect() as connection:
        version = connection.execute(text("select version_num from alembic_version")).scalar()
    assert version == "0014"


def test_concurrent_sightings_of_one_denial_leave_one_case(url: str) -> None:
    db = _open(url)
    db.upgrade()
    errors: list[Exception] = []

    def see() -> None:
        try:
            record_case(_open(url), tenant="https://ehr/fhir", patient_id="p1", denial_id="cr-1",
                        summary={"payer": "Aetna"}, deadline=None, status="new", source="sync")  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=see) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cases_for(db, "https://ehr/fhir")) == 1


def test_a_user_sees_only_their_practices_cases_within_one_ehr(url: str) -> None:
    db = _open(url)
    db.upgrade()
    tenant = "https://ehr/fhir"
    ids = {}
    for patient, org in (("p1", "Organization/a"), ("p2", "Organization/b"), ("p3", None)):
        ids[patient], _ = record_case(db, tenant=tenant, patient_id=patient, denial_id="cr-1", summary={},
                                      deadline=None, status="new", source="sync", organization=org)  # fmt: skip
    record_case(db, tenant="https://other/fhir", patient_id="p9", denial_id="cr-1", summary={}, deadline=None,
                status="new", source="sync", organization="Organization/a")  # fmt: skip
    # A later read that names no practice (a lighter read) never erases the one on file.
    record_case(db, tenant=tenant, patient_id="p1", denial_id="cr-1", summary={}, deadline=None, status="new",
                source="launch")  # fmt: skip
    mine = {"Organization/a"}
    assert [r.patient_id for r in cases_for(db, tenant, mine)] == ["p1"]
    assert sorted(r.patient_id for r in cases_for(db, tenant, {"Organization/a", "Organization/b"})) == ["p1", "p2"]
    assert cases_for(db, tenant, set()) == []
    assert case_row(db, tenant, ids["p2"], mine) is None and case_row(db, tenant, ids["p1"], mine) is not None
    assert not assign(db, tenant, ids["p2"], "Maria", mine) and not close(db, tenant, ids["p2"], mine)
    assert assign(db, tenant, ids["p1"], "Maria", mine)
    assert unattributed_count(db, tenant) == 1  # p3: on nobody's worklist, counted
    (other,) = cases_for(db, tenant, {"Organization/b"})
    assert other.status == "new" and other.assignee == ""
    # A guess (the practice of the user who typed a denial) fills a gap but never moves a case between practices.
    record_case(db, tenant=tenant, patient_id="p1", denial_id="cr-1", summary={}, deadline=None, status="new",
                source="hand", organization_if_unknown="Organization/b")  # fmt: skip
    record_case(db, tenant=tenant, patient_id="p3", denial_id="cr-1", summary={}, deadline=None, status="new",
                source="hand", organization_if_unknown="Organization/b")  # fmt: skip
    assert [r.patient_id for r in cases_for(db, tenant, {"Organization/a"})] == ["p1"]
    assert sorted(r.patient_id for r in cases_for(db, tenant, {"Organization/b"})) == ["p2", "p3"]


def test_two_flushers_at_once_write_every_note_exactly_once(url: str) -> None:
    db = _open(url)
    db.upgrade()
    ids = [str(uuid.uuid4()) for _ in range(60)]
    for note_id in ids:
        save_note(db, note_id=note_id, iss="https://ehr/fhir", patient_id="p", claim_response_id="c", form={},
                  note_text="t", resources=[{"resourceType": "DocumentReference", "n": note_id}])  # fmt: skip
    writes: Counter[str] = Counter()
    lock = threading.Lock()

    def writer(_: str) -> Any:
        def write(resource: dict[str, Any]) -> str:
            time.sleep(0.005)  # a network write: long enough for the two flushers to overlap
            with lock:
                writes[resource["n"]] += 1
            return f"DocumentReference/{resource['n']}"

        return write

    reports = []

    def run() -> None:
        reports.append(flush(_open(url), writer, ignore_backoff=True))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.written for r in reports) == 60
    assert set(writes) == set(ids) and max(writes.values()) == 1  # none lost, none written twice
    assert outbox_rows(db) == []


def test_one_form_key_stores_one_note_and_one_hand_entry_even_submitted_at_once(url: str) -> None:
    db = _open(url)
    db.upgrade()
    entries: list[tuple[int, bool]] = []

    def enter() -> None:
        entries.append(save_hand_entry(_open(url), iss="https://ehr/fhir", patient_id="p", fields={"payer": "Aetna"},
                                       entered_by=None, form_key="k" * 22))  # fmt: skip

    threads = [threading.Thread(target=enter) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({entry_id for entry_id, _ in entries}) == 1 and sum(created for _, created in entries) == 1
    assert len(hand_entries_for(db, iss="https://ehr/fhir", patient_id="p")) == 1
    # Another patient's form may carry the same key: keys are the patient's own.
    assert save_hand_entry(db, iss="https://ehr/fhir", patient_id="q", fields={}, entered_by=None,
                           form_key="k" * 22)[1]  # fmt: skip

    note = {"iss": "https://ehr/fhir", "patient_id": "p", "claim_response_id": "c", "form": {}, "note_text": "t",
            "resources": [{"resourceType": "DocumentReference"}], "form_key": "n" * 22}  # fmt: skip
    save_note(db, note_id=str(uuid.uuid4()), **note)
    with pytest.raises(IntegrityError):
        save_note(db, note_id=str(uuid.uuid4()), **note)
    found = note_for_key(db, iss="https://ehr/fhir", patient_id="p", form_key="n" * 22)
    assert found is not None and outbox_rows(db)[0]["id"] == found.id and len(outbox_rows(db)) == 1


def test_sync_checkpoint_round_trip(url: str) -> None:
    db = _open(url)
    db.upgrade()
    iss = "https://ehr/fhir"
    assert load_progress(db, iss) == SyncProgress()
    save_progress(db, iss, SyncProgress("2026-11-23T12:00:00.000Z", {"b", "a"}))
    assert load_progress(db, iss) == SyncProgress("2026-11-23T12:00:00.000Z", {"a", "b"})
    export = {"status_url": "https://ehr/fhir/bulk-status/x", "file": 2, "lines": 400}
    save_progress(db, iss, SyncProgress("2026-11-23T12:00:01.000Z", set(), export))
    assert load_progress(db, iss) == SyncProgress("2026-11-23T12:00:01.000Z", set(), export)


def test_each_answer_type_keeps_its_own_checkpoint_and_an_old_one_becomes_the_claim_responses(url: str) -> None:
    """Sync reads PDex EOBs beside ClaimResponses: one type's mark never moves the other's, and the position an
    older version saved (one per EHR, table ``sync_state``) is kept as the ClaimResponse position."""
    db = _open(url)
    config = alembic_config(url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")
        connection.execute(
            text(
                "insert into sync_state (iss, high_water, ids_at_mark_json, export_json, updated_at) "
                "values ('https://ehr/fhir', '2026-11-01T00:00:00Z', '[\"a\"]', null, '2026-11-01 00:00:00+00')"
            )
        )
        command.upgrade(config, "head")
    iss = "https://ehr/fhir"
    assert load_progress(db, iss) == SyncProgress("2026-11-01T00:00:00Z", {"a"})
    assert load_progress(db, iss, "ExplanationOfBenefit") == SyncProgress()
    save_progress(db, iss, SyncProgress("2026-12-01T00:00:00Z"), "ExplanationOfBenefit")
    assert load_progress(db, iss) == SyncProgress("2026-11-01T00:00:00Z", {"a"})
    assert load_progress(db, iss, "ExplanationOfBenefit").high_water == "2026-12-01T00:00:00Z"


def test_the_web_app_keeps_its_sessions_in_the_database(url: str) -> None:
    app = create_app({"DATABASE_URL": url, "ALLOWED_ISS": ["https://ehr.example/fhir"], "INSECURE_COOKIES": True})
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 200 and json.loads(health.data) == {"status": "ok", "outbox": 0}
    refused = client.get("/launch?iss=https://elsewhere.example/fhir")
    assert refused.status_code == 403  # an unlisted EHR is refused, and the page renders on this database
    OPENED.append(app.extensions["p2p_db"])
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def test_the_audit_log_filters_before_it_cuts_and_shows_only_the_viewers_practices(url: str) -> None:
    db = _open(url)
    db.upgrade()
    tenant = "https://ehr/fhir"
    for patient, org in (("p1", "Organization/a"), ("p2", "Organization/b")):
        record_case(db, tenant=tenant, patient_id=patient, denial_id="cr-1", summary={}, deadline=None,
                    status="new", source="sync", organization=org)  # fmt: skip
    record_event(db, tenant=tenant, user="Practitioner/x", action="brief.opened", patient_id="p1", resource="old")
    for n in range(5):
        record_event(db, tenant=tenant, user="Practitioner/y", action="brief.pdf", patient_id="p1", resource=f"r{n}")
    record_event(db, tenant=tenant, user="Practitioner/z", action="brief.opened", patient_id="p2", resource="b")
    mine = {"Organization/a"}
    newest = audit_rows(db, tenant, organizations=mine, user="Practitioner/y", limit=3)
    assert [r.resource for r in newest] == ["r4", "r3", "r2"]  # newest first; p2 (practice b) never shown
    found = audit_rows(db, tenant, organizations=mine, user="Practitioner/y", by_user="Practitioner/x", limit=3)
    assert [r.resource for r in found] == ["old"]  # the filter reaches past the newest three
    assert audit_users(db, tenant, organizations=mine, user="Practitioner/y") == ["Practitioner/x", "Practitioner/y"]


def test_a_page_recorded_at_once_ends_as_one_by_one_would(url: str) -> None:
    db = _open(url)
    db.upgrade()
    tenant = "https://ehr/fhir"
    record_case(db, tenant=tenant, patient_id="p1", denial_id="cr-old", summary={"claim": "Claim/c1"},
                deadline=None, status="new", source="launch", organization="Organization/a")  # fmt: skip
    page = [
        CaseSnapshot("p1", "cr-mid", {"claim": "Claim/c1", "payer": "Aetna"}, None, "new", "Organization/a"),
        CaseSnapshot("p1", "cr-new", {"claim": "Claim/c1", "payer": "Aetna"}, None, "new", "Organization/a"),
        CaseSnapshot("p2", "cr-9", {"claim": "Claim/c9"}, None, "new", None, "Organization/b"),
        CaseSnapshot("p1", "cr-old", {"payer": "Aetna"}, None, "new", None, "Organization/z"),
    ]
    assert [new for _, new in record_cases(db, tenant=tenant, cases=page, source="sync")] == [True, True, True, False]
    rows = {r.denial_id: r for r in cases_for(db, tenant)}
    # The newest answer to Claim/c1 is the one to work, as if the page were recorded one denial at a time.
    assert {k: r.status for k, r in rows.items()} == {"cr-old": "closed", "cr-mid": "closed", "cr-new": "new",
                                                      "cr-9": "new"}  # fmt: skip
    assert {r.denial_id for r in cases_for(db, tenant, {"Organization/a"})} == {"cr-old", "cr-mid", "cr-new"}
    assert [r.denial_id for r in cases_for(db, tenant, {"Organization/b"})] == ["cr-9"]  # a guess fills a gap only
    assert rows["cr-old"].payer == "Aetna"


def test_a_letter_keeps_its_file_whatever_its_name(url: str) -> None:
    from smart_app.store.letters import letter, letter_file, refuse_letter, save_letter

    db = _open(url)
    db.upgrade()
    content = bytes(range(256)) * 20_000  # 5 MB with every byte value, as a scan's bytes are
    names = {"a\x00b<script>.pdf": "ab<script>.pdf", "x" * 300 + ".pdf": "x" * 251 + ".pdf"}
    for sent, kept in names.items():
        letter_id, created = save_letter(db, iss="https://ehr", patient_id="p1", practice=None, uploaded_by="u",
                                         filename=sent, media_type="application/pdf", content=content)  # fmt: skip
        stored = letter(db, iss="https://ehr", patient_id="p1", letter_id=letter_id)
        assert created and stored is not None and stored.filename == kept
        assert letter_file(db, iss="https://ehr", patient_id="p1", letter_id=letter_id) == content
    assert letter(db, iss="https://ehr", patient_id="p2", letter_id=letter_id) is None  # another patient's id
    refuse_letter(db, iss="https://ehr", patient_id="p1", letter_id=letter_id, reason="r")  # not read: no change
    assert letter(db, iss="https://ehr", patient_id="p1", letter_id=letter_id).status == "received"  # type: ignore[union-attr]


def test_two_syncs_keeping_one_payer_answer_at_once_keep_one(url: str) -> None:
    from smart_app.store.payer_answers import payer_answers_for, save_payer_answer

    db = _open(url)
    db.upgrade()
    failures: list[BaseException] = []
    start = threading.Barrier(6)

    def keep(n: int) -> None:
        start.wait()
        try:
            save_payer_answer(_open(url), tenant="https://ehr/fhir", patient_id="p", denial_id="eob-1", payer="uhc",
                              resources=[{"resourceType": "ExplanationOfBenefit", "id": "1", "n": n}])  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 (the failure is the finding)
            failures.append(exc)

    threads = [threading.Thread(target=keep, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    kept = payer_answers_for(db, tenant="https://ehr/fhir", patient_id="p")
    assert list(kept) == ["eob-1"] and kept["eob-1"][0]["id"] == "1"
