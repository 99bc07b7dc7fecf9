"""The demo EHR's in-memory FHIR store: raw JSON from Bundles, searched and created under a lock."""

from __future__ import annotations

import copy
import json
import logging
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from . import search
from .demo_dates import dated_for

log = logging.getLogger("smart_app.sandbox")


class PreconditionFailed(Exception):
    """A conditional create matched more than one resource (FHIR answers 412)."""


class FhirStore:
    """Resources by type and id, kept as the raw dicts they came as (never validated: charts may be bad)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._resources: dict[str, dict[str, dict[str, Any]]] = {}

    def load_bundles(self, folder: Path, *, today: date | None = None) -> int:
        """Add every entry of every ``*.json`` Bundle in ``folder``; return how many resources were loaded. With
        ``today``, each Bundle's dates are moved from its ``timestamp`` to that day (``demo_dates``)."""
        loaded = 0
        for path in sorted(folder.glob("*.json")):
            try:
                bundle = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                log.warning("skipped demo bundle %s: %s", path.name, type(error).__name__)
                continue
            if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
                log.warning("skipped %s: not a FHIR Bundle", path.name)
                continue
            if today is not None:
                bundle = dated_for(bundle, today)
            loaded += self.add_all(
                entry.get("resource") for entry in bundle.get("entry") or [] if isinstance(entry, dict)
            )
        log.info("demo EHR loaded %d resources from %s", loaded, folder)
        return loaded

    def add_all(self, resources: Iterable[Any]) -> int:
        """Store resources as they are, keeping their ids (one without an id gets a new one)."""
        added = 0
        with self._lock:
            for resource in resources:
                if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                    log.warning("skipped a bundle entry without a resourceType")
                    continue
                resource = copy.deepcopy(resource)
                resource.setdefault("id", uuid.uuid4().hex)
                meta = resource["meta"] if isinstance(resource.get("meta"), dict) else {}
                if not meta.get("lastUpdated"):  # loaded now: that is when this server last changed it
                    resource["meta"] = {**meta, "lastUpdated": _now_instant()}
                self._resources.setdefault(resource["resourceType"], {})[str(resource["id"])] = resource
                added += 1
        return added

    def types(self) -> list[str]:
        """Resource types present in the store."""
        with self._lock:
            return sorted(t for t, items in self._resources.items() if items)

    def get(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        """A copy of one resource, or None."""
        with self._lock:
            found = self._resources.get(resource_type, {}).get(resource_id)
            return copy.deepcopy(found) if found is not None else None

    def all(self, resource_type: str) -> list[dict[str, Any]]:
        """Copies of every resource of a type, in load order."""
        with self._lock:
            return copy.deepcopy(list(self._resources.get(resource_type, {}).values()))

    def search(self, resource_type: str, **params: str) -> list[dict[str, Any]]:
        """Resources matching FHIR search parameters, e.g. ``search("Encounter", patient="p1")``.

        Same semantics as the REST API (``_id`` takes a comma list, ``identifier`` takes ``system|value``),
        without paging.
        """
        query = search.parse_query(resource_type, params.items())
        return self.find(resource_type, query.criteria)

    def find(self, resource_type: str, criteria: list[tuple[str, str]], *, copies: bool = True) -> list[dict[str, Any]]:
        """The resources of a type matching already-parsed criteria: copies, or (``copies=False``, for a caller
        that only serializes a page of them) the stored objects themselves, so a large result is not copied whole.
        An ``_id`` criterion is answered by lookup, not by scanning the type."""
        with self._lock:
            stored = self._resources.get(resource_type, {})
            ids = [value.split(",") for name, value in criteria if name == "_id"]
            items = [stored[i] for i in dict.fromkeys(ids[0]) if i in stored] if ids else list(stored.values())
            found = [r for r in items if search.matches(r, criteria)]
            return copy.deepcopy(found) if copies else found

    def create(
        self, resource: dict[str, Any], *, if_none_exist: list[tuple[str, str]] | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Store a new resource with a fresh id, versionId "1" and lastUpdated; return it and True.

        With ``if_none_exist`` criteria (FHIR conditional create) an existing match is returned with False
        instead; more than one match raises ``PreconditionFailed``. The check and the insert are atomic.
        """
        resource_type = resource["resourceType"]
        with self._lock:
            if if_none_exist:
                existing = self.find(resource_type, if_none_exist)
                if len(existing) > 1:
                    raise PreconditionFailed(f"{len(existing)} {resource_type} resources match")
                if existing:
                    return existing[0], False
            stored = copy.deepcopy(resource)
            stored["id"] = uuid.uuid4().hex
            meta = stored.get("meta")
            stored["meta"] = {
                **(meta if isinstance(meta, dict) else {}),
                "versionId": "1",
                "lastUpdated": _now_instant(),
            }
            self._resources.setdefault(resource_type, {})[stored["id"]] = stored
            return copy.deepcopy(stored), True


def _now_instant() -> str:
    """Now as a FHIR instant in UTC, to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
