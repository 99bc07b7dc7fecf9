"""SMART Backend Services: a token for the app itself (no user), by ``client_credentials`` with a
``private_key_jwt`` assertion, for jobs that run on a timer such as ``p2p-brief outbox flush``, and for a payer's
own API (``p2p-brief sync --payer``), whose token endpoint the payer registry names instead of discovery."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from joserfc.jwk import ECKey, RSAKey
from requests import RequestException

from smart_app.errors import TokenError
from smart_app.smart.client_auth import SmartPrivateKeyJWT
from smart_app.smart.discovery import check_endpoints, discover

# create, and search: a note whose create answer was lost is looked for by identifier before it is sent again
WRITE_SCOPE = "system/DocumentReference.cs"
REFRESH_MARGIN_SECONDS = 60


@dataclass
class BackendToken:
    """An access token and when it stops working."""

    access_token: str
    expires_at: float

    def fresh(self) -> bool:
        """Whether it is good for at least another minute."""
        return time.time() < self.expires_at - REFRESH_MARGIN_SECONDS


class BackendAuth:
    """Tokens per FHIR server for one registered backend client, fetched when needed and reused until expiry."""

    def __init__(
        self,
        client_id: str,
        key: RSAKey | ECKey,
        alg: str = "RS384",
        scope: str = WRITE_SCOPE,
        trusted_origins: Iterable[str] = (),
        *,
        token_endpoint: str | None = None,
        server: str = "EHR",
        token_error: type[TokenError] = TokenError,
    ) -> None:
        self.client_id = client_id
        self.token_endpoint = token_endpoint  # given (a payer's registration), else discovered from each server
        self.server = server  # who answers, in the error messages: "EHR", "payer uhc"
        self.token_error = token_error
        self.key = key
        self.alg = alg
        self.scope = scope
        self.trusted_origins = tuple(trusted_origins)
        self._tokens: dict[str, BackendToken] = {}

    def token(self, iss: str) -> str:
        """A usable access token for ``iss``; ``TokenError`` when the server refuses the client."""
        cached = self._tokens.get(iss)
        if cached and cached.fresh():
            return cached.access_token
        endpoint = self.token_endpoint or check_endpoints(discover(iss), self.trusted_origins).token_endpoint
        session = OAuth2Session(self.client_id, token_endpoint_auth_method="private_key_jwt", scope=self.scope)  # noqa: S106
        session.register_client_auth_method(SmartPrivateKeyJWT(self.key, self.alg))
        try:
            answer: dict[str, Any] = session.fetch_token(endpoint, grant_type="client_credentials", scope=self.scope)
            token = BackendToken(str(answer["access_token"]), time.time() + float(answer.get("expires_in") or 300))
        except AuthlibBaseError as exc:  # an OAuth error answer (Authlib's OAuthError, OAuth2Error, ...)
            raise self.token_error(
                f"The {self.server} refused the app's backend token request: {_oauth_error(exc)}."
            ) from exc
        except RequestException as exc:
            raise self.token_error(
                f"The {self.server}'s token endpoint could not be reached ({type(exc).__name__})."
            ) from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise self.token_error(
                f"The {self.server}'s token endpoint gave no usable token ({type(exc).__name__})."
            ) from exc
        self._tokens[iss] = token
        return token.access_token

    def forget(self, iss: str) -> None:
        """Drop the cached token (after a 401), so the next call fetches a new one."""
        self._tokens.pop(iss, None)


def _oauth_error(exc: AuthlibBaseError) -> str:
    """The OAuth error code and the server's description, e.g. ``invalid_client (the assertion's signature ...)``."""
    code = str(getattr(exc, "error", "") or type(exc).__name__)
    description = " ".join(str(getattr(exc, "description", "") or "").split())[:200].rstrip(".")
    return f"{code} ({description})" if description else code
