"""One error handler: every ``P2PError`` becomes a page that says what happened and what to do (never a 500)."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from smart_app.errors import P2PError

log = logging.getLogger(__name__)


def _render_p2p_error(error: P2PError) -> tuple[str, int]:
    log.info("%s: %s", type(error).__name__, error.title)
    return render_template("error.html", title=error.title, message=error.message, advice=error.advice), error.status


def _render_http_error(error: HTTPException) -> tuple[str, int]:
    return (
        render_template(
            "error.html", title=error.name, message=error.description or "", advice="Go back and try again."
        ),
        error.code or 500,
    )


def _render_unexpected(error: Exception) -> tuple[str, int]:
    log.exception("unexpected error: %s", type(error).__name__)
    return (
        render_template(
            "error.html",
            title="Something went wrong",
            message="The app hit an unexpected problem. Nothing you saved was lost.",
            advice="Relaunch the app from the patient's chart. If it happens again, tell your administrator.",
        ),
        500,
    )


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(P2PError, _render_p2p_error)
    app.register_error_handler(HTTPException, _render_http_error)
    app.register_error_handler(Exception, _render_unexpected)
