"""The Flask app factory: settings, server-side sessions, storage, blueprints, error pages, security headers."""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import timedelta
from typing import Any

from flask import Flask
from flask_session import Session
from flask_sqlalchemy import SQLAlchemy

from smart_app.config import load_settings
from smart_app.content import content_dir
from smart_app.log_safety import cap_secret_bearing_loggers
from smart_app.smart.discovery import DiscoveryCache
from smart_app.smart.token_vault import TokenVault
from smart_app.store.db import Database
from smart_app.web import (
    audit_trail,
    audit_views,
    brief_views,
    case_views,
    converters,
    denial_views,
    ehr_style,
    errors,
    form_keys,
    formats,
    hand_entry_views,
    health_views,
    launch_views,
    letter_views,
    outcome_views,
    rates_views,
    security,
    worklist_views,
)

log = logging.getLogger(__name__)


def _configure_sessions(app: Flask, settings: dict[str, Any], database_url: str) -> None:
    """Flask-Session in the app's database (the same file: a relative SQLite path would otherwise land in the
    package's ``instance/`` folder): the cookie carries only a random session id."""
    secure = not settings["INSECURE_COOKIES"]
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        SESSION_TYPE="sqlalchemy",
        SESSION_PERMANENT=False,
        SESSION_SQLALCHEMY_TABLE="web_sessions",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings["SESSION_MAX_HOURS"]),
        SESSION_COOKIE_NAME="p2p_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=secure,
        # An iframe inside the EHR is a third-party context: only SameSite=None (which needs Secure) survives it.
        SESSION_COOKIE_SAMESITE="None" if secure else "Lax",
        SESSION_COOKIE_PARTITIONED=secure,
    )
    app.config["SESSION_SQLALCHEMY"] = SQLAlchemy(app)
    Session(app)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``P2P_*`` environment variables, then ``config`` (tests)."""
    settings = load_settings(config)
    cap_secret_bearing_loggers()
    templates = content_dir("templates")
    app = Flask(
        __name__, template_folder=str(templates), static_folder=str(templates / "static"), static_url_path="/static"
    )
    app.config["P2P"] = settings
    app.config["SECRET_KEY"] = settings.get("SECRET_KEY") or secrets.token_hex(32)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    db = Database(settings["DATABASE_URL"])
    db.upgrade()
    app.extensions["p2p_db"] = db
    app.extensions["p2p_discovery"] = DiscoveryCache()
    app.extensions["p2p_token_vault"] = TokenVault(app.config["SECRET_KEY"])
    app.extensions["p2p_letter_readers"] = threading.BoundedSemaphore(max(1, settings["LETTER_READERS"]))
    _configure_sessions(app, settings, db.url)
    converters.init_app(app)
    for blueprint in (
        launch_views.bp,
        denial_views.bp,
        ehr_style.bp,
        hand_entry_views.bp,
        letter_views.bp,
        brief_views.bp,
        case_views.bp,
        outcome_views.bp,
        health_views.bp,
        worklist_views.bp,
        rates_views.bp,
        audit_views.bp,
    ):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    formats.init_app(app)
    form_keys.init_app(app)
    security.init_app(app)
    audit_trail.init_app(app)
    return app
