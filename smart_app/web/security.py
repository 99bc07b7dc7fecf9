"""Security headers on every response, and the ``Partitioned`` attribute on the session cookie (CHIPS).

Flask-Session 0.8 sets the cookie itself and does not pass Flask 3.1's ``SESSION_COOKIE_PARTITIONED`` on,
so the attribute is added here. Without it, Chrome drops a third-party cookie inside the EHR's iframe.
"""

from __future__ import annotations

from flask import Flask, Response, current_app


def _content_security_policy(ehr_origins: list[str]) -> str:
    ancestors = " ".join(["'self'", *ehr_origins])
    return (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}"
    )


def _add_headers(response: Response) -> Response:
    settings = current_app.config["P2P"]
    response.headers["Content-Security-Policy"] = _content_security_policy(settings["EHR_ORIGINS"])
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if "Cache-Control" not in response.headers or response.mimetype in ("text/html", "application/pdf"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    if current_app.config.get("SESSION_COOKIE_PARTITIONED"):
        name = current_app.config["SESSION_COOKIE_NAME"]
        cookies = response.headers.getlist("Set-Cookie")
        if cookies:
            del response.headers["Set-Cookie"]
            for cookie in cookies:
                if cookie.startswith(f"{name}=") and "Partitioned" not in cookie:
                    cookie += "; Partitioned"
                response.headers.add("Set-Cookie", cookie)
    return response


def init_app(app: Flask) -> None:
    """Register the header hook."""
    app.after_request(_add_headers)
