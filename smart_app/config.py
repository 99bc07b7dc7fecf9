"""Settings: safe defaults for the demo, overridden by ``P2P_``-prefixed environment variables, then by tests."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import time
from pathlib import Path
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
    "PAYER_REGISTRY": None,  # YAML: each payer's own API as it registered the practice (`p2p-brief sync --payer`)
    "ALLOWED_ISS": [],  # FHIR base URLs the app will launch from; anything else is refused unfetched
    "EHR_ORIGINS": [],  # origins allowed to frame the app (CSP frame-ancestors)
    "AUTH_ORIGINS": [],  # other origins an EHR's sign-in may live on (e.g. Oracle's authorization.cerner.com)
    "WRITE_PROFILES": {},  # iss -> us-core | epic | oracle-health
    "PUBLIC_URL": None,  # the app's external base URL; redirect_uri = PUBLIC_URL + /callback
    "TENANT_ALIASES": {},  # other FHIR base URL -> the tenant's: one EHR reached under several addresses
    # HTTP to the EHR
    "FHIR_TIMEOUT": 15.0,
    "FHIR_MAX_WORKERS": 8,
    "FHIR_MAX_RETRIES": 2,
    "FHIR_PAGE_LIMIT": 20,
    "FHIR_MAX_RESPONSE_BYTES": 50 * 1024 * 1024,  # one answer past this is abandoned unread (memory stays bounded)
    "FHIR_REQUEST_DEADLINE": 30.0,  # seconds of wall clock for one request and its whole answer
    "FHIR_SYNC_PAGE_LIMIT": 1000,  # pages one `p2p-brief sync` search follows before it stops and says so
    "BRIEF_BUDGET_SECONDS": 10.0,  # a brief shows what the EHR sent within this time and names what it did not
    "LETTER_WAIT_SECONDS": 20.0,  # an upload waits this long for its letter to be read, then the page refreshes
    "LETTER_READERS": 2,  # letters read at once by one server process (OCR takes a core each); the rest wait
    # Storage and sessions
    "SECRET_KEY": None,  # Flask's secret; `p2p-brief serve` makes one per run when unset (all workers share it)
    "DATABASE_URL": None,  # default: a SQLite file in the user's data folder (default_database_url)
    "SESSION_MINUTES": 30,  # a launch ends after this long without activity
    "SESSION_MAX_HOURS": 12.0,  # and this long after its sign-in, however active
    "INSECURE_COOKIES": False,  # the localhost demo only: cookies without Secure (and so SameSite=Lax)
    "TIMEZONE": "America/New_York",
    "PRACTICE_STATE": None,  # two-letter state for reviewer-rights rules when the patient's address has none
    # Written requests
    "PRACTICE_NAME": None,  # the practice's name on letters and the patient summary
    "CALLBACK_PHONE": None,  # the physician's direct callback line (else the ordering provider's phone on the Claim)
    "CALL_BLOCKS": "12:15-12:45,17:00-17:30",  # daily times the physician is free for a P2P call (practice zone)
}

_LIST_KEYS = ("ALLOWED_ISS", "EHR_ORIGINS", "AUTH_ORIGINS")


def _parse_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]
    return [str(item).rstrip("/") for item in value or []]


WRITE_PROFILE_NAMES = ("us-core", "epic", "oracle-health")


def _parse_profiles(value: Any) -> dict[str, str]:
    """``P2P_WRITE_PROFILES="https://a/fhir=epic,https://b/fhir=oracle-health"`` -> {iss: profile}."""
    if isinstance(value, Mapping):
        profiles = {str(k).rstrip("/"): str(v) for k, v in value.items()}
    else:
        pairs = (item.rsplit("=", 1) for item in str(value).split(",") if "=" in item)
        profiles = {iss.strip().rstrip("/"): profile.strip() for iss, profile in pairs}
    unknown = sorted({p for p in profiles.values() if p not in WRITE_PROFILE_NAMES})
    if unknown:
        raise ValueError(
            f"P2P_WRITE_PROFILES names unknown profile(s) {', '.join(unknown)}; "
            f"expected one of {', '.join(WRITE_PROFILE_NAMES)}"
        )
    return profiles


def _parse_aliases(value: Any) -> dict[str, str]:
    """``P2P_TENANT_ALIASES="https://launcher/v/r4/fhir=https://ehr/fhir,..."`` -> {alias: tenant}. A tenant is
    the one FHIR base URL the app keys one EHR's records by; it may not itself be an alias of another."""
    if isinstance(value, Mapping):
        aliases = {str(k).strip().rstrip("/"): str(v).strip().rstrip("/") for k, v in value.items()}
    else:
        pairs = (item.split("=", 1) for item in str(value).split(",") if "=" in item)
        aliases = {alias.strip().rstrip("/"): tenant.strip().rstrip("/") for alias, tenant in pairs}
    chained = sorted(t for t in set(aliases.values()) if t in aliases)
    if chained:
        raise ValueError(f"P2P_TENANT_ALIASES: {', '.join(chained)} is both a tenant and an alias of another")
    return {alias: tenant for alias, tenant in aliases.items() if alias != tenant}


def tenant_of(iss: str, aliases: Mapping[str, str]) -> str:
    """The tenant (the EHR's one FHIR base URL its records are kept under) of a launch's ``iss``."""
    iss = iss.rstrip("/")
    return aliases.get(iss, iss)


def default_database_url(environ: Mapping[str, str] | None = None) -> str:
    """The app's own SQLite file when ``P2P_DATABASE_URL`` is unset: under ``$XDG_DATA_HOME/p2p-brief`` (by
    default ``~/.local/share/p2p-brief``), a folder only the app's user can open, never the package's folder."""
    environ = os.environ if environ is None else environ
    data_home = Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{data_home / 'p2p-brief' / 'p2p-brief.sqlite3'}"


def _parse_blocks(value: Any) -> list[tuple[time, time]]:
    """``"12:15-12:45,17:00-17:30"`` -> [(12:15, 12:45), (17:00, 17:30)]; a malformed block stops the app at start."""
    if isinstance(value, list):
        return value
    blocks = []
    for item in str(value).split(","):
        start, _, end = item.strip().partition("-")
        try:
            block = (time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        except ValueError:
            raise ValueError(f"P2P_CALL_BLOCKS: {item.strip()!r} is not HH:MM-HH:MM") from None
        if block[1] <= block[0]:
            raise ValueError(f"P2P_CALL_BLOCKS: {item.strip()!r} ends before it starts")
        blocks.append(block)
    return blocks


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
    settings["DATABASE_URL"] = settings["DATABASE_URL"] or default_database_url(environ)
    for key in _LIST_KEYS:
        settings[key] = _parse_list(settings[key])
    settings["TENANT_ALIASES"] = _parse_aliases(settings["TENANT_ALIASES"])
    profiles = _parse_profiles(settings["WRITE_PROFILES"])
    for alias, tenant in settings["TENANT_ALIASES"].items():  # one EHR writes one way, under either address
        if tenant in profiles:
            profiles.setdefault(alias, profiles[tenant])
        elif alias in profiles:  # set only for the launch's address: outbox flush, keyed by tenant, needs it too
            profiles[tenant] = profiles[alias]
    settings["WRITE_PROFILES"] = profiles
    settings["CALL_BLOCKS"] = _parse_blocks(settings["CALL_BLOCKS"])
    settings["INSECURE_COOKIES"] = str(settings["INSECURE_COOKIES"]).lower() in ("1", "true", "yes")
    for key in ("FHIR_TIMEOUT", "FHIR_REQUEST_DEADLINE", "BRIEF_BUDGET_SECONDS", "SESSION_MAX_HOURS",
                "LETTER_WAIT_SECONDS"):  # fmt: skip
        settings[key] = float(settings[key])
    for key in (
        "FHIR_MAX_WORKERS",
        "FHIR_MAX_RETRIES",
        "FHIR_PAGE_LIMIT",
        "FHIR_MAX_RESPONSE_BYTES",
        "FHIR_SYNC_PAGE_LIMIT",
        "SESSION_MINUTES",
        "LETTER_READERS",
    ):
        settings[key] = int(settings[key])
    return settings
