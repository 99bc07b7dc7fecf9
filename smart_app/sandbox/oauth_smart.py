"""SMART App Launch on Authlib's code grant: launch/aud/state checks, id_token with fhirUser, context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey

from . import scopes
from .keys import ID_TOKEN_ALG
from .oauth_models import DemoUser, OAuthClient

if TYPE_CHECKING:
    from .oauth import SmartAuthorizationServer


class SmartLaunchRequest:
    """Authorize-request checks SMART adds (App Launch 2.2 §authorize): ``aud`` equals the FHIR base,
    ``state`` is present, ``launch`` is one this EHR issued (unexpired, unused); scopes are narrowed to
    those granted."""

    def __init__(self, server: SmartAuthorizationServer) -> None:
        self.server = server

    def __call__(self, grant: grants.AuthorizationCodeGrant) -> None:
        grant.register_hook("after_validate_authorization_request_payload", self.validate)

    def validate(self, grant: grants.AuthorizationCodeGrant, redirect_uri: str) -> None:
        """Raise an OAuth error (redirected to the client) when the request breaks a SMART rule."""
        request = grant.request
        data = request.payload.data
        if not data.get("state"):
            raise InvalidRequestError("Missing 'state'", redirect_uri=redirect_uri)
        if data.get("aud") not in self.server.settings.fhir_bases:
            raise InvalidRequestError("'aud' must be this EHR's FHIR base URL", redirect_uri=redirect_uri)
        granted = scopes.grantable(request.scope, self.server.served_types(), ["patient", "user"])
        if not granted:
            raise InvalidScopeError("None of the requested scopes can be granted", redirect_uri=redirect_uri)
        request.scope = " ".join(granted)
        launch = data.get("launch")
        if launch:
            context = self.server.registry.peek_launch(launch)
            if context is None or context.client_id not in (None, request.client.get_client_id()):
                raise InvalidRequestError("Unknown, expired or already used 'launch'", redirect_uri=redirect_uri)
            request.smart_context = context
        elif "launch" in granted:
            raise InvalidRequestError("The 'launch' scope needs the 'launch' parameter", redirect_uri=redirect_uri)


class SmartOpenIDCode(OpenIDCode):
    """OpenID Connect on the code grant: an RS256 id_token with ``fhirUser``, only when both ``openid``
    and ``fhirUser`` were granted (as SMART servers do)."""

    def __init__(self, server: SmartAuthorizationServer, key: RSAKey) -> None:
        super().__init__(require_nonce=False)
        self.server = server
        self.key = key

    def process_token(self, grant: grants.BaseGrant, response: Any) -> Any:
        _, token, _ = response
        granted = (token.get("scope") or "").split()
        if "openid" in granted and "fhirUser" in granted and grant.request.user is not None:
            return super().process_token(grant, response)
        return token

    def resolve_client_private_key(self, client: OAuthClient) -> RSAKey:
        return self.key

    def get_client_algorithm(self, client: OAuthClient) -> str:
        return ID_TOKEN_ALG

    def get_encode_header(self, client: OAuthClient) -> dict[str, str]:
        return {"alg": ID_TOKEN_ALG, "kid": str(self.key.kid)}

    def get_client_claims(self, client: OAuthClient) -> dict[str, Any]:
        return {"iss": self.server.settings.fhir_base, "aud": client.get_client_id()}

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return self.server.registry.nonce_used(request.payload.client_id, nonce)

    def generate_user_info(self, user: DemoUser, scope: str) -> dict[str, str]:
        return {"sub": user.practitioner_id, "fhirUser": f"{self.server.settings.fhir_base}/{user.reference}"}


class LaunchContextResponse:
    """Adds the launch context (patient, encounter, need_patient_banner, smart_style_url) to tokens."""

    def __call__(self, grant: grants.BaseGrant) -> None:
        grant.register_hook("after_create_token_response", self.add_context)

    @staticmethod
    def add_context(grant: grants.BaseGrant, response: Any) -> None:
        """Copy the context of the code or refresh token into the token response."""
        _, token, _ = response
        source = grant.request.authorization_code or grant.request.refresh_token
        context = getattr(source, "context", None)
        if context is not None:
            token.update(context.token_fields())


class SmartTokenGenerator(BearerTokenGenerator):
    """Bearer tokens with a refresh token only when ``online_access`` or ``offline_access`` was granted."""

    def generate(self, grant_type: str, client: OAuthClient, *args: Any, **kwargs: Any) -> dict[str, Any]:
        token = super().generate(grant_type, client, *args, **kwargs)
        if not scopes.REFRESH_SCOPES & set((token.get("scope") or "").split()):
            token.pop("refresh_token", None)
        return token
