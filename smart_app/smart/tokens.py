"""Tokens after the launch: verify the id_token (the only carrier of ``fhirUser``) and refresh access tokens.

SMART: ``fhirUser`` is a claim of the OpenID Connect id_token, whose signature is checked against the EHR's
JWKS (``jwks_uri`` from smart-configuration or ``{issuer}/.well-known/openid-configuration``). Refresh is
decided by the presence of a refresh token, not by the granted scopes (Epic once granted a refresh token
without listing ``offline_access``: smart-on-fhir/client-js#138), and a new refresh token replaces the old.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

import requests
from authlib.integrations.base_client import OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization

from smart_app.errors import IdTokenInvalid, SessionExpired, TokenError
from smart_app.smart.client_auth import oauth_session

if TYPE_CHECKING:
    from smart_app.smart.discovery import SmartConfiguration
    from smart_app.smart.launch import LaunchContext

ID_TOKEN_ALGS = ["RS256", "RS384", "ES256", "ES384"]
CLOCK_LEEWAY_SECONDS = 120


def _fetch_json(url: str, timeout: float) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise IdTokenInvalid(f"could not read {url}: {type(exc).__name__}") from exc
    if not isinstance(body, dict):
        raise IdTokenInvalid(f"{url} is not a JSON object")
    return body


def _jwks_uri(config: SmartConfiguration, issuer: str, timeout: float) -> str:
    if config.jwks_uri:
        return config.jwks_uri
    openid = _fetch_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout)
    if not isinstance(openid.get("jwks_uri"), str):
        raise IdTokenInvalid(f"{issuer} publishes no jwks_uri")
    return openid["jwks_uri"]


def verify_id_token(
    id_token: str, config: SmartConfiguration, *, client_id: str, timeout: float = 10.0
) -> dict[str, Any]:
    """Verify the id_token's signature, issuer, audience and expiry; return its claims or raise ``IdTokenInvalid``."""
    issuer = config.issuer or config.iss
    keys = KeySet.import_key_set(cast(KeySetSerialization, _fetch_json(_jwks_uri(config, issuer, timeout), timeout)))
    try:
        token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGS)
    except (JoseError, ValueError) as exc:
        raise IdTokenInvalid(f"the id_token signature does not verify: {type(exc).__name__}") from exc
    claims = token.claims
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    now = time.time()
    if claims.get("iss", "").rstrip("/") != issuer.rstrip("/"):
        raise IdTokenInvalid("the id_token was issued by another server")
    if client_id not in audiences:
        raise IdTokenInvalid("the id_token was issued for another app")
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < now - CLOCK_LEEWAY_SECONDS:
        raise IdTokenInvalid("the id_token has expired")
    return claims


def fhir_user_from_id_token(id_token: str, config: SmartConfiguration, settings: dict[str, Any]) -> str | None:
    """The verified ``fhirUser`` reference as ``Type/id`` (relative), or None when the token has none."""
    claims = verify_id_token(id_token, config, client_id=settings["CLIENT_ID"], timeout=settings["FHIR_TIMEOUT"])
    fhir_user = claims.get("fhirUser")
    if not isinstance(fhir_user, str):
        return None
    parts = fhir_user.rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else None


def refresh_if_needed(context: LaunchContext, settings: dict[str, Any]) -> bool:
    """Refresh an expired access token in place; return True when it changed. Raise ``SessionExpired`` if it can't."""
    if not context.expired:
        return False
    if not context.refresh_token:
        raise SessionExpired("the access token expired and the EHR granted no refresh token")
    session = oauth_session(settings, default_timeout=settings["FHIR_TIMEOUT"])
    try:
        token = session.refresh_token(context.token_endpoint, refresh_token=context.refresh_token)
    except OAuthError as exc:
        raise SessionExpired(f"the EHR refused to refresh the access token: {exc.error}") from exc
    except requests.RequestException as exc:
        raise TokenError(f"the token endpoint could not be reached: {type(exc).__name__}") from exc
    context.access_token = token["access_token"]
    context.refresh_token = token.get("refresh_token") or context.refresh_token
    context.expires_at = float(token["expires_at"]) if token.get("expires_at") else None
    if token.get("scope"):
        context.scope = token["scope"]
    return True
