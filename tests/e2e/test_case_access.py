"""The case pages keep each patient's records to that patient's launch, and every form needs its launch's CSRF
token: two launches for two patients in one browser, over HTTP against the demo EHR."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
import requests

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import bind, wait_until_ready
from smart_app.store.db import Database
from smart_app.store.models import CallNote
from smart_app.web import create_app

LUMBAR, KNEE = ("pat-lumbar-mri", "cr-lumbar-mri-1"), ("pat-knee-tka", "")
CALL = {
    "call_date": "2026-11-23", "start_time": "10:05", "end_time": "10:19", "reviewer_name": "Dr. Dana Whitfield",
    "disposition": "upheld", "notes": "Upheld.",
}  # fmt: skip


STATE: dict[str, Any] = {}  # the module's demo EHR app (for faults) and the app's database URL


@dataclass
class Tab:
    ctx: str
    csrf: str


@pytest.fixture(scope="module")
def app_and_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, requests.Session, Tab, Tab]]:
    ehr, app = bind(), bind()
    client = RegisteredClient("p2p-access", [f"{app.url}/callback"], f"{app.url}/launch")
    ehr_app = create_ehr_app(EhrSettings(base_url=ehr.url, clients=[client], inspector_token="x",
                                         require_consent=False))  # fmt: skip
    ehr.mount(ehr_app)
    STATE.update(ehr_app=ehr_app)
    db = tmp_path_factory.mktemp("access") / "app.sqlite3"
    STATE.update(db=f"sqlite:///{db}")
    app.mount(create_app({"CLIENT_ID": "p2p-access", "ALLOWED_ISS": [f"{ehr.url}/fhir"], "INSECURE_COOKIES": True,
                          "DATABASE_URL": f"sqlite:///{db}"}))  # fmt: skip
    wait_until_ready(f"{app.url}/health")
    browser = requests.Session()  # one cookie jar: two tabs of one browser

    def launch(patient: str) -> Tab:
        listing = browser.get(f"{ehr.url}/launch?patient={patient}", timeout=30)
        ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", listing.url)
        own_denial = re.search(r'href="/brief/([^"?]+)', listing.text)
        assert ctx and own_denial, listing.url
        page = browser.get(f"{app.url}/case/{own_denial.group(1)}", params={"ctx": ctx.group(1)}, timeout=30)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        return Tab(ctx.group(1), token.group(1))

    lumbar, knee = launch(LUMBAR[0]), launch(KNEE[0])
    yield app.url, browser, lumbar, knee
    app.stop()
    ehr.stop()


def test_the_lumbar_case_records_stay_with_the_lumbar_launch(
    app_and_browser: tuple[str, requests.Session, Tab, Tab],
) -> None:
    app, browser, lumbar, knee = app_and_browser
    denial = LUMBAR[1]
    drafted = browser.post(f"{app}/case/{denial}/drafts", data={"ctx": lumbar.ctx, "csrf": lumbar.csrf,
                                                                "kind": "p2p-request"}, timeout=60)  # fmt: skip
    draft_url = drafted.url.split("?")[0]
    assert drafted.status_code == 200 and re.search(r"/drafts/\d+$", draft_url)
    saved = browser.post(f"{app}/outcome/{denial}", data={**CALL, "ctx": lumbar.ctx, "csrf": lumbar.csrf}, timeout=60)
    note_id = re.search(r"note=([0-9a-f-]{36})", saved.url)
    assert note_id

    # The knee launch (another patient, same browser) sees none of it.
    for url in (draft_url, draft_url + ".pdf", draft_url + ".txt", f"{app}/case/{denial}",
                f"{app}/case/{denial}/letter/{note_id.group(1)}"):  # fmt: skip
        answer = browser.get(url, params={"ctx": knee.ctx}, timeout=30)
        assert answer.status_code == 404, url
        assert "Quillfeather" not in answer.text and "Whitfield" not in answer.text
    for url, form in (
        (f"{draft_url}/sent", {}),
        (f"{app}/case/{denial}/log", {"kind": "requested", "at": "2026-11-20T10:00", "channel": "phone"}),
        (f"{app}/outcome/{denial}/retry/{note_id.group(1)}", {}),
        (f"{app}/outcome/{denial}", {**CALL, "replaces": note_id.group(1)}),
    ):
        answer = browser.post(url, data={**form, "ctx": knee.ctx, "csrf": knee.csrf}, timeout=30)
        assert answer.status_code == 404, url
    # The lumbar launch still sees its draft, not yet marked sent by anyone.
    assert "Not sent yet." in browser.get(draft_url, params={"ctx": lumbar.ctx}, timeout=30).text


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/case/{denial}/log", {"kind": "requested", "at": "2026-11-20T10:00", "channel": "phone"}),
        ("/case/{denial}/drafts", {"kind": "p2p-request"}),
        ("/outcome/{denial}", CALL),
    ],
)
def test_every_case_form_needs_the_launch_csrf_token(
    app_and_browser: tuple[str, requests.Session, Tab, Tab], path: str, form: dict[str, str]
) -> None:
    app, browser, lumbar, _ = app_and_browser
    url = app + path.format(denial=LUMBAR[1])
    for token in ("", "forged-token"):
        answer = browser.post(url, data={**form, "ctx": lumbar.ctx, "csrf": token}, timeout=30)
        assert answer.status_code == 400
        assert "The form did not come from this launch's page." in unescape(answer.text)


def test_a_note_the_ehr_could_not_take_is_sent_on_the_users_next_page_once_its_backoff_passed(
    app_and_browser: tuple[str, requests.Session, Tab, Tab],
) -> None:
    app, browser, lumbar, _ = app_and_browser
    STATE["ehr_app"].extensions["demo_ehr"].faults.fail_next_writes(503)  # a create is not resent within the request
    saved = browser.post(f"{app}/outcome/{LUMBAR[1]}", data={**CALL, "ctx": lumbar.ctx, "csrf": lumbar.csrf},
                         timeout=60)  # fmt: skip
    assert "The EHR did not accept the call note" in saved.text
    note_id = re.search(r"note=([0-9a-f-]{36})", saved.url)
    assert note_id
    assert browser.get(f"{app}/health", timeout=10).json()["outbox"] >= 1
    # Before the backoff passes, opening the brief does not hammer the EHR; after it, the next page sends it.
    db = Database(STATE["db"])
    browser.get(f"{app}/brief/{LUMBAR[1]}", params={"ctx": lumbar.ctx}, timeout=60)
    with db.session() as session:
        note = session.get(CallNote, note_id.group(1))
        assert note is not None and note.status == "pending" and note.attempts == 1
        note.updated_at = datetime.now(UTC) - timedelta(minutes=5)
    page = browser.get(f"{app}/case/{LUMBAR[1]}", params={"ctx": lumbar.ctx}, timeout=60)
    with db.session() as session:
        note = session.get(CallNote, note_id.group(1))
        assert note is not None and note.status == "written" and note.attempts == 2
    assert note.document_reference in page.text
