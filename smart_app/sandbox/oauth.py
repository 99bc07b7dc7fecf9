"""The demo EHR's OAuth 2.0 wiring: Authlib's AuthorizationServer and ResourceProtector for SMART."""

from __future__ import annotations

import secrets
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Flask
from joserfc.jwk import RSAKey

from . import search
from .oauth_grants import (
    BackendServicesGrant,
    PrivateKeyJwt,
    S256CodeChallenge,
    SmartAuthorizationCodeGrant,
    SmartRefreshTokenGrant,
)
from .oauth_models import IssuedToken, OAuthClient, OAuthRegistry
from .oauth_smart import LaunchContextResponse, SmartLaunchRequest, SmartOpenIDCode, SmartTokenGenerator
from .settings import EhrSettings
from .store import FhirStore

INSPECTOR_SCOPE = "user/*.rs"


class SmartAuthorizationServer(AuthorizationServer):
    """Authlib's Flask authorization server bound to one demo EHR's clients, store and registry."""

    def __init__(self, settings: EhrSettings, store: FhirStore, registry: OAuthRegistry) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        self.registry = registry
        self._clients = {c.client_id: OAuthClient(c) for c in settings.clients}

    @property
    def token_url(self) -> str:
        """The token endpoint: the only ``aud`` a client assertion may name."""
        return self.settings.origin + "/oauth/token"

    def served_types(self) -> list[str]:
        """Resource types scopes may name."""
        return search.served_types(self.store.types())

    def query_client(self, client_id: str) -> OAuthClient | None:
        return self._clients.get(client_id)

    def validate_requested_scope(self, scope: str | None) -> None:
        """Never refuse unknown scopes: the grants drop what they cannot grant (as EHRs do)."""

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        source = request.authorization_code or request.refresh_token
        self.registry.save_token(
            IssuedToken(
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                client_id=request.client.get_client_id(),
                scope=token.get("scope", ""),
                user=request.user,
                context=getattr(source, "context", None),
                issued_at=self.registry.clock(),
                expires_in=int(token["expires_in"]),
                clock=self.registry.now,
                code=getattr(request.authorization_code, "code", None),
            )
        )


class SmartBearerValidator(BearerTokenValidator):
    """Bearer tokens the EHR issued, plus the read-only inspector token."""

    def __init__(self, registry: OAuthRegistry, inspector_token: str) -> None:
        super().__init__(realm="demo-ehr")
        self.registry = registry
        self.inspector_token = inspector_token
        self._inspector = IssuedToken(
            access_token=inspector_token,
            refresh_token=None,
            client_id="inspector",
            scope=INSPECTOR_SCOPE,
            user=None,
            context=None,
            issued_at=registry.clock(),
            expires_in=10**9,
            clock=registry.now,
            read_only=True,
        )

    def authenticate_token(self, token_string: str) -> IssuedToken | None:
        if self.inspector_token and secrets.compare_digest(token_string, self.inspector_token):
            return self._inspector
        return self.registry.token(token_string)


def build_authorization_server(
    app: Flask, settings: EhrSettings, store: FhirStore, registry: OAuthRegistry, key: RSAKey
) -> SmartAuthorizationServer:
    """An authorization server for ``app``: SMART grants, PKCE S256, OpenID Connect, private_key_jwt."""
    server = SmartAuthorizationServer(settings, store, registry)
    server.init_app(app)
    server.register_token_generator(
        "default",
        SmartTokenGenerator(
            lambda **_: generate_token(42),
            lambda **_: generate_token(48),
            settings.access_token_seconds,
        ),
    )
    context = LaunchContextResponse()
    server.register_grant(
        SmartAuthorizationCodeGrant,
        [S256CodeChallenge(required=True), SmartLaunchRequest(server), SmartOpenIDCode(server, key), context],
    )
    server.register_grant(SmartRefreshTokenGrant, [context])
    server.register_grant(BackendServicesGrant)
    server.register_client_auth_method(PrivateKeyJwt.CLIENT_AUTH_METHOD, PrivateKeyJwt(server))
    return server


def build_resource_protector(registry: OAuthRegistry, inspector_token: str) -> ResourceProtector:
    """Authlib's resource protector accepting this EHR's bearer tokens."""
    protector = ResourceProtector()
    protector.register_token_validator(SmartBearerValidator(registry, inspector_token))
    return protector
