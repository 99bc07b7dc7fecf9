"""Shared fixtures for the unit tests: one fake EHR base URL, settings, a SMART configuration, signing keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from smart_app.config import load_settings
from smart_app.smart.discovery import SmartConfiguration

ISS = "https://ehr.example/fhir"
AUTHORIZE = "https://ehr.example/oauth/authorize"
TOKEN = "https://ehr.example/oauth/token"
JWKS = "https://ehr.example/oauth/jwks"


@pytest.fixture
def make_settings() -> Callable[..., dict[str, Any]]:
    """Settings from defaults plus overrides, ignoring the process environment."""

    def build(**overrides: Any) -> dict[str, Any]:
        return load_settings(overrides, environ={})

    return build


@pytest.fixture
def smart_config() -> SmartConfiguration:
    return SmartConfiguration(
        iss=ISS,
        token_endpoint=TOKEN,
        authorization_endpoint=AUTHORIZE,
        capabilities=frozenset({"launch-ehr", "permission-v2"}),
        code_challenge_methods=("S256",),
        issuer=ISS,
        jwks_uri=JWKS,
    )


def _rsa_key() -> RSAKey:
    key = RSAKey.generate_key(2048)
    key.ensure_kid()
    return key


@pytest.fixture(scope="session")
def client_key() -> RSAKey:
    """The app's private_key_jwt key."""
    return _rsa_key()


@pytest.fixture(scope="session")
def ehr_key() -> RSAKey:
    """The EHR's id_token signing key."""
    return _rsa_key()


@pytest.fixture(scope="session")
def other_key() -> RSAKey:
    """A key the EHR does not publish."""
    return _rsa_key()
