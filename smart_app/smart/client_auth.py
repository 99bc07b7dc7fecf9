"""How the app authenticates at the token endpoint: public (PKCE only), client_secret_basic or private_key_jwt.

SMART's client-confidential-asymmetric profile requires RS384 or ES384, a ``kid``, ``typ=JWT`` and an ``exp``
at most five minutes ahead. Authlib's ``PrivateKeyJWT`` defaults to RS256 and one hour, and reuses the ``jti``
of a claims dict passed to it, so ``SmartPrivateKeyJWT`` signs each assertion afresh.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from joserfc.jwk import ECKey, RSAKey

from smart_app.errors import LaunchError

ASSERTION_LIFETIME_SECONDS = 300
SIGNING_ALGS = ("RS384", "ES384")


def load_private_key(path: str | Path) -> RSAKey | ECKey:
    """Load a PEM private key (RSA, or EC P-384) and give it a ``kid`` (its RFC 7638 thumbprint)."""
    return import_private_key(Path(path).read_bytes(), str(path))


def import_private_key(pem: bytes, where: str) -> RSAKey | ECKey:
    """A PEM private key (RSA, or EC P-384) from ``where`` (a file, or an environment variable), with its ``kid``."""
    for key_type in (RSAKey, ECKey):
        try:
            key = key_type.import_key(pem)
        except (ValueError, TypeError):
            continue
        key.ensure_kid()
        return key
    raise LaunchError(f"{where} is not an RSA or EC private key in PEM form")


def public_jwks(key: RSAKey | ECKey, alg: str) -> dict[str, Any]:
    """The JWKS the app serves at ``/.well-known/jwks.json`` for the EHR to verify its assertions."""
    public = key.as_dict(private=False)
    return {"keys": [{**public, "alg": alg, "use": "sig", "kid": key.kid}]}


class SmartPrivateKeyJWT(PrivateKeyJWT):
    """``private_key_jwt`` with SMART's rules: RS384/ES384, ``kid``, ``typ=JWT``, ``exp`` ≤ 5 min, fresh ``jti``."""

    def __init__(self, key: RSAKey | ECKey, alg: str = "RS384") -> None:
        if alg not in SIGNING_ALGS:
            raise LaunchError(f"SMART requires RS384 or ES384 for private_key_jwt, not {alg}")
        super().__init__(alg=alg)
        self.key = key

    def sign(self, auth: Any, token_endpoint: str) -> str:
        """Sign one client assertion for ``token_endpoint``."""
        return private_key_jwt_sign(
            self.key,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg=self.alg,
            claims={},
            header={"kid": self.key.kid, "typ": "JWT"},
            expires_in=ASSERTION_LIFETIME_SECONDS,
        )


def oauth_session(settings: dict[str, Any], **kwargs: Any) -> OAuth2Session:
    """An Authlib ``OAuth2Session`` that authenticates as configured in ``P2P_CLIENT_AUTH``."""
    method = settings["CLIENT_AUTH"]
    if method == "private_key_jwt":
        key = settings.get("_PRIVATE_KEY") or load_private_key(settings["PRIVATE_KEY_FILE"])
        session = OAuth2Session(settings["CLIENT_ID"], token_endpoint_auth_method="private_key_jwt", **kwargs)  # noqa: S106
        session.register_client_auth_method(SmartPrivateKeyJWT(key, settings["ASSERTION_ALG"]))
        return session
    if method == "client_secret_basic":
        return OAuth2Session(
            settings["CLIENT_ID"],
            settings["CLIENT_SECRET"],
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name, not a secret
            **kwargs,
        )
    if method == "none":
        return OAuth2Session(settings["CLIENT_ID"], token_endpoint_auth_method="none", **kwargs)  # noqa: S106
    raise LaunchError(f"P2P_CLIENT_AUTH must be none, client_secret_basic or private_key_jwt, not {method!r}")
