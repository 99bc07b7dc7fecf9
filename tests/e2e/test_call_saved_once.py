"""Nothing typed is lost, nothing is written twice: a call recorded while the EHR is down is saved and lands once it
is back; the same form submitted twice (Back, then submit again) records one note or one hand-entered denial; a page
view and an `outbox flush` at the same moment write a note once. Real app and demo EHR on loopback, no browser."""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
from joserfc.jwk import RSAKey
from pairs import Pair, start_pair
from sqlalchemy import text

from smart_app.config import load_settings
from smart_app.errors import TokenError
from smart_app.fhir.outbox_writer import backend_writer
from smart_app.fhir.writeback import IDENTIFIER_SYSTEM
from smart_app.outcome.outbox import flush
from smart_app.sandbox import RegisteredClient
from smart_app.smart.backend import BackendAuth
from smart_app.smart.client_auth import public_jwks
from smart_app.store.db import Database
from smart_app.store.models import CallNote, HandEnteredDenial

PATIENT, DENIAL = "pat-lumbar-mri", "cr-lumbar-mri-1"
CALL = {
    "call_date": "2026-11-23", "start_time": "10:05", "end_time": "10:19", "reviewer_name": "Dr. Dana Whitfield",
    "disposition": "upheld", "notes": "Reviewer wants the PT discharge summary.",
}  # fmt: skip
BACKEND_KEY = RSAKey.generate_key(2048)
BACKEND_KEY.ensure_kid()


@dataclass
class Tab:
    browser: requests.Session
    ctx: str
    csrf: str
    form_key: str


def _launch(pair: Pair, patient: str = PATIENT) -> Tab:
    browser = requests.Session()
    listing = browser.get(f"{pair.ehr.url}/launch?patient={patient}", timeout=30)
    ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", listing.url)
    assert ctx, listing.url
    tab = Tab(browser, ctx.group(1), "", "")
    return _case_form(pair, tab) if patient == PATIENT else tab


def _case_form(pair: Pair, tab: Tab) -> Tab:
    """The case page's call form, freshly rendered: its CSRF token and its one-time key."""
    page = tab.browser.get(f"{pair.app.url}/case/{DENIAL}", params={"ctx": tab.ctx}, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    key = _form_key(page.text, f"/outcome/{DENIAL}")
    assert page.status_code == 200 and csrf, page.text[:2000]
    return Tab(tab.browser, tab.ctx, csrf.group(1), key.group(1) if key else "")


def _form_key(html: str, action: str) -> re.Match[str] | None:
    """The one-time key of the page's form that posts to ``action``."""
    form = re.search(r'<form[^>]*action="' + re.escape(action) + r'".*?</form>', html, re.S)
    return re.search(r'name="form_key" value="([^"]+)"', form.group(0)) if form else None


def _record(pair: Pair, tab: Tab, **extra: str) -> requests.Response:
    form = {**CALL, "ctx": tab.ctx, "csrf": tab.csrf, "form_key": tab.form_key, **extra}
    return tab.browser.post(f"{pair.app.url}/outcome/{DENIAL}", data=form, timeout=60)


def _notes(pair: Pair) -> list[CallNote]:
    db = Database(pair.app_flask.config["P2P"]["DATABASE_URL"])
    try:
        with db.session() as session:
            return list(session.query(CallNote).filter_by(patient_id=PATIENT).all())
    finally:
        db.dispose()


def _backdate(pair: Pair, note_id: str) -> None:
    """Let the note's backoff pass, as if five minutes had gone by since its last attempt."""
    db = Database(pair.app_flask.config["P2P"]["DATABASE_URL"])
    with db.session() as session:
        note = session.get(CallNote, note_id)
        assert note is not None
        note.updated_at = datetime.now(UTC) - timedelta(minutes=5)
    db.dispose()


def _in_chart(pair: Pair, note_id: str) -> list[dict[str, Any]]:
    """The call notes in the EHR that are this note (by the identifier the app gives it, or its text where the
    EHR keeps no identifier), read with the inspector token."""
    page = requests.get(f"{pair.fhir}/DocumentReference", params={"patient": PATIENT, "_count": 500},
                        headers={"Authorization": "Bearer x"}, timeout=30).json()  # fmt: skip
    found = []
    for entry in page.get("entry", []):
        resource = entry["resource"]
        ids = {i.get("value") for i in resource.get("identifier", []) if i.get("system") == IDENTIFIER_SYSTEM}
        if f"urn:uuid:{note_id}" in ids:
            found.append(resource)
    return found


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    started = start_pair(tmp_path_factory.mktemp("saved-once"), "p2p-saved-once")
    yield started
    started.stop()


def test_a_call_typed_while_the_ehr_is_down_is_saved_and_reaches_the_chart_once_it_is_back(pair: Pair) -> None:
    tab = _launch(pair)
    outage = pair.ehr_flask.extensions["demo_ehr"].outage
    outage.begin(500)
    try:
        listing = tab.browser.get(f"{pair.app.url}/", params={"ctx": tab.ctx}, timeout=30)
        assert "No denied or pended prior authorizations are on record" not in listing.text
        assert "The EHR could not be reached" in listing.text
        assert "ClaimResponse search failed" in unescape(listing.text)  # what failed, in the notice

        brief = tab.browser.get(f"{pair.app.url}/brief/{DENIAL}", params={"ctx": tab.ctx}, timeout=30)
        assert brief.status_code == 503
        assert "The EHR could not be reached" in brief.text and "not in the launched patient" not in brief.text

        saved = _record(pair, tab)
        page = unescape(saved.text)
        assert saved.status_code == 202, page[:2000]
        assert "The call note is saved; the EHR could not be reached" in page
        assert "reviewer name: Dr. Dana Whitfield" in page  # what was typed, shown back
    finally:
        outage.end()
    (note,) = _notes(pair)
    assert note.status == "pending" and note.claimed_by is None  # kept, and no lease left behind
    assert "Reviewer: Dr. Dana Whitfield" in note.note_text
    assert "Reviewer wants the PT discharge summary." in note.note_text

    _backdate(pair, note.id)
    case = tab.browser.get(f"{pair.app.url}/case/{DENIAL}", params={"ctx": tab.ctx}, timeout=60)
    assert case.status_code == 200
    (written,) = [n for n in _notes(pair) if n.id == note.id]
    assert written.status == "written" and written.document_reference in case.text
    assert len(_in_chart(pair, note.id)) == 1


def test_the_same_call_form_submitted_twice_records_one_note(pair: Pair) -> None:
    tab = _launch(pair)
    assert tab.form_key, "the call form carries a one-time key"
    before = {n.id for n in _notes(pair)}
    first = _record(pair, tab)
    again = _record(pair, tab)  # Back, then submit again: the same rendered form, the same key
    new = [n for n in _notes(pair) if n.id not in before]
    assert len(new) == 1, [n.id for n in new]
    assert first.status_code == again.status_code == 200
    assert f"note={new[0].id}" in first.url and f"note={new[0].id}" in again.url  # the first result, shown again
    assert len(_in_chart(pair, new[0].id)) == 1
    fresh = _case_form(pair, tab)  # the next rendered form has a new key and records a new call
    assert fresh.form_key != tab.form_key
    _record(pair, fresh)
    assert len([n for n in _notes(pair) if n.id not in before]) == 2


def test_the_same_hand_entry_form_submitted_twice_stores_one_denial(pair: Pair) -> None:
    tab = _launch(pair, "pat-knee-tka")
    form = tab.browser.get(f"{pair.app.url}/denials/new", params={"ctx": tab.ctx}, timeout=30).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    key = re.search(r'name="form_key" value="([^"]+)"', form)
    assert csrf and key
    entry = {
        "ctx": tab.ctx, "csrf": csrf.group(1), "form_key": key.group(1), "payer": "Cigna", "plan_type": "commercial",
        "state": "tx", "service_system": "CPT", "service_code": "73721", "service_display": "MRI knee",
        "decided_date": "2026-11-20", "decided_time": "09:00", "reference_number": "FAX-7781",
        "reason_text": "The requested MRI is not medically necessary.", "ordering_physician": "Dr. Elena Vasquez",
        "practice": "Organization/org-knee-gulfcoast-ortho",
    }  # fmt: skip
    first = tab.browser.post(f"{pair.app.url}/denials/new", data=entry, timeout=30)
    again = tab.browser.post(f"{pair.app.url}/denials/new", data=entry, timeout=30)
    assert first.status_code == again.status_code == 200 and "/brief/hand-" in first.url
    assert again.url == first.url  # the entry the first submit stored, opened again
    db = Database(pair.app_flask.config["P2P"]["DATABASE_URL"])
    with db.session() as session:
        stored = session.query(HandEnteredDenial).filter_by(patient_id="pat-knee-tka").all()
    db.dispose()
    assert len(stored) == 1


def test_a_flush_and_a_page_view_at_the_same_moment_write_the_note_once(tmp_path: Path) -> None:
    """The flush holds the note's lease mid-write when the user presses Retry on the case page. Epic takes no
    conditional create and no search by identifier: only the lease keeps the two writers apart."""
    backend = RegisteredClient("p2p-lease-backend", ["http://127.0.0.1/cb"], "http://127.0.0.1/launch",
                               "private_key_jwt", jwks=public_jwks(BACKEND_KEY, "RS384"))  # fmt: skip
    pair = start_pair(tmp_path, "p2p-lease", more_clients=[backend], ehr_profile="epic")
    try:
        pair.app_flask.config["P2P"]["WRITE_PROFILES"] = {pair.fhir: "epic"}
        tab = _launch(pair)
        # refused unread (429, then the client's two retries): pending, and certainly not in the chart yet
        pair.ehr_flask.extensions["demo_ehr"].faults.fail_next_writes(429, times=3)
        _record(pair, tab)
        (note,) = _notes(pair)
        assert note.status == "pending"
        _backdate(pair, note.id)

        db = Database(pair.app_flask.config["P2P"]["DATABASE_URL"])
        settings = load_settings({"WRITE_PROFILES": {pair.fhir: "epic"}})
        auth = BackendAuth("p2p-lease-backend", BACKEND_KEY, "RS384")
        writing, page_done = threading.Event(), threading.Event()

        def slow_writer(iss: str) -> Any:
            write = backend_writer(iss, auth, settings)

            def held(resource: dict[str, Any], *, unconfirmed: bool = False) -> str:  # holds the lease meanwhile
                writing.set()
                page_done.wait(60)
                return write(resource, unconfirmed=unconfirmed)

            return held

        flusher = threading.Thread(target=lambda: flush(db, slow_writer, ignore_backoff=True))
        flusher.start()
        assert writing.wait(60)
        page = tab.browser.post(f"{pair.app.url}/outcome/{DENIAL}/retry/{note.id}",  # "Retry now" on the case page
                                data={"ctx": tab.ctx, "csrf": tab.csrf}, timeout=60)  # fmt: skip
        page_done.set()
        flusher.join(60)
        db.dispose()
        assert page.status_code == 200
        documents = requests.get(f"{pair.fhir}/DocumentReference", params={"patient": PATIENT},
                                 headers={"Authorization": "Bearer x"}, timeout=30).json()  # fmt: skip
        notes = [e for e in documents.get("entry", []) if "PEER-TO-PEER REVIEW CALL" in _text(e["resource"])]
        assert len(notes) == 1, f"{len(notes)} copies of the note in the chart"
        (landed,) = _notes(pair)
        assert landed.status == "written"
    finally:
        pair.stop()


def _text(resource: dict[str, Any]) -> str:
    return base64.b64decode(resource["content"][0]["attachment"]["data"]).decode("utf-8", "replace")


def test_a_call_typed_past_the_tokens_life_with_the_ehr_down_is_saved(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token expired during a long call and the token endpoint is down with the rest of the EHR: the refresh
    fails, and the note is saved all the same (it was a 502 error page, and the note was lost)."""
    tab = _launch(pair)
    before = {n.id for n in _notes(pair)}

    def token_endpoint_down(context: Any, settings: Any) -> bool:
        raise TokenError("the token endpoint could not be reached: ConnectionError")

    monkeypatch.setattr("smart_app.web.context.refresh_if_needed", token_endpoint_down)
    outage = pair.ehr_flask.extensions["demo_ehr"].outage
    outage.begin(503)
    try:
        saved = _record(pair, tab, notes="Typed while the token could not be refreshed.")
    finally:
        outage.end()
    assert saved.status_code == 202, unescape(saved.text)[:1500]
    assert "The call note is saved; the EHR could not be reached" in unescape(saved.text)
    (new,) = [n for n in _notes(pair) if n.id not in before]
    assert new.status == "pending" and "Typed while the token could not be refreshed." in new.note_text


@pytest.mark.parametrize(
    ("path", "form", "count"),
    [
        (f"/case/{DENIAL}/log", {"kind": "requested", "at": "2026-11-20T10:00", "channel": "phone"},
         "SELECT count(*) FROM scheduling_log"),
        (f"/case/{DENIAL}/drafts", {"kind": "p2p-request"}, "SELECT count(*) FROM drafts"),
        (f"/brief/{DENIAL}/edits", {"kind": "talking-point", "text": "PT notes attached."},
         "SELECT count(*) FROM brief_edits"),
    ],
    ids=["scheduling-log", "draft", "brief-edit"],
)  # fmt: skip
def test_every_form_that_makes_something_makes_it_once(pair: Pair, path: str, form: dict, count: str) -> None:
    """Back, then submit again, on the scheduling log, a draft and a brief edit: one entry, and the second submit
    opens the first result (each used to save a second copy)."""
    tab = _launch(pair)
    shown_on = path.rsplit("/", 1)[0]  # the case page for the log and drafts, the brief for its edits
    page = tab.browser.get(f"{pair.app.url}{shown_on}", params={"ctx": tab.ctx}, timeout=30).text
    key = _form_key(page, path)
    assert key, f"the form posting to {path} carries a one-time key"
    db = Database(pair.app_flask.config["P2P"]["DATABASE_URL"])
    try:
        with db.session() as session:
            before = session.execute(text(count)).scalar_one()
        data = {**form, "ctx": tab.ctx, "csrf": tab.csrf, "form_key": key.group(1)}
        first = tab.browser.post(f"{pair.app.url}{path}", data=data, timeout=60)
        again = tab.browser.post(f"{pair.app.url}{path}", data=data, timeout=60)
        with db.session() as session:
            after = session.execute(text(count)).scalar_one()
    finally:
        db.dispose()
    assert first.status_code == again.status_code == 200 and first.url == again.url
    assert after == before + 1


def test_a_note_that_may_be_in_the_chart_is_sent_again_only_when_a_person_says_it_is_not(tmp_path: Path) -> None:
    """Epic: a write whose answer was lost cannot be looked up by identifier, so the note is parked. It read
    "refused by the EHR" with a Retry that parked it again, forever; now it says it may already be in the chart,
    and a person who looked sends it: one copy."""
    pair = start_pair(tmp_path, "p2p-checked", ehr_profile="epic")
    try:
        pair.app_flask.config["P2P"]["WRITE_PROFILES"] = {pair.fhir: "epic"}
        tab = _launch(pair)
        pair.ehr_flask.extensions["demo_ehr"].faults.fail_next_writes(503, times=1)  # the app cannot tell it failed
        _record(pair, tab)
        (note,) = _notes(pair)
        retry = f"{pair.app.url}/outcome/{DENIAL}/retry/{note.id}"
        tab.browser.post(retry, data={"ctx": tab.ctx, "csrf": tab.csrf}, timeout=60)
        (parked,) = _notes(pair)
        assert parked.status == "parked" and _in_chart(pair, note.id) == []
        case = unescape(tab.browser.get(f"{pair.app.url}/case/{DENIAL}", params={"ctx": tab.ctx}, timeout=60).text)
        assert "may already be in the chart" in case and "refused by the EHR" not in case
        assert "I looked: it is not in the chart, send it" in case
        sent = tab.browser.post(f"{pair.app.url}/outcome/{DENIAL}/not-in-chart/{note.id}",
                                data={"ctx": tab.ctx, "csrf": tab.csrf}, timeout=60)  # fmt: skip
        assert sent.status_code == 200
        (written,) = _notes(pair)
        assert written.status == "written"
        documents = requests.get(f"{pair.fhir}/DocumentReference", params={"patient": PATIENT},
                                 headers={"Authorization": "Bearer x"}, timeout=30).json()  # fmt: skip
        assert len([e for e in documents.get("entry", []) if "PEER-TO-PEER REVIEW CALL" in _text(e["resource"])]) == 1
    finally:
        pair.stop()
