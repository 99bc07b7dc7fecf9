"""The EHR launch: the authorize URL (PKCE S256, state, aud, launch, scopes) and the code-for-token exchange."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from smart_app.errors import DiscoveryError, IdTokenInvalid, MissingLaunchContext, TokenError
from smart_app.smart.discovery import SmartConfiguration
from smart_app.smart.launch import PendingAuthorization, begin_authorization, complete_authorization

ISS = "https://ehr.example/fhir"
AUTHORIZE = "https://ehr.example/oauth/authorize"
TOKEN = "https://ehr.example/oauth/token"
JWKS = "https://ehr.example/oauth/jwks"
REDIRECT = "https://app.example/callback"


def _query(url: str) -> dict[str, str]:
    parsed = parse_qs(urlsplit(url).query, strict_parsing=True)
    assert all(len(v) == 1 for v in parsed.values()), parsed
    return {k: v[0] for k, v in parsed.items()}


def _pkce_s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


# -- begin_authorization ---------------------------------------------------------------------------------------
def test_authorize_url_has_every_smart_parameter(smart_config: SmartConfiguration, make_settings) -> None:
    url, pending = begin_authorization(
        smart_config, launch="xyz-launch", redirect_uri=REDIRECT, settings=make_settings(CLIENT_ID="my-app")
    )

    assert url.startswith(AUTHORIZE + "?")
    q = _query(url)
    assert q["response_type"] == "code"
    assert q["client_id"] == "my-app"
    assert q["redirect_uri"] == REDIRECT
    assert q["aud"] == ISS
    assert q["launch"] == "xyz-launch"
    assert q["state"] == pending.state
    assert len(q["state"]) >= 32
    assert q["code_challenge_method"] == "S256"
    assert q["code_challenge"] == _pkce_s256(pending.code_verifier)
    assert q["code_challenge"] != pending.code_verifier
    assert "code_verifier" not in q
    assert q["scope"] == pending.scope
    assert pending.iss == ISS and pending.launch == "xyz-launch" and pending.redirect_uri == REDIRECT


def test_state_and_verifier_differ_between_launches(smart_config: SmartConfiguration, make_settings) -> None:
    _, first = begin_authorization(smart_config, launch="a", redirect_uri=REDIRECT, settings=make_settings())
    _, second = begin_authorization(smart_config, launch="a", redirect_uri=REDIRECT, settings=make_settings())

    assert first.state != second.state
    assert first.code_verifier != second.code_verifier


def test_pkce_s256_even_when_discovery_omits_code_challenge_methods(
    smart_config: SmartConfiguration, make_settings
) -> None:
    config = dataclasses.replace(smart_config, code_challenge_methods=())

    url, pending = begin_authorization(config, launch="l", redirect_uri=REDIRECT, settings=make_settings())

    q = _query(url)
    assert q["code_challenge_method"] == "S256"
    assert q["code_challenge"] == _pkce_s256(pending.code_verifier)


def test_scopes_are_v2_with_permission_v2(smart_config: SmartConfiguration, make_settings) -> None:
    url, _ = begin_authorization(smart_config, launch="l", redirect_uri=REDIRECT, settings=make_settings())

    scopes = _query(url)["scope"].split()
    assert "patient/Condition.rs" in scopes
    assert "patient/DocumentReference.cs" in scopes  # create, and search before a resend
    assert "launch" in scopes


def test_scopes_are_v1_without_permission_v2(smart_config: SmartConfiguration, make_settings) -> None:
    config = dataclasses.replace(smart_config, capabilities=frozenset({"launch-ehr", "permission-v1"}))

    url, _ = begin_authorization(config, launch="l", redirect_uri=REDIRECT, settings=make_settings())

    scopes = _query(url)["scope"].split()
    assert "patient/Condition.read" in scopes
    assert "patient/DocumentReference.write" in scopes
    assert "patient/Condition.rs" not in scopes


def test_standalone_launch_has_no_launch_parameter_or_scope(smart_config: SmartConfiguration, make_settings) -> None:
    url, pending = begin_authorization(smart_config, launch=None, redirect_uri=REDIRECT, settings=make_settings())

    q = _query(url)
    assert "launch" not in q
    assert "launch" not in q["scope"].split()
    assert "user/Condition.rs" in q["scope"].split()
    assert pending.launch is None


def test_no_authorization_endpoint_is_a_discovery_error(smart_config: SmartConfiguration, make_settings) -> None:
    config = dataclasses.replace(smart_config, authorization_endpoint=None)
    with pytest.raises(DiscoveryError):
        begin_authorization(config, launch="l", redirect_uri=REDIRECT, settings=make_settings())


# -- complete_authorization ------------------------------------------------------------------------------------
def _pending(launch: str | None = "xyz-launch") -> PendingAuthorization:
    return PendingAuthorization(
        iss=ISS,
        state="s" * 43,
        code_verifier="v" * 64,
        redirect_uri=REDIRECT,
        scope="launch openid fhirUser patient/*.rs",
        launch=launch,
    )


def _token_body(**extra: Any) -> dict[str, Any]:
    return {
        "access_token": "at-1",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "launch openid fhirUser patient/*.rs patient/DocumentReference.c",
        "patient": "pat-1",
        "encounter": "enc-1",
        **extra,
    }


def _form(request: Any) -> dict[str, str]:
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    parsed = parse_qs(body, strict_parsing=True)
    return {k: v[0] for k, v in parsed.items()}


@responses.activate
def test_public_client_sends_client_id_and_verifier(smart_config: SmartConfiguration, make_settings) -> None:
    responses.post(TOKEN, json=_token_body())

    context = complete_authorization(
        _pending(), "the-code", smart_config, settings=make_settings(CLIENT_ID="pub-app", CLIENT_AUTH="none")
    )

    request = responses.calls[0].request
    form = _form(request)
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["code_verifier"] == "v" * 64
    assert form["client_id"] == "pub-app"
    assert form["redirect_uri"] == REDIRECT
    assert "client_secret" not in form
    assert "Authorization" not in request.headers
    assert context.access_token == "at-1"
    assert context.patient == "pat-1"
    assert context.encounter == "enc-1"
    assert context.iss == ISS
    assert context.token_endpoint == TOKEN
    assert context.expires_at is not None and context.expires_at > time.time() + 3000
    assert context.missing == []


@responses.activate
def test_client_secret_basic_sends_basic_header(smart_config: SmartConfiguration, make_settings) -> None:
    responses.post(TOKEN, json=_token_body())
    settings = make_settings(CLIENT_ID="conf-app", CLIENT_SECRET="s3cret", CLIENT_AUTH="client_secret_basic")

    complete_authorization(_pending(), "the-code", smart_config, settings=settings)

    request = responses.calls[0].request
    expected = base64.b64encode(b"conf-app:s3cret").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    form = _form(request)
    assert "client_secret" not in form
    assert form["code_verifier"] == "v" * 64


def _assertion(request: Any, key: RSAKey) -> jwt.Token:
    form = _form(request)
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    return jwt.decode(form["client_assertion"], key, algorithms=["RS384"])


@responses.activate
def test_private_key_jwt_assertion_follows_smart_rules(
    smart_config: SmartConfiguration, make_settings, client_key: RSAKey
) -> None:
    responses.post(TOKEN, json=_token_body())
    responses.post(TOKEN, json=_token_body())
    settings = make_settings(CLIENT_ID="jwt-app", CLIENT_AUTH="private_key_jwt", _PRIVATE_KEY=client_key)

    complete_authorization(_pending(), "code-1", smart_config, settings=settings)
    complete_authorization(_pending(), "code-2", smart_config, settings=settings)

    first = _assertion(responses.calls[0].request, client_key)
    second = _assertion(responses.calls[1].request, client_key)
    assert first.header["alg"] == "RS384"
    assert first.header["kid"] == client_key.kid
    assert first.header["typ"] == "JWT"
    claims = first.claims
    assert claims["iss"] == claims["sub"] == "jwt-app"
    assert claims["aud"] == TOKEN
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert claims["jti"]
    assert first.claims["jti"] != second.claims["jti"]
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_token_response_without_patient_is_missing_launch_context(
    smart_config: SmartConfiguration, make_settings
) -> None:
    body = _token_body()
    del body["patient"]
    responses.post(TOKEN, json=body)

    with pytest.raises(MissingLaunchContext) as excinfo:
        complete_authorization(_pending(), "c", smart_config, settings=make_settings())
    assert excinfo.value.title == "No patient was selected"


@responses.activate
def test_token_error_response_is_token_error(smart_config: SmartConfiguration, make_settings) -> None:
    responses.post(TOKEN, status=400, json={"error": "invalid_grant", "error_description": "code expired"})

    with pytest.raises(TokenError, match="invalid_grant"):
        complete_authorization(_pending(), "c", smart_config, settings=make_settings())


@responses.activate
def test_unreachable_token_endpoint_is_token_error(smart_config: SmartConfiguration, make_settings) -> None:
    import requests

    responses.post(TOKEN, body=requests.ConnectionError("refused"))

    with pytest.raises(TokenError, match="ConnectionError"):
        complete_authorization(_pending(), "c", smart_config, settings=make_settings())


# -- the id_token ----------------------------------------------------------------------------------------------
def _id_token(key: RSAKey, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISS,
        "aud": "p2p-brief",
        "sub": "u1",
        "iat": now,
        "exp": now + 300,
        "fhirUser": f"{ISS}/Practitioner/123",
        **claims,
    }
    return jwt.encode({"alg": "RS256", "kid": key.kid}, body, key)


def _serve_jwks(key: RSAKey) -> None:
    responses.get(JWKS, json=KeySet([key]).as_dict(private=False))


@responses.activate
def test_verified_id_token_gives_fhir_user(smart_config: SmartConfiguration, make_settings, ehr_key: RSAKey) -> None:
    _serve_jwks(ehr_key)
    responses.post(TOKEN, json=_token_body(id_token=_id_token(ehr_key)))

    context = complete_authorization(_pending(), "c", smart_config, settings=make_settings())

    assert context.fhir_user == "Practitioner/123"
    assert any(c.request.url == JWKS for c in responses.calls)


@responses.activate
def test_id_token_signed_by_another_key_is_refused(
    smart_config: SmartConfiguration, make_settings, ehr_key: RSAKey, other_key: RSAKey
) -> None:
    _serve_jwks(ehr_key)
    forged = jwt.encode({"alg": "RS256", "kid": ehr_key.kid}, {**_claims(), "fhirUser": "Practitioner/999"}, other_key)
    responses.post(TOKEN, json=_token_body(id_token=forged))

    with pytest.raises(IdTokenInvalid):
        complete_authorization(_pending(), "c", smart_config, settings=make_settings())


def _claims() -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISS, "aud": "p2p-brief", "sub": "u1", "iat": now, "exp": now + 300}


@responses.activate
def test_tampered_id_token_is_refused(smart_config: SmartConfiguration, make_settings, ehr_key: RSAKey) -> None:
    _serve_jwks(ehr_key)
    header, payload, signature = _id_token(ehr_key).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["fhirUser"] = f"{ISS}/Practitioner/999"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    responses.post(TOKEN, json=_token_body(id_token=f"{header}.{forged_payload}.{signature}"))

    with pytest.raises(IdTokenInvalid):
        complete_authorization(_pending(), "c", smart_config, settings=make_settings())


@responses.activate
def test_id_token_for_another_app_is_refused(smart_config: SmartConfiguration, make_settings, ehr_key: RSAKey) -> None:
    _serve_jwks(ehr_key)
    responses.post(TOKEN, json=_token_body(id_token=_id_token(ehr_key, aud="someone-else")))

    with pytest.raises(IdTokenInvalid, match="another app"):
        complete_authorization(_pending(), "c", smart_config, settings=make_settings())


@responses.activate
def test_id_token_from_another_issuer_is_refused(
    smart_config: SmartConfiguration, make_settings, ehr_key: RSAKey
) -> None:
    _serve_jwks(ehr_key)
    responses.post(TOKEN, json=_token_body(id_token=_id_token(ehr_key, iss="https://evil.example/fhir")))

    with pytest.raises(IdTokenInvalid, match="another server"):
        complete_authorization(_pending(), "c", smart_config, settings=make_settings())


@responses.activate
def test_expired_id_token_is_refused(smart_config: SmartConfiguration, make_settings, ehr_key: RSAKey) -> None:
    _serve_jwks(ehr_key)
    old = int(time.time()) - 3600
    responses.post(TOKEN, json=_token_body(id_token=_id_token(ehr_key, iat=old, exp=old + 300)))

    with pytest.raises(IdTokenInvalid, match="expired"):
        complete_authorization(_pending(), "c", smart_config, settings=make_settings())


@responses.activate
def test_jwks_uri_from_openid_configuration(smart_config: SmartConfiguration, make_settings, ehr_key: RSAKey) -> None:
    config = dataclasses.replace(smart_config, jwks_uri=None)
    responses.get(f"{ISS}/.well-known/openid-configuration", json={"issuer": ISS, "jwks_uri": JWKS})
    _serve_jwks(ehr_key)
    responses.post(TOKEN, json=_token_body(id_token=_id_token(ehr_key)))

    context = complete_authorization(_pending(), "c", config, settings=make_settings())

    assert context.fhir_user == "Practitioner/123"
