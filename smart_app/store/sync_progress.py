"""How far ``p2p-brief sync`` has read one EHR (table ``sync_state``): the high-water mark, the ids processed at
exactly that instant, and the Bulk Data export being read (its status URL, file and line), saved after each page."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from smart_app.store.db import Database
from smart_app.store.models import SyncState


@dataclass
class SyncProgress:
    """One EHR's sync position."""

    high_water: str | None = None
    ids_at_mark: set[str] = field(default_factory=set)
    export: dict[str, Any] | None = None  # {"status_url", "file", "lines"} while an export is being read


def load_progress(db: Database, iss: str) -> SyncProgress:
    """The saved position for ``iss`` (an empty one before the first run)."""
    with db.session() as session:
        state = session.get(SyncState, iss)
        if state is None:
            return SyncProgress()
        export = json.loads(state.export_json) if state.export_json else None
        return SyncProgress(state.high_water, set(json.loads(state.ids_at_mark_json)), export)


def save_progress(db: Database, iss: str, progress: SyncProgress) -> None:
    """Save the position (in one transaction, so a stop between pages loses at most the page being read)."""
    with db.session() as session:
        state = session.get(SyncState, iss) or SyncState(iss=iss)
        state.high_water = progress.high_water
        state.ids_at_mark_json = json.dumps(sorted(progress.ids_at_mark))
        state.export_json = json.dumps(progress.export) if progress.export is not None else None
        session.merge(state)
