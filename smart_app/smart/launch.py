"""The EHR launch: send the browser to the EHR's authorize endpoint, then trade the code for a launch context.

SMART App Launch 2.2, app-launch.md: ``response_type=code``, ``aud`` = the FHIR base, ``launch`` echoed,
``state`` with at least 122 bits of entropy bound to the user's session, PKCE with S256 always (even when the
server omits ``code_challenge_methods_supported``, as athenahealth did). Everything here is kept server-side.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError

from smart_app.config import tenant_of
from smart_app.errors import DiscoveryError, MissingLaunchContext, TokenError
from smart_app.smart.client_auth import oauth_session
from smart_app.smart.discovery import SmartConfiguration
from smart_app.smart.scopes import missing_permissions, requested_scopes
from smart_app.smart.tokens import fhir_user_from_id_token


@dataclass
class PendingAuthorization:
    """What the app remembers between the redirect to ``authorize`` and the callback, keyed by ``state``."""

    iss: str
    state: str
    code_verifier: str
    redirect_uri: str
    scope: str
    launch: str | None = None
    created_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the server-side session."""
        return asdict(self)


@dataclass
class LaunchContext:
    """One live launch: the EHR's context and the tokens, held on the server and never sent to the browser."""

    handle: str
    iss: str
    patient: str | None
    access_token: str
    token_endpoint: str
    scope: str
    expires_at: float | None = None
    refresh_token: str | None = None
    encounter: str | None = None
    fhir_user: str | None = None
    need_patient_banner: bool = True
    smart_style_url: str | None = None
    fhir_context: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    organizations: list[str] | None = None  # the user's practices (PractitionerRole organisations), once asked
    organizations_at: float = 0.0  # when they were asked (time.time())
    user_name: str | None = None  # the signed-in user as people read them; "" once asked and not found
    practice_wide: bool = False  # a sign-in with no patient (the worklist's), or a patient opened from it
    tenant: str = ""  # the EHR the app keeps this launch's records under (``iss``, or the tenant it is an alias of)
    created_at: float = field(default_factory=time.time)
    last_seen: float = field(default_factory=time.time)
    signed_in_at: float = field(default_factory=time.time)  # the sign-in (kept by the launches opened from it)
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def __post_init__(self) -> None:
        self.tenant = self.tenant or self.iss

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the server-side session."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LaunchContext:
        """Rebuild from the session."""
        return cls(**data)

    @property
    def expired(self) -> bool:
        """Whether the access token is past (or within 30 s of) its expiry."""
        return self.expires_at is not None and time.time() > self.expires_at - 30


def begin_authorization(
    config: SmartConfiguration, *, launch: str | None, redirect_uri: str, settings: dict[str, Any]
) -> tuple[str, PendingAuthorization]:
    """Build the authorize URL (PKCE S256, state, aud, launch, scopes) and the record to keep for the callback."""
    if not config.authorization_endpoint:
        raise DiscoveryError(f"{config.iss} advertises no authorization_endpoint")
    context = "patient" if launch else "user"
    scope = requested_scopes(config.scope_version, context=context)
    pending = PendingAuthorization(
        iss=config.iss,
        state=secrets.token_urlsafe(32),
        code_verifier=generate_token(64),
        redirect_uri=redirect_uri,
        scope=scope,
        launch=launch,
    )
    session = oauth_session(settings, scope=scope, redirect_uri=redirect_uri, code_challenge_method="S256")
    extra = {"aud": config.iss}
    if launch:
        extra["launch"] = launch
    url, _ = session.create_authorization_url(
        config.authorization_endpoint, state=pending.state, code_verifier=pending.code_verifier, **extra
    )
    return url, pending


def complete_authorization(
    pending: PendingAuthorization,
    code: str,
    config: SmartConfiguration,
    *,
    settings: dict[str, Any],
) -> LaunchContext:
    """Exchange ``code`` (with the PKCE verifier) for tokens and build the launch context."""
    session = oauth_session(
        settings,
        scope=pending.scope,
        redirect_uri=pending.redirect_uri,
        default_timeout=settings["FHIR_TIMEOUT"],
    )
    try:
        token = session.fetch_token(
            config.token_endpoint, code=code, code_verifier=pending.code_verifier, grant_type="authorization_code"
        )
    except OAuthError as exc:
        raise TokenError(f"the token endpoint refused the code: {exc.error}") from exc
    except Exception as exc:  # requests errors, invalid JSON
        raise TokenError(f"the token exchange failed: {type(exc).__name__}") from exc
    return _launch_context(token, pending, config, settings)


def _launch_context(
    token: dict[str, Any], pending: PendingAuthorization, config: SmartConfiguration, settings: dict[str, Any]
) -> LaunchContext:
    if not token.get("access_token"):
        raise TokenError("the token response has no access_token")
    patient = token.get("patient")
    if pending.launch and not patient:
        raise MissingLaunchContext("the EHR's token response names no patient")
    granted = token.get("scope") or pending.scope
    fhir_user = None
    if token.get("id_token"):
        fhir_user = fhir_user_from_id_token(token["id_token"], config, settings)
    expires_at = token.get("expires_at")
    return LaunchContext(
        handle=secrets.token_urlsafe(16),
        iss=pending.iss,
        tenant=tenant_of(pending.iss, settings.get("TENANT_ALIASES") or {}),
        patient=patient,
        encounter=token.get("encounter"),
        access_token=token["access_token"],
        refresh_token=token.get("refresh_token"),
        expires_at=float(expires_at) if expires_at else None,
        token_endpoint=config.token_endpoint,
        scope=granted,
        fhir_user=fhir_user,
        need_patient_banner=bool(token.get("need_patient_banner", True)),
        smart_style_url=token.get("smart_style_url"),
        fhir_context=list(token.get("fhirContext") or []),
        missing=missing_permissions(granted),
        practice_wide=patient is None,
    )
