"""The launch pages as a user meets them: refusals explained on a page with the right status, and safe headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from smart_app.web import create_app

ISS = "https://ehr.example/fhir"
AUTHORIZE = "https://ehr.example/oauth/authorize"
SMART_CONFIG = {
    "issuer": ISS,
    "authorization_endpoint": AUTHORIZE,
    "token_endpoint": "https://ehr.example/oauth/token",
    "capabilities": ["launch-ehr", "permission-v2"],
    "code_challenge_methods_supported": ["S256"],
}


def _app(tmp_path: Path, **overrides: Any) -> Flask:
    config = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.sqlite3",
        "ALLOWED_ISS": [ISS],
        "INSECURE_COOKIES": True,
        **overrides,
    }
    return create_app(config)


@pytest.fixture
def web(tmp_path: Path) -> FlaskClient:
    return _app(tmp_path).test_client()


def _page(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _h1(response: TestResponse) -> str:
    html = _page(response)
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


def _launch(web: FlaskClient) -> TestResponse:
    with responses.RequestsMock() as mock:
        mock.get(f"{ISS}/.well-known/smart-configuration", json=SMART_CONFIG)
        return web.get("/launch", query_string={"iss": ISS, "launch": "L-1"})


def test_launch_from_unregistered_iss_is_refused_without_contacting_it(web: FlaskClient) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        response = web.get("/launch", query_string={"iss": "https://evil.example/fhir", "launch": "L-1"})
        assert len(mock.calls) == 0

    assert response.status_code == 403
    assert _h1(response) == "This EHR is not registered with the app"
    assert "text/html" in response.content_type


def test_launch_without_iss_is_refused(web: FlaskClient) -> None:
    with responses.RequestsMock() as mock:
        response = web.get("/launch")
        assert len(mock.calls) == 0
    assert response.status_code == 403


def test_launch_from_allowlisted_iss_redirects_to_authorize(web: FlaskClient) -> None:
    response = _launch(web)

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(AUTHORIZE + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["aud"] == [ISS]
    assert query["launch"] == ["L-1"]
    assert query["redirect_uri"] == ["http://localhost/callback"]
    assert len(query["state"][0]) >= 32


def test_allowlist_ignores_a_trailing_slash(web: FlaskClient) -> None:
    with responses.RequestsMock() as mock:
        mock.get(f"{ISS}/.well-known/smart-configuration", json=SMART_CONFIG)
        response = web.get("/launch", query_string={"iss": ISS + "/", "launch": "L-1"})
    assert response.status_code == 302


def test_callback_with_unknown_state_is_refused(web: FlaskClient) -> None:
    with responses.RequestsMock() as mock:
        response = web.get("/callback", query_string={"state": "not-a-state-we-issued", "code": "c"})
        assert len(mock.calls) == 0

    assert response.status_code == 400
    assert "does not belong to your launch" in _h1(response)


def test_callback_with_state_of_another_browser_is_refused(tmp_path: Path) -> None:
    app = _app(tmp_path)
    first, second = app.test_client(), app.test_client()
    state = parse_qs(urlsplit(_launch(first).headers["Location"]).query)["state"][0]

    response = second.get("/callback", query_string={"state": state, "code": "c"})

    assert response.status_code == 400
    assert "does not belong to your launch" in _h1(response)


def test_callback_with_access_denied_shows_the_error(web: FlaskClient) -> None:
    state = parse_qs(urlsplit(_launch(web).headers["Location"]).query)["state"][0]

    with responses.RequestsMock() as mock:
        response = web.get(
            "/callback",
            query_string={"state": state, "error": "access_denied", "error_description": "User declined"},
        )
        assert len(mock.calls) == 0

    assert response.status_code == 403
    assert _h1(response) == "The EHR did not authorize the app"
    assert "access_denied" in _page(response)
    assert "User declined" in _page(response)


def test_state_cannot_be_used_twice(web: FlaskClient) -> None:
    state = parse_qs(urlsplit(_launch(web).headers["Location"]).query)["state"][0]
    web.get("/callback", query_string={"state": state, "error": "access_denied"})

    response = web.get("/callback", query_string={"state": state, "error": "access_denied"})

    assert response.status_code == 400
    assert "does not belong to your launch" in _h1(response)


def test_unreachable_ehr_discovery_is_a_502_page(web: FlaskClient) -> None:
    with responses.RequestsMock() as mock:
        mock.get(f"{ISS}/.well-known/smart-configuration", body=requests.ConnectionError("no route"))
        response = web.get("/launch", query_string={"iss": ISS, "launch": "L-1"})

    assert response.status_code == 502
    assert _h1(response) == "The EHR&#39;s SMART configuration could not be read"
    assert "Something went wrong" not in _page(response)


def test_home_without_ctx_says_session_ended(web: FlaskClient) -> None:
    with responses.RequestsMock() as mock:
        response = web.get("/")
        assert len(mock.calls) == 0

    assert response.status_code == 401
    assert _h1(response) == "Your session has ended"


def _session_cookie(response: TestResponse) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("p2p_session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def _attributes(cookie: str) -> dict[str, str]:
    attrs = {}
    for part in cookie.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attrs[name.lower()] = value
    return attrs


def test_session_cookie_is_httponly(web: FlaskClient) -> None:
    attrs = _attributes(_session_cookie(_launch(web)))

    assert "httponly" in attrs
    assert "secure" not in attrs  # INSECURE_COOKIES: the localhost demo only


def test_secure_session_cookie_is_secure_and_samesite_none(tmp_path: Path) -> None:
    web = _app(tmp_path, INSECURE_COOKIES=False).test_client()

    attrs = _attributes(_session_cookie(_launch(web)))

    assert "httponly" in attrs
    assert "secure" in attrs
    assert attrs.get("samesite", "").lower() == "none"


def _assert_security_headers(response: TestResponse) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors" in csp
    assert response.headers.get("Referrer-Policy") == "no-referrer"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_every_response_carries_security_headers(web: FlaskClient) -> None:
    with responses.RequestsMock():
        refused = web.get("/launch", query_string={"iss": "https://evil.example/fhir"})
        ended = web.get("/")
        health = web.get("/health")
        missing = web.get("/no-such-page")
    redirect = _launch(web)

    for response in (refused, ended, health, missing, redirect):
        _assert_security_headers(response)
    for html in (refused, ended, missing):
        assert html.mimetype == "text/html"
        assert "no-store" in html.headers.get("Cache-Control", "")


def test_frame_ancestors_names_the_ehr_origins(tmp_path: Path) -> None:
    web = _app(tmp_path, EHR_ORIGINS=["https://ehr.example"]).test_client()

    csp = web.get("/").headers["Content-Security-Policy"]

    ancestors = csp.split("frame-ancestors", 1)[1].split(";", 1)[0].split()
    assert ancestors == ["'self'", "https://ehr.example"]


def test_secure_session_cookie_is_partitioned(tmp_path: Path) -> None:
    web = _app(tmp_path, INSECURE_COOKIES=False).test_client()

    attrs = _attributes(_session_cookie(_launch(web)))

    assert "httponly" in attrs
    assert "secure" in attrs
    assert attrs.get("samesite", "").lower() == "none"
    assert "partitioned" in attrs


def test_call_form_posted_after_the_session_ended_hands_the_text_back(tmp_path: Path) -> None:
    web = _app(tmp_path).test_client()
    response = web.post(
        "/outcome/cr-1",
        data={"ctx": "gone", "reviewer_name": "Dr. Dana Whitfield", "notes": "Reviewer wants the PT notes."},
    )
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "Your session has ended" in page
    assert "The call note was not saved" in page
    assert "reviewer name: Dr. Dana Whitfield" in page
    assert "notes: Reviewer wants the PT notes." in page
