"""Template filters for what a person reads: a stored moment shown in the practice's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app


def local_time(moment: datetime | None) -> str:
    """``2026-11-23 10:05 EST``: a stored moment in the practice's zone (``P2P_TIMEZONE``); a naive one is UTC, as
    SQLite gives back what was stored in UTC."""
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config["P2P"]["TIMEZONE"])
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.add_template_filter(local_time, "local_time")
