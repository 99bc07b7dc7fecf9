"""Settings: safe defaults for the demo, overridden by ``P2P_``-prefixed environment variables, then by tests."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    # SMART client registration
    "CLIENT_ID": "p2p-brief",
    "CLIENT_SECRET": None,
    "CLIENT_AUTH": "none",  # none | client_secret_basic | private_key_jwt
    "PRIVATE_KEY_FILE": None,  # PEM (RSA or EC P-384) for private_key_jwt
    "ASSERTION_ALG": "RS384",  # RS384 | ES384, per SMART's client-confidential-asymmetric
    "BACKEND_CLIENT_ID": None,  # SMART Backend Services client for `outbox flush` (default: CLIENT_ID)
    "BACKEND_KEY_FILE": None,  # its PEM private key (default: PRIVATE_KEY_FILE)
    "ALLOWED_ISS": [],  # FHIR base URLs the app will launch from; anything else is refused unfetched
    "EHR_ORIGINS": [],  # origins allowed to frame the app (CSP frame-ancestors)
    "WRITE_PROFILES": {},  # iss -> us-core | epic | oracle-health
    "PUBLIC_URL": None,  # the app's external base URL; redirect_uri = PUBLIC_URL + /callback
    # HTTP to the EHR
    "FHIR_TIMEOUT": 15.0,
    "FHIR_MAX_WORKERS": 8,
    "FHIR_MAX_RETRIES": 2,
    "FHIR_PAGE_LIMIT": 20,
    # Storage and sessions
    "DATABASE_URL": "sqlite:///p2p-brief.sqlite3",
    "SESSION_MINUTES": 30,
    "INSECURE_COOKIES": False,  # the localhost demo only: cookies without Secure (and so SameSite=Lax)
    "TIMEZONE": "America/New_York",
    "PRACTICE_STATE": None,  # two-letter state for reviewer-rights rules when the patient's address has none
}

_LIST_KEYS = ("ALLOWED_ISS", "EHR_ORIGINS")


def _parse_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]
    return [str(item).rstrip("/") for item in value or []]


def _parse_profiles(value: Any) -> dict[str, str]:
    """``P2P_WRITE_PROFILES="https://a/fhir=epic,https://b/fhir=oracle-health"`` -> {iss: profile}."""
    if isinstance(value, Mapping):
        return {str(k).rstrip("/"): str(v) for k, v in value.items()}
    pairs = (item.rsplit("=", 1) for item in str(value).split(",") if "=" in item)
    return {iss.strip().rstrip("/"): profile.strip() for iss, profile in pairs}


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Merge defaults, ``P2P_*`` environment variables and ``overrides`` into one normalised dict."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for key in DEFAULTS:
        if f"P2P_{key}" in environ:
            settings[key] = environ[f"P2P_{key}"]
    settings.update(overrides or {})
    for key in _LIST_KEYS:
        settings[key] = _parse_list(settings[key])
    settings["WRITE_PROFILES"] = _parse_profiles(settings["WRITE_PROFILES"])
    settings["INSECURE_COOKIES"] = str(settings["INSECURE_COOKIES"]).lower() in ("1", "true", "yes")
    for key in ("FHIR_TIMEOUT",):
        settings[key] = float(settings[key])
    for key in ("FHIR_MAX_WORKERS", "FHIR_MAX_RETRIES", "FHIR_PAGE_LIMIT", "SESSION_MINUTES"):
        settings[key] = int(settings[key])
    return settings
