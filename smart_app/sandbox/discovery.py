"""Discovery documents: SMART configuration, OpenID configuration, the JWKS and the SMART style."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from .ehr_state import current_ehr
from .keys import ID_TOKEN_ALG, public_jwks
from .scopes import advertised_scopes

bp = Blueprint("ehr_discovery", __name__)

CAPABILITIES = [
    "launch-ehr",
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "sso-openid-connect",
    "context-banner",
    "context-style",
    "context-ehr-patient",
    "context-ehr-encounter",
    "context-standalone-patient",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
]
SMART_STYLE = {
    "color_background": "#f4f6f8",
    "color_error": "#b3261e",
    "color_highlight": "#0b5cad",
    "color_modal_backdrop": "rgba(0, 0, 0, 0.4)",
    "color_success": "#1e7a34",
    "color_text": "#1d2733",
    "dim_border_radius": "4px",
    "dim_font_size": "14px",
    "dim_spacing_size": "16px",
    "font_family_body": "system-ui, 'Segoe UI', Arial, sans-serif",
    "font_family_heading": "system-ui, 'Segoe UI', Arial, sans-serif",
}


def _json(document: dict[str, Any]) -> Response:
    response = jsonify(document)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _endpoints() -> dict[str, str]:
    """Issuer, JWKS and OAuth endpoints: the same in the SMART and the OpenID documents."""
    settings = current_ehr().settings
    return {
        "issuer": settings.fhir_base,
        "jwks_uri": settings.fhir_base + "/.well-known/jwks.json",
        "authorization_endpoint": settings.origin + "/oauth/authorize",
        "token_endpoint": settings.origin + "/oauth/token",
    }


@bp.get("/fhir/.well-known/smart-configuration")
def smart_configuration() -> Response:
    """SMART App Launch 2.2 discovery (absolute URLs, S256 only)."""
    return _json(
        {
            **_endpoints(),
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
            "scopes_supported": advertised_scopes(current_ehr().authorization_server.served_types()),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "capabilities": CAPABILITIES,
        }
    )


@bp.get("/fhir/.well-known/openid-configuration")
def openid_configuration() -> Response:
    """OpenID Provider metadata, so an app can verify the id_token from ``iss``."""
    return _json(
        {
            **_endpoints(),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ID_TOKEN_ALG],
            "scopes_supported": ["openid", "fhirUser"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "fhirUser"],
            "code_challenge_methods_supported": ["S256"],
        }
    )


@bp.get("/fhir/.well-known/jwks.json")
def jwks() -> Response:
    """The public key that signs id_tokens."""
    return _json(public_jwks(current_ehr().signing_key))


@bp.get("/smart-style.json")
def smart_style() -> Response:
    """The EHR's look, for apps that honour ``smart_style_url``."""
    return _json(SMART_STYLE)
