"""Storage: the app's own records (call notes and their outbox) through SQLAlchemy, migrated by Alembic."""

from smart_app.store.db import Database
from smart_app.store.models import CallNote

__all__ = ["CallNote", "Database"]
