"""The launch's OAuth tokens sealed before they are stored in the server-side session, so a copy of the session
table (a backup, a dump, a read-only database account) holds no usable access or refresh token.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key derived with HKDF-SHA256 from the app's
secret (``P2P_SECRET_KEY``): the database alone does not open them. A token sealed under another secret (the
secret was changed, or a session from before tokens were sealed) does not open: that launch has ended."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["InvalidToken", "TokenVault"]


class TokenVault:
    """Seal and open token strings with a key derived from ``secret``."""

    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"p2p-brief session tokens").derive(
            secret.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, token: str | None) -> str | None:
        """The token encrypted (None stays None)."""
        return None if token is None else self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        """The token from its sealed form; ``InvalidToken`` when it was sealed under another secret, or is not."""
        return None if sealed is None else self._fernet.decrypt(sealed.encode()).decode()
