"""Medplum's FHIR router (``tests/medplum/server.mjs``, installed by ``make test``) as a running server for the
end-to-end tests: started on a free loopback port, loaded with FHIR Bundles resource by resource, stopped."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

SERVER_DIR = Path(__file__).resolve().parent.parent / "medplum"
ROUTER = SERVER_DIR / "node_modules" / "@medplum" / "fhir-router" / "package.json"
TOKEN = "any-token-medplum-takes-it"  # the harness accepts any bearer token
START_SECONDS = 30.0


def missing() -> str | None:
    """Why the Medplum server cannot run here (no Node.js, or its packages not installed), or None."""
    if shutil.which("node") is None:
        return "Node.js is not installed: the Medplum tests need `node` (v20.19+) on PATH"
    if not ROUTER.exists():
        return f"Medplum's packages are not installed: run `make test` (or `npm ci` in {SERVER_DIR})"
    return None


def require() -> None:
    """Skip the calling test when the server cannot run, saying why; on CI (``CI`` set) that is a failure."""
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@dataclass
class Medplum:
    """One running server: its FHIR base URL and its process."""

    base: str
    process: subprocess.Popen[str]

    def put(self, resource: dict[str, Any]) -> None:
        """Store ``resource`` under its own id (``PUT [base]/Type/id``, an update that creates)."""
        response = requests.put(
            f"{self.base}/{resource['resourceType']}/{resource['id']}",
            json=resource,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/fhir+json"},
            timeout=10,
        )
        assert response.status_code in (200, 201), (resource["resourceType"], resource["id"], response.text[:300])

    def load(self, resources: Iterable[dict[str, Any]]) -> int:
        """PUT each resource, in order (Medplum's in-memory store answers searches in the order it was given)."""
        count = 0
        for resource in resources:
            self.put(resource)
            count += 1
        return count

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()


def bundle_resources(path: Path) -> list[dict[str, Any]]:
    """The resources of a collection Bundle file, in file order."""
    bundle = json.loads(path.read_text(encoding="utf-8"))
    return [entry["resource"] for entry in bundle.get("entry") or []]


def start() -> Medplum:
    """Start ``node server.mjs 0`` and wait for the line that says which port it took."""
    process = subprocess.Popen(  # noqa: S603 - a fixed command from this repository
        ["node", "server.mjs", "0"],  # noqa: S607 - the machine's node, as `make test` uses
        cwd=SERVER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline, seen = time.monotonic() + START_SECONDS, []
    while time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=0.2):
            line = process.stdout.readline()
            seen.append(line)
            if line.startswith("listening "):
                selector.close()
                return Medplum(line.split(" ", 1)[1].strip(), process)
    selector.close()
    process.kill()
    raise RuntimeError(f"the Medplum server did not start within {START_SECONDS:g} s: {''.join(seen)[-500:]}")
