"""One-time form keys: each form that creates a record (a call note, a hand-entered denial) carries a random key,
stored with what it created, so a second submit of the same form (Back, then submit again) shows the first result
instead of writing a second one."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from flask import request

FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def submitted_form_key() -> str | None:
    """The key the submitted form carries, or None (a form without one, or anything but a key we would issue)."""
    key = request.form.get("form_key", "")
    return key if FORM_KEY.fullmatch(key) else None


def form_key_for(form: Mapping[str, Any] | None) -> str:
    """The key to render into a form: the one it was submitted with (it comes back with errors, nothing was
    created), else a new one."""
    key = (form or {}).get("form_key")
    return key if isinstance(key, str) and FORM_KEY.fullmatch(key) else secrets.token_urlsafe(18)
