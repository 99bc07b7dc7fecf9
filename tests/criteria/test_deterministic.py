"""The same chart gives the same brief on every run: evidence order must not depend on Python's hash seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "fhir" / "demo"


@pytest.mark.parametrize("bundle", ["lumbar-mri.json", "ra-tnf.json"])
def test_brief_json_is_identical_across_hash_seeds(bundle: str) -> None:
    outputs = set()
    for seed in ("1", "2", "3"):
        run = subprocess.run(  # noqa: S603 - our own interpreter and CLI, fixed arguments
            [
                sys.executable,
                "-m",
                "smart_app.cli",
                "brief",
                str(DEMO / bundle),
                "--today",
                "2026-11-23",
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
