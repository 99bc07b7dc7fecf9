"""What the demo EHR's authorization server remembers: clients, launches, codes, tokens, assertion ids."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin

from .settings import RegisteredClient

LAUNCH_SECONDS = 300
CODE_SECONDS = 60
CONSENT_SECONDS = 600


@dataclass(frozen=True)
class DemoUser:
    """The signed-in clinician: a demo Practitioner."""

    practitioner_id: str

    @property
    def reference(self) -> str:
        """``Practitioner/<id>``."""
        return f"Practitioner/{self.practitioner_id}"


@dataclass
class LaunchContext:
    """The chart context one launch hands to the app (SMART App Launch §launch context)."""

    patient: str | None
    encounter: str | None
    user: DemoUser | None
    smart_style_url: str
    need_patient_banner: bool = False
    client_id: str | None = None

    def token_fields(self) -> dict[str, Any]:
        """The launch context parameters of a token response."""
        fields: dict[str, Any] = {
            "need_patient_banner": self.need_patient_banner,
            "smart_style_url": self.smart_style_url,
        }
        if self.patient:
            fields["patient"] = self.patient
        if self.encounter:
            fields["encounter"] = self.encounter
        return fields


class OAuthClient(ClientMixin):
    """Authlib's view of a registered client."""

    def __init__(self, registered: RegisteredClient) -> None:
        self.registered = registered
        self.client_id = registered.client_id

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # SMART requires redirect_uri on every authorize request

    def get_allowed_scope(self, scope: str | None) -> str | None:
        return scope  # the grants narrow scopes (scopes.grantable); None here would mean invalid_scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.registered.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        expected = self.registered.client_secret or ""
        return bool(expected) and secrets.compare_digest(expected, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method == self.registered.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "client_credentials":
            return self.registered.token_endpoint_auth_method == "private_key_jwt"  # noqa: S105
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    """An issued code: single use, valid for ``CODE_SECONDS``."""

    code: str
    client_id: str
    redirect_uri: str | None
    scope: str
    user: DemoUser | None
    context: LaunchContext | None
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    issued_at: float
    used: bool = False

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.issued_at)


@dataclass
class IssuedToken(TokenMixin):
    """An access token and its refresh token, with the context they were issued for."""

    access_token: str
    refresh_token: str | None
    client_id: str
    scope: str
    user: DemoUser | None
    context: LaunchContext | None
    issued_at: float
    expires_in: int
    clock: Callable[[], float]
    code: str | None = None
    access_revoked: bool = False
    refresh_revoked: bool = False
    read_only: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.clock() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.access_revoked

    def get_user(self) -> DemoUser | None:
        return self.user

    def get_client(self) -> ClientMixin | None:
        return None

    @property
    def patient(self) -> str | None:
        """The patient a ``patient/`` scope is confined to."""
        return self.context.patient if self.context else None

    @property
    def is_system(self) -> bool:
        """Issued by SMART Backend Services (client_credentials): no user, ``system/`` scopes."""
        return self.user is None and self.context is None


@dataclass
class _Issued:
    value: Any
    issued_at: float
    used: bool = False


@dataclass
class OAuthRegistry:
    """Thread-safe memory of everything the authorization server issued; ``clock`` is replaceable in tests."""

    clock: Callable[[], float] = time.time
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _launches: dict[str, _Issued] = field(default_factory=dict)
    _tickets: dict[str, _Issued] = field(default_factory=dict)
    _codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    _tokens: dict[str, IssuedToken] = field(default_factory=dict)
    _refresh: dict[str, IssuedToken] = field(default_factory=dict)
    _jtis: dict[str, float] = field(default_factory=dict)

    def now(self) -> float:
        """The current time by ``clock`` (looked up on each call, so tests can move time)."""
        return self.clock()

    def issue_launch(self, context: LaunchContext) -> str:
        """Record a launch context and return its opaque ``launch`` value."""
        launch = secrets.token_urlsafe(24)
        with self._lock:
            self._launches[launch] = _Issued(context, self.clock())
        return launch

    def peek_launch(self, launch: str) -> LaunchContext | None:
        """The context of a launch that is known, unexpired and unused; else None."""
        with self._lock:
            issued = self._launches.get(launch)
            if issued is None or issued.used or self.clock() > issued.issued_at + LAUNCH_SECONDS:
                return None
            return issued.value

    def consume_launch(self, launch: str) -> LaunchContext | None:
        """Mark a launch used (atomically) and return its context; None if it was not usable."""
        with self._lock:
            issued = self._launches.get(launch)
            if issued is None or issued.used or self.clock() > issued.issued_at + LAUNCH_SECONDS:
                return None
            issued.used = True
            return issued.value

    def issue_consent_ticket(self, fingerprint: str) -> str:
        """A one-time ticket binding the consent form to the authorize request it was shown for."""
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            self._tickets[ticket] = _Issued(fingerprint, self.clock())
        return ticket

    def redeem_consent_ticket(self, ticket: str, fingerprint: str) -> bool:
        """Use a consent ticket once; False when unknown, used, expired or for another request."""
        with self._lock:
            issued = self._tickets.pop(ticket, None)
        return bool(issued and issued.value == fingerprint and self.clock() <= issued.issued_at + CONSENT_SECONDS)

    def save_code(self, code: AuthorizationCode) -> None:
        """Remember an authorization code."""
        with self._lock:
            self._codes[code.code] = code

    def claim_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """Take a code for a token request: once, within ``CODE_SECONDS``, by the client it was issued to.

        Presenting a used code again revokes every token issued from it (RFC 6749 §4.1.2).
        """
        with self._lock:
            found = self._codes.get(code)
            if found is None or found.client_id != client_id:
                return None
            if found.used:
                for token in self._tokens.values():
                    if token.code == code:
                        token.access_revoked = token.refresh_revoked = True
                return None
            found.used = True
            if self.clock() > found.issued_at + CODE_SECONDS:
                return None
            return found

    def nonce_used(self, client_id: str, nonce: str) -> bool:
        """Whether a code was already issued to this client with this nonce."""
        with self._lock:
            return any(c.client_id == client_id and c.nonce == nonce for c in self._codes.values())

    def save_token(self, token: IssuedToken) -> None:
        """Remember an issued token (and its refresh token)."""
        with self._lock:
            self._tokens[token.access_token] = token
            if token.refresh_token:
                self._refresh[token.refresh_token] = token

    def token(self, access_token: str) -> IssuedToken | None:
        """The token record for an access token string."""
        with self._lock:
            return self._tokens.get(access_token)

    def by_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        """The live token record a refresh token belongs to, or None if unknown or revoked."""
        with self._lock:
            found = self._refresh.get(refresh_token)
            return found if found and not found.refresh_revoked else None

    def revoke_refresh(self, token: IssuedToken) -> None:
        """Revoke a refresh token after rotation (the access token lives on until it expires)."""
        with self._lock:
            token.refresh_revoked = True

    def first_use_of_jti(self, client_id: str, jti: str, expires_at: float) -> bool:
        """Record a client assertion's ``jti``; False if the same client used it before."""
        key = f"{client_id}\x00{jti}"
        now = self.clock()
        with self._lock:
            self._jtis = {k: exp for k, exp in self._jtis.items() if exp > now - 600}
            if key in self._jtis:
                return False
            self._jtis[key] = expires_at
            return True
