"""How far ``p2p-brief sync`` has read one EHR, per resource type it reads (table ``sync_positions``): the
high-water mark, the ids processed at exactly that instant, and the Bulk Data export being read (its status URL,
file and line), saved after each page. ClaimResponses and PDex ExplanationOfBenefits each keep their own row."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from smart_app.store.db import Database
from smart_app.store.models import SyncState

DEFAULT_TYPE = "ClaimResponse"


@dataclass
class SyncProgress:
    """One EHR's sync position for one resource type."""

    high_water: str | None = None
    ids_at_mark: set[str] = field(default_factory=set)
    export: dict[str, Any] | None = None  # {"status_url", "file", "lines"} while an export is being read


def load_progress(db: Database, iss: str, resource_type: str = DEFAULT_TYPE) -> SyncProgress:
    """The saved position for ``iss`` and ``resource_type`` (an empty one before the first run)."""
    with db.session() as session:
        state = session.get(SyncState, (iss, resource_type))
        if state is None:
            return SyncProgress()
        export = json.loads(state.export_json) if state.export_json else None
        return SyncProgress(state.high_water, set(json.loads(state.ids_at_mark_json)), export)


def save_progress(db: Database, iss: str, progress: SyncProgress, resource_type: str = DEFAULT_TYPE) -> None:
    """Save the position (in one transaction, so a stop between pages loses at most the page being read)."""
    with db.session() as session:
        state = session.get(SyncState, (iss, resource_type)) or SyncState(iss=iss, resource_type=resource_type)
        state.high_water = progress.high_water
        state.ids_at_mark_json = json.dumps(sorted(progress.ids_at_mark))
        state.export_json = json.dumps(progress.export) if progress.export is not None else None
        session.merge(state)
