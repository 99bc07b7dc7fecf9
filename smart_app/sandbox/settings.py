"""Configuration of the demo EHR: the apps registered with it and how strictly it behaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from smart_app.content import content_dir

CLIENT_AUTH_METHODS = ("none", "client_secret_basic", "private_key_jwt")


@dataclass
class RegisteredClient:
    """An app registered with the demo EHR, as an EHR administrator would register it."""

    client_id: str
    redirect_uris: list[str]
    launch_url: str
    token_endpoint_auth_method: str = "none"  # noqa: S105
    client_secret: str | None = None
    jwks: dict | None = None
    jwks_uri: str | None = None
    name: str = "P2P Brief"

    def check(self) -> None:
        """Raise ``ValueError`` if the registration cannot work (unknown auth method, no secret or keys)."""
        method = self.token_endpoint_auth_method
        if method not in CLIENT_AUTH_METHODS:
            raise ValueError(f"client {self.client_id!r}: unknown token_endpoint_auth_method {method!r}")
        if method == "client_secret_basic" and not self.client_secret:
            raise ValueError(f"client {self.client_id!r}: client_secret_basic needs a client_secret")
        if method == "private_key_jwt" and not (self.jwks or self.jwks_uri):
            raise ValueError(f"client {self.client_id!r}: private_key_jwt needs jwks or jwks_uri")
        if not self.redirect_uris:
            raise ValueError(f"client {self.client_id!r}: at least one redirect URI is needed")


@dataclass
class EhrSettings:
    """How one demo EHR runs; ``base_url`` is its own origin, the FHIR base is ``base_url + "/fhir"``."""

    base_url: str
    clients: list[RegisteredClient]
    inspector_token: str
    profile: str = "us-core"
    bundles_dir: Path | None = None
    access_token_seconds: int = 3600
    require_consent: bool = True
    latency_ms: int = 0
    signed_in_user: str = "demo-clinician"  # the Practitioner id the EHR's user is signed in as
    sample_cases: int = 0  # copies of the demo charts with new patients, payers and decision times
    now: datetime | None = None  # the moment the demo charts are dated for (aware); None: when the EHR starts
    also_served_at: tuple[str, ...] = ()  # other origins that reach this EHR (as the SMART launcher, or Epic)
    payer_api: bool = False  # serve a payer's own API too (PDex $davinci-data-export, PAS Claim/$inquire)

    @property
    def origin(self) -> str:
        """The EHR origin without a trailing slash."""
        return self.base_url.rstrip("/")

    @property
    def fhir_base(self) -> str:
        """The FHIR base URL: the ``iss`` of every launch and the only ``aud`` the EHR accepts."""
        return self.origin + "/fhir"

    @property
    def fhir_bases(self) -> list[str]:
        """Every FHIR base URL this EHR answers under (its own first): each is accepted as ``aud``, and links
        in an answer name the base the request came in on."""
        return [self.fhir_base, *(o.rstrip("/") + "/fhir" for o in self.also_served_at)]

    def base_for(self, request_root: str) -> str:
        """The FHIR base a request arrived under (``request.root_url``), or the EHR's own when it is not one."""
        asked = request_root.rstrip("/") + "/fhir"
        return asked if asked in self.fhir_bases else self.fhir_base

    @property
    def data_dir(self) -> Path:
        """The folder of demo Bundles to load."""
        return self.bundles_dir if self.bundles_dir is not None else content_dir("fhir") / "demo"

    def client(self, client_id: str | None) -> RegisteredClient | None:
        """The registered client with this id (the first one when ``client_id`` is None)."""
        if client_id is None:
            return self.clients[0] if self.clients else None
        return next((c for c in self.clients if c.client_id == client_id), None)
