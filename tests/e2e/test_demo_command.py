"""``p2p-brief demo`` as a new user runs it: the app, the demo EHR and the demo payer start, a first sync fills the
practice worklist with the sample denials (by Bulk Data export) and the payer's own, and the printed lines name the
EHR, the payer, the worklist sign-in and the sync commands."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_demo_starts_with_a_filled_worklist(tmp_path: Path) -> None:
    port, ehr_port, payer_port = _free_port(), _free_port(), _free_port()
    command = shutil.which("p2p-brief") or str(Path(sys.executable).parent / "p2p-brief")
    env = {k: v for k, v in os.environ.items() if not k.startswith("P2P_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # the app's database, not the one of whoever runs the suite
    process = subprocess.Popen(  # noqa: S603
        [command, "demo", "--port", str(port), "--ehr-port", str(ehr_port), "--payer-port",
         str(payer_port), "--sample-cases", "12"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.stdout:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if "Ctrl-C stops" in line:
                break
        output = "\n".join(lines)
        assert f"Demo EHR (open this): http://127.0.0.1:{ehr_port}/" in output
        assert f"/launch?iss=http://127.0.0.1:{ehr_port}/fhir" in output
        # 4 charts (5 ClaimResponses, one an approval) + 12 copies (15): 16 open denials, and the shoulder MRI the
        # payer posted only as a PDex EOB: 17 cases
        assert (
            "worklist filled by a first sync: 20 ClaimResponses and 1 ExplanationOfBenefits read by export, "
            "17 new case(s)"
        ) in output
        # the demo payer, on its own origin: its denial for the lumbar patient (not in the EHR) is on the worklist
        assert f"demo payer (uhc, its own API and sign-in): http://127.0.0.1:{payer_port}/fhir" in output
        assert "and from the payer: 2 ExplanationOfBenefits read by export, 1 new case(s)" in output
        assert (tmp_path / ".p2p-demo-payer-registry.yaml").read_text().count(f"127.0.0.1:{payer_port}") == 3
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=10).json()["status"] == "ok"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
