"""URL converters: ``<row_id:…>`` is a row id the database can hold; anything larger (``/worklist/9999…/open``)
is a 404 from the router, never an overflow in the database (a 500)."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from smart_app.store.models import MAX_ROW_ID


class RowIdConverter(IntegerConverter):
    """A positive integer up to ``MAX_ROW_ID``."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ROW_ID)


def init_app(app: Any) -> None:
    """Register ``row_id`` (before the blueprints' rules are built)."""
    app.url_map.converters["row_id"] = RowIdConverter
