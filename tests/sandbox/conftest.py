"""Fixtures for the demo EHR: an app per test, registered clients, and a SMART launch walker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ehr_helpers import APP, DATA, EHR, INSPECTOR, REDIRECT, SmartFlow, signing_key
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import Key

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app


@pytest.fixture(scope="session")
def backend_keys() -> dict[str, Key]:
    """The backend client's private keys: one RS384, one ES384 (registered as one JWKS)."""
    return {"RS384": signing_key("RSA"), "ES384": signing_key("EC")}


@pytest.fixture
def clients(backend_keys: dict[str, Key]) -> list[RegisteredClient]:
    """A public app (the default), a confidential symmetric one and a private_key_jwt one."""
    # registered without "alg", so only the EHR's own RS384/ES384 rule refuses other algorithms
    jwks = {"keys": [{n: v for n, v in k.as_dict(private=False).items() if n != "alg"} for k in backend_keys.values()]}
    return [
        RegisteredClient("p2p-public", [REDIRECT], APP + "/launch"),
        RegisteredClient("p2p-secret", [REDIRECT], APP + "/launch", "client_secret_basic", client_secret="s3cret"),
        RegisteredClient("p2p-backend", [REDIRECT], APP + "/launch", "private_key_jwt", jwks=jwks),
    ]


@pytest.fixture
def make_ehr(clients: list[RegisteredClient]) -> Callable[..., Flask]:
    """Build a demo EHR over the test bundle; keyword arguments override EhrSettings fields."""

    def build(**overrides: Any) -> Flask:
        settings = EhrSettings(base_url=EHR, clients=clients, inspector_token=INSPECTOR, bundles_dir=DATA)
        for name, value in overrides.items():
            setattr(settings, name, value)
        return create_ehr_app(settings)

    return build


@pytest.fixture
def ehr_app(make_ehr: Callable[..., Flask]) -> Flask:
    return make_ehr()


@pytest.fixture
def client(ehr_app: Flask) -> FlaskClient:
    return ehr_app.test_client()


@pytest.fixture
def flow(client: FlaskClient) -> SmartFlow:
    return SmartFlow(client)
