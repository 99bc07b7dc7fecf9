"""The known SMART attacks, each performed against the running app and demo EHR (and, where the attack needs one, a
hostile server on another port): every one is refused with a page that says what happened and shows no patient
data. Plus the headers every route must carry, and the tokens that must never reach a URL, a page or a log."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask, jsonify, request
from pairs import every_log_line_at_debug

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import RunningServer, bind, wait_until_ready
from smart_app.smart import launch as smart_launch
from smart_app.web import create_app

LUMBAR, KNEE = "pat-lumbar-mri", "pat-knee-tka"
NAMES = {LUMBAR: "Quillfeather", KNEE: "Brightwater"}
DENIALS = {LUMBAR: "cr-lumbar-mri-1", KNEE: "cr-knee-tka-1"}


@dataclass
class Hostile:
    """A server the attacker controls: it counts every request it receives."""

    server: RunningServer
    hits: list[str] = field(default_factory=list)


def _hostile(discovery: dict[str, Any] | None = None, page: str = "") -> Hostile:
    server = bind()
    hostile = Hostile(server)
    app = Flask("hostile")

    @app.route("/<path:anything>", methods=["GET", "POST"])
    def anything(anything: str) -> Any:
        hostile.hits.append(f"{request.method} /{anything}")
        if anything == "fhir/.well-known/smart-configuration" and discovery is not None:
            return jsonify({k: v.replace("{self}", server.url) for k, v in discovery.items()} if discovery else {})
        if anything == "frame.html":
            return page.replace("{self}", server.url)
        return ("", 404)

    server.mount(app)
    return hostile


@dataclass
class Site:
    ehr: RunningServer
    app: RunningServer
    app_flask: Flask
    ehr_flask: Flask
    token_thief: Hostile  # where a hijacked discovery document sends the token request
    hijacked: Hostile  # an allowlisted iss whose discovery points the token endpoint at the thief
    no_methods: Hostile  # an allowlisted iss whose discovery omits code_challenge_methods_supported
    stranger: Hostile  # an iss nobody allowlisted

    @property
    def fhir(self) -> str:
        return f"{self.ehr.url}/fhir"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    ehr, app = bind(), bind()
    thief = _hostile()
    hijacked = _hostile({"authorization_endpoint": "{self}/authorize",
                         "token_endpoint": f"{thief.server.url}/token", "capabilities": "launch-ehr"})  # fmt: skip
    no_methods = _hostile({"authorization_endpoint": "{self}/authorize", "token_endpoint": "{self}/token"})
    stranger = _hostile({"authorization_endpoint": "{self}/authorize", "token_endpoint": "{self}/token"})
    client = RegisteredClient("p2p-sec", [f"{app.url}/callback"], f"{app.url}/launch")
    ehr_flask = create_ehr_app(
        EhrSettings(base_url=ehr.url, inspector_token="x", require_consent=False, clients=[client])
    )
    db = tmp_path_factory.mktemp("security") / "app.sqlite3"
    app_flask = create_app({
        "CLIENT_ID": "p2p-sec", "EHR_ORIGINS": [ehr.url], "INSECURE_COOKIES": True, "DATABASE_URL": f"sqlite:///{db}",
        "ALLOWED_ISS": [f"{ehr.url}/fhir", f"{hijacked.server.url}/fhir", f"{no_methods.server.url}/fhir"],
    })  # fmt: skip
    ehr.mount(ehr_flask)
    app.mount(app_flask)
    wait_until_ready(f"{app.url}/health")
    wait_until_ready(f"{ehr.url}/fhir/.well-known/smart-configuration")
    yield Site(ehr, app, app_flask, ehr_flask, thief, hijacked, no_methods, stranger)
    for server in (app, ehr, thief.server, hijacked.server, no_methods.server, stranger.server):
        server.stop()


def _chart_launch(site: Site, patient: str, browser: requests.Session | None = None) -> tuple[requests.Session, str]:
    """A launch from the patient's chart; the browser and the ctx of the denial list it lands on."""
    browser = browser or requests.Session()
    listing = browser.get(f"{site.ehr.url}/launch?patient={patient}", timeout=60)
    assert listing.status_code == 200 and DENIALS[patient] in listing.text
    return browser, re.search(r"ctx=([\w-]+)", listing.url).group(1)  # type: ignore[union-attr]


def _no_patient_data(page: requests.Response) -> None:
    for name in NAMES.values():
        assert name not in page.text
    assert "birth" not in page.text.lower()


def _refused(page: requests.Response, status: int, words: str) -> None:
    assert page.status_code == status, (page.status_code, page.text[:300])
    assert words in page.text, page.text[:500]
    _no_patient_data(page)


# -- the launch ------------------------------------------------------------------------------------------------
def test_an_iss_not_on_the_allowlist_is_refused_and_never_contacted(site: Site) -> None:
    page = requests.get(f"{site.app.url}/launch", params={"iss": f"{site.stranger.server.url}/fhir", "launch": "x"},
                        timeout=30)  # fmt: skip
    _refused(page, 403, "This EHR is not registered with the app")
    assert site.stranger.hits == []


def test_a_discovery_document_that_sends_the_token_elsewhere_is_refused(site: Site) -> None:
    page = requests.get(f"{site.app.url}/launch", params={"iss": f"{site.hijacked.server.url}/fhir", "launch": "x"},
                        timeout=30)  # fmt: skip
    _refused(page, 403, "sign-in points to another server")
    assert "token endpoint" in page.text
    assert site.token_thief.hits == []  # no code, verifier or client credential ever went there
    assert not [h for h in site.hijacked.hits if "authorize" in h]  # the user was not sent to sign in either


def test_without_code_challenge_methods_the_app_still_uses_s256(site: Site) -> None:
    params = {"iss": f"{site.no_methods.server.url}/fhir", "launch": "x"}
    answer = requests.get(f"{site.app.url}/launch", params=params, allow_redirects=False, timeout=30)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert "plain" not in answer.headers["Location"]


def test_a_launch_replayed_after_use_is_refused(site: Site) -> None:
    browser, _ = _chart_launch(site, LUMBAR)
    first = browser.get(f"{site.ehr.url}/launch?patient={LUMBAR}", timeout=60)
    launch_url = next(r.url for r in first.history if r.url.startswith(f"{site.app.url}/launch"))
    replay = requests.get(launch_url, timeout=60)  # another browser, the same launch
    _refused(replay, 403, "The EHR did not authorize the app")
    assert "already used" in replay.text  # the EHR's reason, shown


def _callback_of_a_fresh_launch(site: Site, browser: requests.Session) -> str:
    """Walk a chart launch up to the EHR's redirect to the app's callback; return that callback URL unvisited."""
    start = requests.get(f"{site.ehr.url}/launch?patient={LUMBAR}", allow_redirects=False, timeout=30)
    app_launch = start.headers["Location"] if start.status_code in (302, 303) else None
    if app_launch is None:  # the EHR's chart page embeds the launch: take its frame's URL
        app_launch = re.search(r'src="([^"]+/launch\?[^"]+)"', start.text).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    authorize = browser.get(app_launch, allow_redirects=False, timeout=30).headers["Location"]
    callback = browser.get(authorize, allow_redirects=False, timeout=30).headers["Location"]
    assert callback.startswith(f"{site.app.url}/callback?")
    return callback


def test_callback_with_a_wrong_missing_or_reused_state_is_refused(site: Site) -> None:
    browser = requests.Session()
    callback = _callback_of_a_fresh_launch(site, browser)
    query = parse_qs(urlsplit(callback).query)
    code, state = query["code"][0], query["state"][0]
    _refused(browser.get(f"{site.app.url}/callback", params={"code": code, "state": "forged"}, timeout=30),
             400, "does not belong to your launch")  # fmt: skip
    _refused(browser.get(f"{site.app.url}/callback", params={"code": code}, timeout=30),
             400, "does not belong to your launch")  # fmt: skip
    other_browser = requests.get(f"{site.app.url}/callback", params={"code": code, "state": state}, timeout=30)
    _refused(other_browser, 400, "does not belong to your launch")  # a state is good only in its own browser
    assert DENIALS[LUMBAR] in browser.get(callback, timeout=60).text  # the real one works once
    _refused(browser.get(callback, timeout=60), 400, "does not belong to your launch")  # and never again


def test_an_authorization_code_injected_from_another_session_is_refused(site: Site) -> None:
    attacker, victim = requests.Session(), requests.Session()
    stolen = parse_qs(urlsplit(_callback_of_a_fresh_launch(site, attacker)).query)["code"][0]
    victims_own = parse_qs(urlsplit(_callback_of_a_fresh_launch(site, victim)).query)["state"][0]
    # The attacker's code in the victim's browser, with the victim's own state: PKCE binds the code to the
    # attacker's verifier, so the EHR refuses the exchange and the victim never sees the attacker's chart.
    page = victim.get(f"{site.app.url}/callback", params={"code": stolen, "state": victims_own}, timeout=60)
    _refused(page, 502, "The EHR did not issue an access token")


# -- inside the app -----------------------------------------------------------------------------------------------
def test_two_launches_in_two_tabs_never_show_each_others_patient(site: Site) -> None:
    browser, lumbar_ctx = _chart_launch(site, LUMBAR)
    _, knee_ctx = _chart_launch(site, KNEE, browser)  # same browser, same cookie: a second tab
    for ctx, mine, theirs in ((lumbar_ctx, LUMBAR, KNEE), (knee_ctx, KNEE, LUMBAR)):
        own = browser.get(f"{site.app.url}/brief/{DENIALS[mine]}", params={"ctx": ctx}, timeout=60)
        assert NAMES[mine] in own.text and NAMES[theirs] not in own.text
        other = browser.get(f"{site.app.url}/brief/{DENIALS[theirs]}", params={"ctx": ctx}, timeout=60)
        assert other.status_code in (403, 404) and NAMES[theirs] not in other.text and NAMES[mine] not in other.text
        listing = browser.get(f"{site.app.url}/", params={"ctx": ctx}, timeout=60)
        assert DENIALS[mine] in listing.text and DENIALS[theirs] not in listing.text


def _filled(rule: Any) -> str:
    values = {"claim_response_id": DENIALS[LUMBAR], "denial_id": DENIALS[LUMBAR], "note_id": "n1", "draft_id": "1",
              "case_id": "1", "letter_id": "1", "page": "1"}  # fmt: skip
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:\w+:)?{name}>", values[name], path)
    return path


def test_every_post_without_the_launch_csrf_token_is_refused(site: Site) -> None:
    browser, ctx = _chart_launch(site, LUMBAR)
    posts = [r for r in site.app_flask.url_map.iter_rules() if "POST" in (r.methods or ()) and r.endpoint != "static"]
    assert len(posts) >= 9  # every form the app has: edits, log, drafts, sent, call, retry, hand entry, worklist
    for rule in posts:
        for csrf in ("", "forged-token"):
            form = {"ctx": ctx, "csrf": csrf, "disposition": "overturned", "kind": "requested"}
            answer = browser.post(f"{site.app.url}{_filled(rule)}", data=form, timeout=60)
            assert answer.status_code in (400, 403), (rule.rule, answer.status_code)
            _no_patient_data(answer)
    case = browser.get(f"{site.app.url}/case/{DENIALS[LUMBAR]}", params={"ctx": ctx}, timeout=60).text
    assert "No call recorded" in case or "Not requested yet" in case  # nothing the forged forms sent was kept


def test_no_parameter_redirects_off_site(site: Site) -> None:
    browser, ctx = _chart_launch(site, LUMBAR)
    evil = "https://evil.example/phish"
    gets = [r for r in site.app_flask.url_map.iter_rules() if "GET" in (r.methods or ()) and r.endpoint != "static"]
    for rule in gets:
        params = {"ctx": ctx, "next": evil, "redirect": evil, "return_to": evil, "url": evil, "redirect_uri": evil}
        if rule.rule == "/launch":
            params |= {"iss": site.fhir, "launch": "x"}
        answer = browser.get(f"{site.app.url}{_filled(rule)}", params=params, allow_redirects=False, timeout=60)
        location = answer.headers.get("Location", "")
        assert "evil.example" not in location, (rule.rule, location)
        if location.startswith("http"):
            assert urlsplit(location).netloc in (urlsplit(site.app.url).netloc, urlsplit(site.ehr.url).netloc)


def test_an_idle_session_is_ended_and_the_user_told_to_relaunch(site: Site) -> None:
    browser, ctx = _chart_launch(site, LUMBAR)
    settings = site.app_flask.config["P2P"]
    minutes = settings["SESSION_MINUTES"]
    settings["SESSION_MINUTES"] = 0.02  # 1.2 s without activity
    try:
        assert DENIALS[LUMBAR] in browser.get(f"{site.app.url}/", params={"ctx": ctx}, timeout=60).text
        time.sleep(1.5)
        ended = browser.get(f"{site.app.url}/brief/{DENIALS[LUMBAR]}", params={"ctx": ctx}, timeout=60)
        _refused(ended, 401, "without activity")
        assert "Relaunch" in ended.text or "relaunch" in ended.text
        again = browser.get(f"{site.app.url}/", params={"ctx": ctx}, timeout=60)  # the launch is gone, not paused
        _refused(again, 401, "does not belong to a live launch")
    finally:
        settings["SESSION_MINUTES"] = minutes


def test_pages_are_framed_only_by_the_configured_ehr(site: Site, browser: Any) -> None:
    chart_browser, ctx = _chart_launch(site, LUMBAR)
    brief = f"{site.app.url}/brief/{DENIALS[LUMBAR]}?ctx={ctx}"
    hostile = _hostile(
        page=f'<html><body><iframe id="f" src="{brief}" width="900" height="600"></iframe></body></html>'
    )
    try:
        context = browser.new_context()
        jar = chart_browser.cookies
        context.add_cookies([{"name": c.name, "value": c.value or "", "url": site.app.url} for c in jar])
        page = context.new_page()
        page.goto(brief)
        assert NAMES[LUMBAR] in page.content()  # the same browser may read it top-level: the data is there
        page.goto(f"{hostile.server.url}/frame.html")
        page.wait_for_timeout(500)
        framed = [f for f in page.frames if f != page.main_frame]
        assert framed and all(NAMES[LUMBAR] not in f.content() for f in framed)
        assert framed[0].url.startswith("chrome-error://")  # Chromium refused it: frame-ancestors
        context.close()
    finally:
        hostile.server.stop()
    header = requests.get(f"{site.app.url}/health", timeout=10).headers["Content-Security-Policy"]
    assert re.search(r"frame-ancestors ([^;]+)", header).group(1).split() == ["'self'", site.ehr.url]  # type: ignore[union-attr]


# -- headers and secrets -----------------------------------------------------------------------------------------
PHI_ENDPOINTS = ("denials.", "brief.", "case.", "outcome.", "worklist.", "rates.", "hand_entry.", "audit.", "letters.")


def test_every_route_carries_the_security_headers(site: Site) -> None:
    browser, ctx = _chart_launch(site, LUMBAR)
    gets = [r for r in site.app_flask.url_map.iter_rules() if "GET" in (r.methods or ()) and r.endpoint != "static"]
    assert len(gets) >= 20
    for rule in gets:
        answer = browser.get(f"{site.app.url}{_filled(rule)}", params={"ctx": ctx}, allow_redirects=False, timeout=60)
        headers = answer.headers
        assert "frame-ancestors" in headers.get("Content-Security-Policy", ""), rule.rule
        policy = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
                          "form-action 'self'"):  # fmt: skip
            assert directive in policy, (rule.rule, directive)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, rule.rule
        assert headers.get("Referrer-Policy") == "no-referrer", rule.rule
        assert headers.get("X-Content-Type-Options") == "nosniff", rule.rule
        if rule.endpoint.startswith(PHI_ENDPOINTS) or answer.headers.get("Content-Type", "").startswith(
            ("text/html", "application/pdf", "text/csv", "application/fhir+json")):  # fmt: skip
            assert "no-store" in headers.get("Cache-Control", ""), (rule.rule, headers.get("Cache-Control"))


def test_no_token_verifier_or_id_token_reaches_a_url_a_page_or_a_log(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets: list[str] = []
    original = smart_launch._launch_context

    def keep(token: dict[str, Any], pending: Any, config: Any, settings: Any) -> Any:
        secrets.extend(str(v) for k, v in token.items() if k in ("access_token", "refresh_token", "id_token") and v)
        secrets.append(pending.code_verifier)
        return original(token, pending, config, settings)

    monkeypatch.setattr(smart_launch, "_launch_context", keep)
    seen: list[requests.Response] = []
    with every_log_line_at_debug() as records:
        browser = requests.Session()
        browser.hooks["response"].append(lambda r, *a, **k: seen.append(r))
        browser, ctx = _chart_launch(site, LUMBAR, browser)
        denial = DENIALS[LUMBAR]
        for path in (f"/brief/{denial}", f"/brief/{denial}.pdf", f"/brief/{denial}/script", f"/case/{denial}"):
            browser.get(f"{site.app.url}{path}", params={"ctx": ctx}, timeout=60)
        case = browser.get(f"{site.app.url}/case/{denial}", params={"ctx": ctx}, timeout=60).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', case).group(1)  # type: ignore[union-attr]
        saved = browser.post(f"{site.app.url}/outcome/{denial}", timeout=60, data={
            "ctx": ctx, "csrf": csrf, "call_date": "2026-11-23", "start_time": "10:00", "end_time": "10:12",
            "reviewer_name": "Dr. Sec", "specialty_match": "unknown", "disposition": "upheld"})  # fmt: skip
        assert saved.status_code == 200
    assert len(secrets) >= 4 and all(len(s) >= 20 for s in secrets)  # access, refresh, id_token, verifier
    urls = [r.url for response in seen for r in (*response.history, response)]
    urls += [r.headers.get("Location", "") for r in seen]
    bodies = [r.content.decode("latin-1") for r in seen]
    headers = [str(dict(r.headers)) for r in seen]
    cookies = [c.value or "" for c in browser.cookies]
    for secret in secrets:
        for where, texts in (("URL", urls), ("page", bodies), ("header", headers), ("cookie", cookies),
                             ("log", records.lines)):  # fmt: skip
            leaks = [text[:300] for text in texts if secret in text]
            assert not leaks, f"a token or verifier appears in a {where}: {leaks}"
