"""Discovery documents and the CapabilityStatement of the demo EHR."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ehr_helpers import EHR, FHIR
from flask import Flask
from flask.testing import FlaskClient

import smart_app.sandbox as sandbox
from smart_app.smart.scopes import READ_TYPES


def test_public_names_are_exported() -> None:
    assert sorted(sandbox.__all__) == ["EhrSettings", "RegisteredClient", "create_ehr_app"]
    assert all(hasattr(sandbox, name) for name in sandbox.__all__)


def test_smart_configuration(client: FlaskClient) -> None:
    doc = client.get("/fhir/.well-known/smart-configuration").get_json()
    assert doc["issuer"] == FHIR
    assert doc["authorization_endpoint"] == EHR + "/oauth/authorize"
    assert doc["token_endpoint"] == EHR + "/oauth/token"
    assert doc["jwks_uri"] == FHIR + "/.well-known/jwks.json"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["grant_types_supported"]) == {"authorization_code", "refresh_token", "client_credentials"}
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "private_key_jwt"}
    assert doc["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert doc["response_types_supported"] == ["code"]
    for capability in (
        "launch-ehr",
        "launch-standalone",
        "client-confidential-asymmetric",
        "sso-openid-connect",
        "context-ehr-patient",
        "context-ehr-encounter",
        "permission-v1",
        "permission-v2",
    ):
        assert capability in doc["capabilities"]
    for scope in ("launch", "openid", "fhirUser", "offline_access", "patient/Condition.rs", "patient/*.read"):
        assert scope in doc["scopes_supported"]
    # every type the app reads is offered, so a demo launch never shows "The EHR did not grant everything"
    assert [t for t in READ_TYPES if f"patient/{t}.rs" not in doc["scopes_supported"]] == []


def test_openid_configuration_and_jwks(client: FlaskClient) -> None:
    oidc = client.get("/fhir/.well-known/openid-configuration").get_json()
    assert oidc["issuer"] == FHIR
    assert oidc["jwks_uri"] == FHIR + "/.well-known/jwks.json"
    (key,) = client.get("/fhir/.well-known/jwks.json").get_json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"]
    assert "d" not in key and "p" not in key


def test_smart_style(client: FlaskClient) -> None:
    assert client.get("/smart-style.json").get_json()["color_background"].startswith("#")


def test_capability_statement(client: FlaskClient) -> None:
    answer = client.get("/fhir/metadata")
    assert answer.status_code == 200
    assert answer.mimetype == "application/fhir+json"
    statement = answer.get_json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    rest = statement["rest"][0]
    (oauth,) = rest["security"]["extension"]
    assert oauth["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    assert {e["url"]: e["valueUri"] for e in oauth["extension"]} == {
        "authorize": EHR + "/oauth/authorize",
        "token": EHR + "/oauth/token",
    }
    resources = {r["type"]: r for r in rest["resource"]}
    assert {"Patient", "Encounter", "Condition", "Claim", "ClaimResponse", "DocumentReference"} <= set(resources)
    docs = resources["DocumentReference"]
    assert docs["conditionalCreate"] is True
    assert {"code": "create"} in docs["interaction"]
    assert {"name": "patient", "type": "reference"} in docs["searchParam"]
    assert {p["name"] for p in resources["ClaimResponse"]["searchParam"]} >= {
        "_id",
        "patient",
        "use",
        "identifier",
    }


@pytest.mark.parametrize(("profile", "conditional"), [("us-core", True), ("epic", False), ("oracle-health", False)])
def test_conditional_create_follows_the_profile(
    make_ehr: Callable[..., Flask], profile: str, conditional: bool
) -> None:
    statement = make_ehr(profile=profile).test_client().get("/fhir/metadata").get_json()
    docs = next(r for r in statement["rest"][0]["resource"] if r["type"] == "DocumentReference")
    assert docs["conditionalCreate"] is conditional


def test_unknown_profile_is_refused(make_ehr: Callable[..., Flask]) -> None:
    with pytest.raises(ValueError, match="unknown EHR profile"):
        make_ehr(profile="meditech")
