"""The token endpoint: code exchange with PKCE, id_token, context, refresh rotation, Backend Services."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from ehr_helpers import EHR, FHIR, REDIRECT, SmartFlow, client_assertion
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import Key, KeySet, RSAKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def test_exchange_returns_the_launch_context(flow: SmartFlow) -> None:
    code = flow.code(flow.authorize_params(flow.launch()))
    answer = flow.exchange(code)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Pragma"] == "no-cache"
    token = answer.get_json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["patient"] == "pat-alvarez"
    assert token["encounter"] == "enc-new"  # the most recent of the patient's encounters
    assert token["need_patient_banner"] is False
    assert token["smart_style_url"] == EHR + "/smart-style.json"
    assert "patient/Condition.rs" in token["scope"].split()
    assert token["refresh_token"]  # online_access was requested


def test_id_token_verifies_against_the_jwks(client: FlaskClient, flow: SmartFlow) -> None:
    token = flow.token(nonce="n-0S6_WzA2Mj")
    keys = KeySet.import_key_set(client.get("/fhir/.well-known/jwks.json").get_json())
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256" and decoded.header["kid"] == keys.keys[0].kid
    claims = decoded.claims
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": FHIR},
        aud={"essential": True, "value": "p2p-public"},
        exp={"essential": True},
    ).validate(claims)
    assert claims["fhirUser"] == FHIR + "/Practitioner/demo-clinician"
    assert claims["sub"] == "demo-clinician"
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["iat"] <= claims["exp"]


def test_no_id_token_without_fhir_user(flow: SmartFlow) -> None:
    assert "id_token" not in flow.token(scope="launch openid patient/Patient.r")


def test_no_refresh_token_without_online_or_offline_access(flow: SmartFlow) -> None:
    assert "refresh_token" not in flow.token(scope="launch patient/Patient.r")


def test_code_is_single_use(flow: SmartFlow) -> None:
    code = flow.code(flow.authorize_params(flow.launch()))
    first = flow.exchange(code)
    assert first.status_code == 200
    second = flow.exchange(code)
    assert second.status_code == 400 and second.get_json()["error"] == "invalid_grant"
    # replaying a code revokes what it produced (RFC 6749 §4.1.2)
    access = first.get_json()["access_token"]
    assert (
        flow.client.get("/fhir/Patient/pat-alvarez", headers={"Authorization": f"Bearer {access}"}).status_code == 401
    )


def test_code_expires_after_sixty_seconds(ehr_app: Flask, flow: SmartFlow) -> None:
    registry = ehr_app.extensions["demo_ehr"].registry
    code = flow.code(flow.authorize_params(flow.launch()))
    start = registry.clock()
    registry.clock = lambda: start + 61
    assert flow.exchange(code).get_json()["error"] == "invalid_grant"


def test_wrong_verifier_is_refused(flow: SmartFlow) -> None:
    code = flow.code(flow.authorize_params(flow.launch()))
    answer = flow.exchange(code, code_verifier="x" * 64)
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_grant"


def test_missing_verifier_is_refused(flow: SmartFlow) -> None:
    code = flow.code(flow.authorize_params(flow.launch()))
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "p2p-public",
    }
    assert flow.client.post("/oauth/token", data=form).get_json()["error"] == "invalid_request"


def test_redirect_uri_must_match_the_authorize_request(flow: SmartFlow) -> None:
    code = flow.code(flow.authorize_params(flow.launch()))
    assert flow.exchange(code, redirect_uri=REDIRECT + "x").get_json()["error"] == "invalid_grant"


def test_refresh_rotates_the_refresh_token(flow: SmartFlow) -> None:
    first = flow.token()
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": "p2p-public"}
    answer = flow.client.post("/oauth/token", data=form)
    assert answer.status_code == 200
    second = answer.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["patient"] == "pat-alvarez" and second["scope"] == first["scope"]
    replay = flow.client.post("/oauth/token", data=form)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    form["refresh_token"] = second["refresh_token"]
    assert flow.client.post("/oauth/token", data=form).status_code == 200


def test_refresh_may_narrow_but_not_widen_scope(flow: SmartFlow) -> None:
    first = flow.token()
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": "p2p-public"}
    wider = flow.client.post("/oauth/token", data={**form, "scope": first["scope"] + " user/*.rs"})
    assert wider.get_json()["error"] == "invalid_scope"
    narrower = flow.client.post("/oauth/token", data={**form, "scope": "patient/Patient.r online_access"})
    assert narrower.get_json()["scope"] == "patient/Patient.r online_access"


def test_client_secret_basic(flow: SmartFlow) -> None:
    code = flow.code(flow.authorize_params(flow.launch(client_id="p2p-secret"), client_id="p2p-secret"))
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": flow.verifier,
    }
    wrong = {"Authorization": "Basic " + base64.b64encode(b"p2p-secret:nope").decode()}
    assert flow.client.post("/oauth/token", data=form, headers=wrong).status_code == 401
    code = flow.code(flow.authorize_params(flow.launch(client_id="p2p-secret"), client_id="p2p-secret"))
    right = {"Authorization": "Basic " + base64.b64encode(b"p2p-secret:s3cret").decode()}
    answer = flow.client.post("/oauth/token", data={**form, "code": code}, headers=right)
    assert answer.status_code == 200 and answer.get_json()["patient"] == "pat-alvarez"


def test_confidential_client_cannot_pose_as_public(flow: SmartFlow) -> None:
    code = flow.code(flow.authorize_params(flow.launch(client_id="p2p-secret"), client_id="p2p-secret"))
    answer = flow.exchange(code, client_id="p2p-secret")
    assert answer.status_code == 401 and answer.get_json()["error"] == "invalid_client"


def _backend(client: FlaskClient, assertion: str, scope: str = "system/DocumentReference.c system/Patient.rs") -> dict:
    form = {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    answer = client.post("/oauth/token", data=form)
    return {"status": answer.status_code, **answer.get_json()}


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_backend_services_with_private_key_jwt(client: FlaskClient, backend_keys: dict[str, Key], alg: str) -> None:
    token = _backend(
        client,
        client_assertion(backend_keys[alg], alg),
        scope="system/DocumentReference.c system/Patient.rs patient/Condition.rs launch",
    )
    assert token["status"] == 200
    assert token["scope"] == "system/DocumentReference.c system/Patient.rs"
    assert "refresh_token" not in token and "patient" not in token and "id_token" not in token
    read = client.get("/fhir/Patient/pat-brooks", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert read.status_code == 200


def test_backend_assertion_jti_cannot_be_replayed(client: FlaskClient, backend_keys: dict[str, Key]) -> None:
    assertion = client_assertion(backend_keys["RS384"], "RS384", jti="same-jti")
    assert _backend(client, assertion)["status"] == 200
    assert (
        _backend(client, client_assertion(backend_keys["RS384"], "RS384", jti="same-jti"))["error"] == "invalid_client"
    )


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"lifetime": 3600}, "exp more than 5 minutes ahead"),
        ({"lifetime": -120}, "expired"),
        ({"aud": FHIR}, "aud is not the token endpoint"),
        ({"client_id": "p2p-public"}, "a public client"),
    ],
)
def test_backend_assertion_rules(client: FlaskClient, backend_keys: dict[str, Key], kwargs: dict, reason: str) -> None:
    assert _backend(client, client_assertion(backend_keys["RS384"], "RS384", **kwargs))["error"] == "invalid_client", (
        reason
    )


def test_backend_assertion_must_use_rs384_or_es384(client: FlaskClient, backend_keys: dict[str, Key]) -> None:
    material = {k: v for k, v in backend_keys["RS384"].as_dict(private=True).items() if k != "alg"}
    same_key_any_alg = RSAKey.import_key(material)
    assert _backend(client, client_assertion(same_key_any_alg, "RS256"))["error"] == "invalid_client"


def test_backend_assertion_signed_by_another_key(client: FlaskClient) -> None:
    from ehr_helpers import signing_key

    stranger = signing_key("RSA")
    assert _backend(client, client_assertion(stranger, "RS384"))["error"] == "invalid_client"


def test_backend_needs_a_system_scope(client: FlaskClient, backend_keys: dict[str, Key]) -> None:
    answer = _backend(client, client_assertion(backend_keys["RS384"], "RS384"), scope="patient/Patient.rs")
    assert answer["error"] == "invalid_scope"


def test_public_client_cannot_use_client_credentials(client: FlaskClient) -> None:
    answer = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "p2p-public", "scope": "system/Patient.rs"},
    )
    assert answer.status_code in (400, 401) and answer.get_json()["error"] == "invalid_client"


def test_backend_keys_from_a_jwks_url(
    make_ehr: Callable[..., Flask], clients: list, backend_keys: dict[str, Key]
) -> None:
    import responses

    backend = clients[2]
    backend.jwks, backend.jwks_uri = None, "https://app.example/jwks.json"
    client = make_ehr().test_client()
    with responses.RequestsMock() as mocked:
        mocked.get(backend.jwks_uri, json={"keys": [backend_keys["ES384"].as_dict(private=False)]})
        assert _backend(client, client_assertion(backend_keys["ES384"], "ES384"))["status"] == 200
