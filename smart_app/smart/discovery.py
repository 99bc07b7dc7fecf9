"""Find an EHR's OAuth endpoints: ``.well-known/smart-configuration``, else the CapabilityStatement's oauth-uris.

SMART App Launch 2.2 (conformance.md) makes ``{iss}/.well-known/smart-configuration`` the source of truth;
older servers only publish the ``oauth-uris`` extension on ``CapabilityStatement.rest.security``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from smart_app.errors import DiscoveryError, UntrustedEndpoint

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
FHIR_JSON = "application/fhir+json, application/json;q=0.9"


@dataclass(frozen=True)
class SmartConfiguration:
    """The parts of an EHR's SMART configuration the app acts on."""

    iss: str
    token_endpoint: str
    authorization_endpoint: str | None
    capabilities: frozenset[str] = frozenset()
    code_challenge_methods: tuple[str, ...] = ()
    issuer: str | None = None
    jwks_uri: str | None = None
    scopes_supported: tuple[str, ...] = ()
    source: str = "smart-configuration"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def scope_version(self) -> int:
        """2 when the server advertises ``permission-v2`` (``.rs``/``.c`` scopes), else 1 (``.read``/``.write``)."""
        return 2 if "permission-v2" in self.capabilities else 1


def _parse_smart_configuration(iss: str, body: Any) -> SmartConfiguration:
    if not isinstance(body, dict) or not isinstance(body.get("token_endpoint"), str):
        raise DiscoveryError(f"{iss}/.well-known/smart-configuration has no token_endpoint")
    return SmartConfiguration(
        iss=iss,
        token_endpoint=body["token_endpoint"],
        authorization_endpoint=body.get("authorization_endpoint"),
        capabilities=frozenset(c for c in body.get("capabilities") or [] if isinstance(c, str)),
        code_challenge_methods=tuple(body.get("code_challenge_methods_supported") or ()),
        issuer=body.get("issuer"),
        jwks_uri=body.get("jwks_uri"),
        scopes_supported=tuple(body.get("scopes_supported") or ()),
        source="smart-configuration",
        extra=body,
    )


def _parse_capability_statement(iss: str, body: Any) -> SmartConfiguration:
    uris: dict[str, str] = {}
    for rest in (body or {}).get("rest") or []:
        for ext in ((rest.get("security") or {}).get("extension")) or []:
            if ext.get("url") == OAUTH_URIS:
                uris.update({e.get("url"): e.get("valueUri") for e in ext.get("extension") or []})
    if not uris.get("token"):
        raise DiscoveryError(f"{iss} publishes neither smart-configuration nor oauth-uris in its CapabilityStatement")
    return SmartConfiguration(
        iss=iss,
        token_endpoint=uris["token"],
        authorization_endpoint=uris.get("authorize"),
        source="capability-statement",
    )


def _get_json(http: requests.Session, url: str, timeout: float) -> Any | None:
    try:
        response = http.get(url, headers={"Accept": FHIR_JSON}, timeout=timeout)
    except requests.RequestException as exc:
        raise DiscoveryError(f"could not reach {url}: {type(exc).__name__}") from exc
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def discover(iss: str, *, http: requests.Session | None = None, timeout: float = 10.0) -> SmartConfiguration:
    """Read ``iss``'s SMART configuration, falling back to its CapabilityStatement; raise ``DiscoveryError``."""
    http = http or requests.Session()
    body = _get_json(http, f"{iss}/.well-known/smart-configuration", timeout)
    if isinstance(body, dict) and body.get("token_endpoint"):
        return _parse_smart_configuration(iss, body)
    metadata = _get_json(http, f"{iss}/metadata", timeout)
    if metadata is None:
        raise DiscoveryError(f"{iss} answered neither .well-known/smart-configuration nor /metadata")
    return _parse_capability_statement(iss, metadata)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def check_endpoints(config: SmartConfiguration, trusted_origins: Iterable[str] = ()) -> SmartConfiguration:
    """Refuse a configuration whose token, authorization or key endpoint is not on the FHIR server's own origin
    or one of ``trusted_origins``: a discovery document that sends the code, the PKCE verifier and the client's
    credentials elsewhere is an attack (or a misconfiguration), never followed."""
    allowed = {_origin(config.iss), *(_origin(o) for o in trusted_origins)}
    for name, url in (("token", config.token_endpoint), ("authorization", config.authorization_endpoint),
                      ("key (jwks_uri)", config.jwks_uri)):  # fmt: skip
        if url is not None and not isinstance(url, str):
            raise DiscoveryError(f"The EHR's SMART configuration gives its {name} endpoint as something not a URL.")
        if url and _origin(url) not in allowed:
            raise UntrustedEndpoint(
                f"The EHR's SMART configuration puts its {name} endpoint on {urlsplit(url).netloc or url[:60]}, "
                f"not on {urlsplit(config.iss).netloc}."
            )
    return config


class DiscoveryCache:
    """Discovery results per ``iss``, kept for ``ttl`` seconds; safe to share between request threads."""

    def __init__(self, ttl: float = 3600.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, SmartConfiguration]] = {}
        self._lock = threading.Lock()

    def get(
        self,
        iss: str,
        *,
        http: requests.Session | None = None,
        timeout: float = 10.0,
        trusted_origins: Iterable[str] = (),
    ) -> SmartConfiguration:
        """Return the cached configuration for ``iss`` or discover it now; either way its endpoints are checked
        against the FHIR server's origin and ``trusted_origins`` (``UntrustedEndpoint``)."""
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(iss)
        if cached and now - cached[0] < self.ttl:
            return check_endpoints(cached[1], trusted_origins)
        config = check_endpoints(discover(iss, http=http, timeout=timeout), trusted_origins)
        with self._lock:
            self._entries[iss] = (now, config)
        return config

    def clear(self) -> None:
        """Forget every cached configuration."""
        with self._lock:
            self._entries.clear()
