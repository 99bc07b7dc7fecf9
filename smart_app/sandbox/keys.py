"""The demo EHR's id_token signing key: RSA, generated at start, published as a JWKS."""

from __future__ import annotations

from typing import Any

from joserfc.jwk import RSAKey

ID_TOKEN_ALG = "RS256"  # noqa: S105 (an algorithm name, not a secret)


def generate_signing_key() -> RSAKey:
    """A fresh 2048-bit RSA key with a thumbprint ``kid``, for RS256 id_tokens (OIDC requires RS256)."""
    key = RSAKey.generate_key(2048, parameters={"alg": ID_TOKEN_ALG, "use": "sig"}, auto_kid=True)
    key.ensure_kid()
    return key


def public_jwks(key: RSAKey) -> dict[str, Any]:
    """The JWKS document holding only the public half of ``key``."""
    return {"keys": [key.as_dict(private=False)]}
