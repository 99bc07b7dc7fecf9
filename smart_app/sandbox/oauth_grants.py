"""Authlib grants and client authentication configured the SMART way (PKCE S256 only, private_key_jwt)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

import requests
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from . import scopes
from .oauth_models import AuthorizationCode, DemoUser, IssuedToken, OAuthClient

if TYPE_CHECKING:
    from .oauth import SmartAuthorizationServer

#: SMART App Launch: clients SHALL support RS384 and ES384 for private_key_jwt.
ASSERTION_ALGORITHMS = ["RS384", "ES384"]
MAX_ASSERTION_SECONDS = 300
TOKEN_AUTH_METHODS = ["client_secret_basic", "private_key_jwt", "none"]


class S256CodeChallenge(CodeChallenge):
    """PKCE as SMART requires it: a challenge on every request, method S256 stated, never ``plain``."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": compare_s256_code_challenge}

    def validate_code_challenge(self, grant: grants.AuthorizationCodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE 'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class SmartAuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """The EHR-launch and standalone-launch code grant; codes and tokens live in the OAuth registry."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    server: SmartAuthorizationServer

    def save_authorization_code(self, code: str, request: Any) -> None:
        payload = request.payload.data
        context = getattr(request, "smart_context", None)
        if payload.get("launch"):
            context = self.server.registry.consume_launch(payload["launch"])
            if context is None:  # a concurrent approval used it first
                raise InvalidRequestError("The 'launch' was already used", redirect_uri=request.payload.redirect_uri)
        self.server.registry.save_code(
            AuthorizationCode(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                user=request.user,
                context=context,
                code_challenge=payload.get("code_challenge"),
                code_challenge_method=payload.get("code_challenge_method"),
                nonce=payload.get("nonce"),
                issued_at=self.server.registry.clock(),
            )
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        return self.server.registry.claim_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        pass  # claim_code already spent it

    def authenticate_user(self, authorization_code: AuthorizationCode) -> DemoUser | None:
        return authorization_code.user


class SmartRefreshTokenGrant(grants.RefreshTokenGrant):
    """Refresh with rotation: every refresh answers a new refresh token and revokes the one presented."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: SmartAuthorizationServer

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        return self.server.registry.by_refresh_token(refresh_token)

    def authenticate_user(self, refresh_token: IssuedToken) -> DemoUser | None:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: IssuedToken) -> None:
        self.server.registry.revoke_refresh(refresh_token)


class BackendServicesGrant(grants.ClientCredentialsGrant):
    """SMART Backend Services: client_credentials with private_key_jwt, granting ``system/`` scopes only."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt"]
    server: SmartAuthorizationServer

    def validate_requested_scope(self) -> None:
        if not self._system_scope():
            raise InvalidScopeError("Backend Services need at least one supported 'system/' scope")

    def generate_token(self, user: Any = None, scope: str | None = None, **kwargs: Any) -> dict[str, Any]:
        return super().generate_token(user=user, scope=self._system_scope(), **kwargs)

    def _system_scope(self) -> str:
        granted = scopes.grantable(self.request.payload.scope, self.server.served_types(), ["system"])
        return " ".join(s for s in granted if s.startswith("system/"))


class PrivateKeyJwt(JWTBearerClientAssertion):
    """``private_key_jwt`` client authentication per SMART: RS384/ES384, ``exp`` at most 5 minutes ahead,
    ``jti`` never reused, keys from the registered JWKS or JWKS URL."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server: SmartAuthorizationServer) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.server = server

    def get_audiences(self) -> list[str]:
        return [self.server.token_url]

    def resolve_client_public_key(self, client: OAuthClient) -> KeySet:
        registered = client.registered
        if registered.jwks:
            return KeySet.import_key_set(cast(Any, registered.jwks))
        if registered.jwks_uri:
            try:
                answer = requests.get(registered.jwks_uri, timeout=5)
                answer.raise_for_status()
                return KeySet.import_key_set(answer.json())
            except (requests.RequestException, ValueError, JoseError) as error:
                raise InvalidClientError(description="The client's JWKS URL could not be read.") from error
        raise InvalidClientError(description="The client has no registered keys.")

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS)
        except JoseError as error:
            raise InvalidClientError(description="The client assertion does not verify (RS384 or ES384).") from error
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims: jwt.Claims) -> None:
        exp = claims.get("exp")
        if isinstance(exp, int | float) and exp > time.time() + MAX_ASSERTION_SECONDS + self.leeway:
            raise InvalidClientError(description="The client assertion 'exp' is more than 5 minutes ahead.")
        super().verify_claims(claims)

    def validate_jti(self, claims: jwt.Claims, jti: str) -> bool:
        return self.server.registry.first_use_of_jti(str(claims["sub"]), str(jti), float(claims["exp"]))
