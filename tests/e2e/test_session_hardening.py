"""What an attacker with a forged Host header, a copy of the database, a spreadsheet or a long number in a URL
gets: nothing. ``serve`` needs its public address; the session ends at sign-out and 12 hours after sign-in; tokens
at rest are sealed, in the app's own owner-only database; CSV cells never start a formula; a 20-digit id is a 404."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pairs import Pair, start_pair

from smart_app.web import create_app


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    started = start_pair(tmp_path_factory.mktemp("hardening"), "p2p-hardening", app_settings={"SESSION_MINUTES": 1440})
    started.app_flask.config["P2P"]["PUBLIC_URL"] = started.app.url
    yield started
    started.stop()


def _chart_launch(pair: Pair, practitioner: str = "demo-clinician") -> tuple[requests.Session, str, str]:
    pair.sign_in_as(practitioner)
    browser = requests.Session()
    listing = browser.get(f"{pair.ehr.url}/launch?patient=pat-lumbar-mri", timeout=60)
    assert listing.status_code == 200
    ctx = re.search(r"ctx=([\w-]+)", listing.url).group(1)  # type: ignore[union-attr]
    return browser, ctx, re.search(r'name="csrf" value="([^"]+)"', listing.text).group(1)  # type: ignore[union-attr]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_refuses_to_start_without_its_public_address(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("P2P_")}
    env.update(P2P_DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite3'}", P2P_ALLOWED_ISS="https://ehr.example/fhir")
    command = [sys.executable, "-m", "smart_app.cli", "serve", "--port", str(_free_port()), "--workers", "1"]
    served = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # noqa: S603
                              text=True, start_new_session=True)  # fmt: skip
    try:
        _, stderr = served.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(served.pid, signal.SIGKILL)  # gunicorn and its workers
        served.communicate()
        pytest.fail("serve started without P2P_PUBLIC_URL")
    assert served.returncode == 1
    (line,) = stderr.splitlines()  # one clear line
    assert line == (
        "p2p-brief: serve needs P2P_PUBLIC_URL, the app's address as the EHR reaches it "
        "(e.g. https://p2p.example.org): the sign-in's redirect_uri is built from it, "
        "never from a request's Host header"
    )
    assert not (tmp_path / "app.sqlite3").exists()


def test_the_redirect_uri_comes_from_the_public_address_never_the_host_header(pair: Pair) -> None:
    sent = requests.get(f"{pair.app.url}/launch", params={"iss": pair.fhir}, headers={"Host": "evil.example"},
                        allow_redirects=False, timeout=30)  # fmt: skip
    assert sent.status_code == 302
    assert parse_qs(urlsplit(sent.headers["Location"]).query)["redirect_uri"] == [f"{pair.app.url}/callback"]


def test_sign_out_ends_every_launch_of_the_browser(pair: Pair) -> None:
    browser, ctx, csrf = _chart_launch(pair)
    _, other_ctx, _ = _chart_launch(pair)
    page = browser.get(f"{pair.app.url}/case/cr-lumbar-mri-1", params={"ctx": ctx}, timeout=60)
    assert 'action="/logout"' in page.text and "Sign out" in page.text

    forged = browser.post(f"{pair.app.url}/logout", data={"ctx": ctx, "csrf": "forged"}, timeout=30)
    assert forged.status_code == 400 and "The form did not come from this launch's page." in unescape(forged.text)
    assert browser.get(f"{pair.app.url}/", params={"ctx": ctx}, timeout=60).status_code == 200

    signed_out = browser.post(f"{pair.app.url}/logout", data={"ctx": ctx, "csrf": csrf}, timeout=30)
    assert signed_out.status_code == 200 and "You are signed out" in signed_out.text
    for handle in (ctx, other_ctx):
        after = browser.get(f"{pair.app.url}/", params={"ctx": handle}, timeout=30)
        assert after.status_code == 401 and "Your session has ended" in after.text


def test_a_sign_in_ends_twelve_hours_after_it_began_however_active(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    from smart_app.web import context as web_context

    browser, ctx, _ = _chart_launch(pair)
    started = time.time()
    monkeypatch.setattr(web_context, "session_clock", lambda: started + 11.9 * 3600)
    assert browser.get(f"{pair.app.url}/", params={"ctx": ctx}, timeout=60).status_code == 200
    monkeypatch.setattr(web_context, "session_clock", lambda: started + 12.05 * 3600)
    ended = browser.get(f"{pair.app.url}/", params={"ctx": ctx}, timeout=60)
    assert ended.status_code == 401
    assert "a sign-in lasts at most 12 hours, however active" in unescape(ended.text)


def test_tokens_at_rest_are_sealed(pair: Pair) -> None:
    _chart_launch(pair)
    issued = pair.ehr_flask.extensions["demo_ehr"].registry._tokens.values()
    secrets_issued = [t for token in issued for t in (token.access_token, token.refresh_token) if t]
    assert secrets_issued
    url = pair.app_flask.config["P2P"]["DATABASE_URL"]
    with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
        stored = b"".join(bytes(row[0]) for row in raw.execute("SELECT data FROM web_sessions"))
    assert stored
    assert not [t for t in secrets_issued if t.encode() in stored]


def test_the_default_database_is_the_apps_own_owner_only_file_and_holds_the_sessions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    app = create_app({"INSECURE_COOKIES": True, "ALLOWED_ISS": ["https://ehr.example/fhir"]})
    app.extensions["p2p_db"].dispose()
    database = tmp_path / "data" / "p2p-brief" / "p2p-brief.sqlite3"
    assert database.stat().st_mode & 0o777 == 0o600 and database.parent.stat().st_mode & 0o777 == 0o700
    with sqlite3.connect(database) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"web_sessions", "call_notes"} <= tables  # sessions live in the app's database, not instance/


def _enter_by_hand(pair: Pair, payer: str, physician: str) -> None:
    browser, ctx, _ = _chart_launch(pair, "demo-liaison-prairie")  # one practice: the case is Prairie's
    form = browser.get(f"{pair.app.url}/denials/new", params={"ctx": ctx}, timeout=30).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    saved = browser.post(f"{pair.app.url}/denials/new", timeout=60, data={
        "ctx": ctx, "csrf": csrf, "payer": payer, "plan_type": "commercial", "state": "il",
        "service_system": "CPT", "service_code": "72148", "service_display": "MRI lumbar spine",
        "decided_date": "2026-11-20", "decided_time": "09:00", "reference_number": f"FAX-{len(payer)}",
        "reason_text": "Not medically necessary.", "ordering_physician": physician,
    })  # fmt: skip
    assert saved.status_code == 200 and "/brief/hand-" in saved.url


def test_no_csv_cell_starts_a_formula_in_a_spreadsheet(pair: Pair) -> None:
    _enter_by_hand(pair, '＝HYPERLINK("http://evil.example")', "Dr X;=1+2")
    _enter_by_hand(pair, "Aetna, @SUM(A1)", "＋1")
    pair.sign_in_as("demo-liaison-prairie")
    browser = requests.Session()
    worklist = browser.get(f"{pair.app.url}/launch", params={"iss": pair.fhir}, timeout=60)
    ctx = re.search(r"ctx=([\w-]+)", worklist.url).group(1)  # type: ignore[union-attr]
    exported = browser.get(f"{pair.app.url}/worklist.csv", params={"ctx": ctx}, timeout=60).text
    rows = list(csv.DictReader(io.StringIO(exported)))
    cells = {(row["payer"], row["physician"]) for row in rows}
    assert ('\'＝HYPERLINK("http://evil.example")', "Dr X;'=1+2") in cells
    assert ("Aetna, '@SUM(A1)", "'＋1") in cells
    for row in rows:  # however a spreadsheet splits a cell (, ; or tab), no part starts a formula
        for name, cell in row.items():
            if name == "hours_left" and re.fullmatch(r"-?\d+(\.\d+)?", cell or ""):
                continue  # a number the app computed, kept numeric: a spreadsheet reads it as a number, not a formula
            for part in re.split(r"[,;\t]", cell or ""):
                assert part.strip(" ")[:1] not in "=+-@＝＋－＠" or not part.strip(" "), cell


@pytest.mark.parametrize(
    "path",
    [
        "/case/hand-99999999999999999999",
        "/brief/hand-99999999999999999999",
        "/brief/hand-²",
        "/case/cr-lumbar-mri-1/drafts/99999999999999999999",
        "/case/cr-lumbar-mri-1/drafts/99999999999999999999.txt",
        "/worklist/99999999999999999999/open",
    ],
)
def test_an_id_too_large_for_the_database_is_not_found(pair: Pair, path: str) -> None:
    browser, ctx, _ = _chart_launch(pair)
    if path.startswith("/worklist"):
        pair.sign_in_as("demo-clinician")
        worklist = browser.get(f"{pair.app.url}/launch", params={"iss": pair.fhir}, timeout=60)
        ctx = re.search(r"ctx=([\w-]+)", worklist.url).group(1)  # type: ignore[union-attr]
    answer = browser.get(pair.app.url + path, params={"ctx": ctx}, timeout=60)
    assert answer.status_code == 404, answer.text[:300]
