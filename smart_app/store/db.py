"""The database: one engine per app, schema brought to the latest Alembic revision on start."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from smart_app.store.models import CallNote

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def owner_only_sqlite(url: str) -> str:
    """For a SQLite file: its folder made if missing (owner-only), the file created or kept readable and writable
    by the app's user alone (0600: it holds PHI, sessions and sealed tokens), and the URL with the file's absolute
    path, so every part of the app (Flask-Session included) opens the same file wherever it resolves paths.
    Any other database URL is returned as it is."""
    parsed = make_url(url)
    name = parsed.database
    if not parsed.drivername.startswith("sqlite") or not name or name == ":memory:" or name.startswith("file:"):
        return url
    path = Path(name).expanduser().absolute()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    path.chmod(0o600)
    return parsed.set(database=str(path)).render_as_string(hide_password=False)


class Database:
    """The app's database: ``session()`` for a unit of work, ``upgrade()`` to migrate."""

    def __init__(self, url: str) -> None:
        url = owner_only_sqlite(url)
        self.url = url
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        config = alembic_config(self.url)
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close the pool's connections (a process or test that is done with this database)."""
        self.engine.dispose()

    def outbox_depth(self) -> int:
        """How many call notes are not yet in the chart (pending or parked)."""
        with self.session() as session:
            return session.scalar(select(func.count()).select_from(CallNote).where(CallNote.status != "written")) or 0
