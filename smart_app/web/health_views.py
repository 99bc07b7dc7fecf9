"""``GET /health``: liveness and the outbox depth (call notes not yet in the chart)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    """``{"status": "ok", "outbox": N}``."""
    return jsonify(status="ok", outbox=current_app.extensions["p2p_db"].outbox_depth())
