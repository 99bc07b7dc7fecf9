"""``p2p-brief serve`` under gunicorn with several worker processes: launches complete whichever worker serves
the callback (sessions and launches live in the database), and the workers are really separate processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import RunningServer, bind, wait_until_ready

PATIENTS = ("pat-lumbar-mri", "pat-knee-tka", "pat-ra-tnf", "pat-glp1-t2dm")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str, int]]:
    port = _free_port()
    app_url = f"http://127.0.0.1:{port}"
    ehr = bind()
    client = RegisteredClient("p2p-gunicorn", [f"{app_url}/callback"], f"{app_url}/launch")
    ehr.mount(create_ehr_app(EhrSettings(base_url=ehr.url, clients=[client], inspector_token="x",
                                         require_consent=False)))  # fmt: skip
    db = tmp_path_factory.mktemp("serve") / "app.sqlite3"
    env = {
        **os.environ,
        "P2P_CLIENT_ID": "p2p-gunicorn",
        "P2P_ALLOWED_ISS": f"{ehr.url}/fhir",
        "P2P_INSECURE_COOKIES": "1",
        "P2P_PUBLIC_URL": app_url,
        "P2P_DATABASE_URL": f"sqlite:///{db}",
        "P2P_SECRET_KEY": "test-secret-shared-by-workers",
    }
    command = shutil.which("p2p-brief") or str(Path(sys.executable).parent / "p2p-brief")
    process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [command, "serve", "--port", str(port), "--workers", "3", "--threads", "2"], env=env
    )
    try:
        wait_until_ready(f"{app_url}/health", timeout=60)
        yield ehr, app_url, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        ehr.stop()


def test_launches_complete_across_worker_processes(served: tuple[RunningServer, str, int]) -> None:
    ehr, app_url, pid = served
    deadline = time.monotonic() + 30
    while len(_children(pid)) < 3 and time.monotonic() < deadline:  # workers boot one after another
        time.sleep(0.2)
    assert len(_children(pid)) == 3  # three worker processes under the gunicorn master
    for round_ in range(3):
        for patient in PATIENTS:
            browser = requests.Session()
            page = browser.get(f"{ehr.url}/launch?patient={patient}", timeout=60)
            assert page.status_code == 200, (round_, patient, page.status_code)
            assert page.url.startswith(f"{app_url}/?ctx=") and "Prior-authorization denials" in page.text
    assert requests.get(f"{app_url}/health", timeout=10).json()["status"] == "ok"
