"""Refreshing the access token: only when expired, the new refresh token replaces the old, none -> SessionExpired."""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import pytest
import requests
import responses

from smart_app.errors import SessionExpired, TokenError
from smart_app.smart.launch import LaunchContext
from smart_app.smart.tokens import refresh_if_needed

TOKEN = "https://ehr.example/oauth/token"


def _context(*, expires_in: float, refresh_token: str | None = "rt-old") -> LaunchContext:  # noqa: S107
    return LaunchContext(
        handle="h",
        iss="https://ehr.example/fhir",
        patient="pat-1",
        access_token="at-old",
        token_endpoint=TOKEN,
        scope="patient/*.rs",
        expires_at=time.time() + expires_in,
        refresh_token=refresh_token,
    )


@responses.activate
def test_not_expired_makes_no_call(make_settings) -> None:
    context = _context(expires_in=600)

    assert refresh_if_needed(context, make_settings()) is False

    assert len(responses.calls) == 0
    assert context.access_token == "at-old"


@responses.activate
def test_expired_with_refresh_token_refreshes_and_rotates(make_settings) -> None:
    responses.post(
        TOKEN,
        json={"access_token": "at-new", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-new"},
    )
    context = _context(expires_in=-10)

    assert refresh_if_needed(context, make_settings(CLIENT_ID="my-app")) is True

    form = {k: v[0] for k, v in parse_qs(responses.calls[0].request.body).items()}
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == "rt-old"
    assert form["client_id"] == "my-app"
    assert context.access_token == "at-new"
    assert context.refresh_token == "rt-new"
    assert context.expires_at is not None and context.expires_at > time.time() + 3000
    assert not context.expired


@responses.activate
def test_token_within_30_seconds_of_expiry_is_refreshed(make_settings) -> None:
    responses.post(TOKEN, json={"access_token": "at-new", "token_type": "Bearer", "expires_in": 3600})
    context = _context(expires_in=10)

    assert refresh_if_needed(context, make_settings()) is True
    assert context.access_token == "at-new"
    assert context.refresh_token == "rt-old"  # the server sent none: the old one stays


@responses.activate
def test_expired_without_refresh_token_is_session_expired(make_settings) -> None:
    context = _context(expires_in=-10, refresh_token=None)

    with pytest.raises(SessionExpired) as excinfo:
        refresh_if_needed(context, make_settings())

    assert excinfo.value.status == 401
    assert len(responses.calls) == 0


@responses.activate
def test_refused_refresh_is_session_expired(make_settings) -> None:
    responses.post(TOKEN, status=400, json={"error": "invalid_grant"})

    with pytest.raises(SessionExpired, match="invalid_grant"):
        refresh_if_needed(_context(expires_in=-10), make_settings())


@responses.activate
def test_unreachable_token_endpoint_on_refresh_is_token_error(make_settings) -> None:
    responses.post(TOKEN, body=requests.ConnectionError("down"))

    with pytest.raises(TokenError):
        refresh_if_needed(_context(expires_in=-10), make_settings())
