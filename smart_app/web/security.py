"""Security headers on every response, and the ``Partitioned`` attribute on the session cookie (CHIPS).

Flask-Session 0.8 sets the cookie itself and does not pass Flask 3.1's ``SESSION_COOKIE_PARTITIONED`` on,
so the attribute is added here. Without it, Chrome drops a third-party cookie inside the EHR's iframe.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from flask import Flask, Response, current_app

STYLE_BLOCK = re.compile(rb"<style>(.*?)</style>", re.DOTALL)


def _style_hashes(response: Response) -> list[str]:
    """CSP hashes of the ``<style>`` blocks the app itself rendered into a printable page (the print stylesheet
    is inlined so the same page renders to PDF), so exactly those styles apply and no other inline style can."""
    if response.mimetype != "text/html" or response.is_streamed:
        return []
    blocks = STYLE_BLOCK.findall(response.get_data())
    return [f"'sha256-{base64.b64encode(hashlib.sha256(b).digest()).decode()}'" for b in dict.fromkeys(blocks)]


def _content_security_policy(ehr_origins: list[str], style_hashes: list[str] = []) -> str:  # noqa: B006 - read only
    ancestors = " ".join(["'self'", *ehr_origins])
    styles = " ".join(["'self'", *style_hashes])
    return (
        f"default-src 'self'; img-src 'self' data:; style-src {styles}; script-src 'self'; "
        f"form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}"
    )


def _add_headers(response: Response) -> Response:
    settings = current_app.config["P2P"]
    response.headers["Content-Security-Policy"] = _content_security_policy(
        settings["EHR_ORIGINS"], _style_hashes(response)
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if "Cache-Control" not in response.headers or response.mimetype in ("text/html", "application/pdf"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _partition_session_cookie(response: Response, cookie_name: str) -> None:
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies:
        return
    del response.headers["Set-Cookie"]
    for cookie in cookies:
        if cookie.startswith(f"{cookie_name}=") and "Partitioned" not in cookie:
            cookie += "; Partitioned"
        response.headers.add("Set-Cookie", cookie)


def init_app(app: Flask) -> None:
    """Register the header hook, and mark the session cookie ``Partitioned`` when it is ``Secure``.

    Flask saves the session (and Flask-Session sets its cookie) after every ``after_request`` hook has run,
    so the attribute is added by wrapping the session interface's ``save_session``.
    """
    app.after_request(_add_headers)
    if not app.config.get("SESSION_COOKIE_PARTITIONED"):
        return
    interface = app.session_interface
    save_session = interface.save_session
    cookie_name = app.config["SESSION_COOKIE_NAME"]

    def save_and_partition(flask_app: Flask, session: Any, response: Response) -> None:
        save_session(flask_app, session, response)
        _partition_session_cookie(response, cookie_name)

    interface.save_session = save_and_partition  # type: ignore[method-assign,assignment]
