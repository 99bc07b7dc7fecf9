"""Load benchmark: N concurrent users opening briefs and recording calls against the demo EHR, on loopback.

Three processes: the demo EHR (threaded Werkzeug), the app under ``p2p-brief serve`` (gunicorn), and this load
generator (one thread per user). Each user launches from a patient's chart, opens the brief, opens the case page
and records a call, ``--rounds`` times. Runs the app with one worker on SQLite and with four workers on PostgreSQL
(when ``--postgres URL`` is given) and prints requests per second, p50/p95 latency and errors.
Not collected by pytest: ``python tests/bench/bench_load.py [--users 200] [--rounds 1] [--postgres URL]``.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from html import unescape
from pathlib import Path

import requests

PATIENTS = ("pat-lumbar-mri", "pat-ra-tnf", "pat-knee-tka", "pat-glp1-t2dm")
EHR_SCRIPT = """
import sys
from werkzeug.serving import make_server
from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
port, app_url = int(sys.argv[1]), sys.argv[2]
base = f"http://127.0.0.1:{port}"
app = create_ehr_app(EhrSettings(base_url=base, clients=[RegisteredClient("load", [f"{app_url}/callback"],
    f"{app_url}/launch")], inspector_token="load", require_consent=False))
make_server("127.0.0.1", port, app, threaded=True).serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise TimeoutError(url)


def _user(ehr: str, app: str, patient: str, rounds: int, timings: list[float], errors: list[str]) -> None:
    for _ in range(rounds):
        browser = requests.Session()

        def get(url: str, browser: requests.Session = browser) -> requests.Response:
            started = time.perf_counter()
            answer = browser.get(url, timeout=120)
            timings.append(time.perf_counter() - started)
            return answer

        try:
            listing = get(f"{ehr}/launch?patient={patient}")
            link = re.search(r'href="(/brief/[^"?]+)\?ctx=([^"&]+)', listing.text)
            if not link:
                errors.append(f"launch {listing.status_code}")
                continue
            path, ctx = link.group(1), unescape(link.group(2))
            brief = get(f"{app}{path}?ctx={ctx}")
            if brief.status_code != 200:
                errors.append(f"brief {brief.status_code}")
                continue
            denial = path.rsplit("/", 1)[1]
            case = get(f"{app}/case/{denial}?ctx={ctx}")
            csrf = re.search(r'name="csrf" value="([^"]+)"', case.text)
            if case.status_code != 200 or not csrf:
                errors.append(f"case {case.status_code}")
                continue
            started = time.perf_counter()
            saved = browser.post(f"{app}/outcome/{denial}", timeout=120, data={
                "ctx": ctx, "csrf": csrf.group(1), "call_date": "2026-11-23", "start_time": "10:00",
                "end_time": "10:10", "reviewer_name": "Dr. Load", "disposition": "upheld"})  # fmt: skip
            timings.append(time.perf_counter() - started)
            if saved.status_code != 200 or "saved to the chart" not in saved.text:
                errors.append(f"record {saved.status_code}")
        except requests.RequestException as exc:
            errors.append(f"no answer ({type(exc).__name__})")


SERVER_SIGNS = {  # what the app's own log says, counted per configuration
    "database is locked": "SQLite: database is locked",
    "WORKER TIMEOUT": "gunicorn: worker timeout (killed)",
    "Timeout": "FHIR read timed out",
    "Traceback": "tracebacks",
}


def _server_signs(log_path: Path) -> str:
    text = log_path.read_text(encoding="utf-8", errors="replace")
    found = {label: text.count(sign) for sign, label in SERVER_SIGNS.items() if sign in text}
    return ", ".join(f"{label} ×{count}" for label, count in found.items()) or "none"


def run(label: str, database_url: str, workers: int, users: int, rounds: int) -> str:
    """One configuration: start the EHR and the app, run the users, stop both; one table row, with the errors
    by the step that failed and what the app's log says about them."""
    ehr_port, app_port = _free_port(), _free_port()
    ehr, app = f"http://127.0.0.1:{ehr_port}", f"http://127.0.0.1:{app_port}"
    env = {**os.environ, "P2P_CLIENT_ID": "load", "P2P_ALLOWED_ISS": f"{ehr}/fhir", "P2P_INSECURE_COOKIES": "1",
           "P2P_PUBLIC_URL": app, "P2P_DATABASE_URL": database_url}  # fmt: skip
    ehr_process = subprocess.Popen([sys.executable, "-c", EHR_SCRIPT, str(ehr_port), app], stderr=subprocess.DEVNULL)  # noqa: S603
    command = shutil.which("p2p-brief") or str(Path(sys.executable).parent / "p2p-brief")
    app_log = Path(tempfile.mkstemp(suffix=".log")[1])
    app_process = subprocess.Popen(  # noqa: S603
        [command, "serve", "--port", str(app_port), "--workers", str(workers), "--threads", "8"],
        env={**env, "P2P_LOG_LEVEL": "WARNING"}, stderr=app_log.open("w"),
    )  # fmt: skip
    try:
        _wait(f"{ehr}/fhir/.well-known/smart-configuration")
        _wait(f"{app}/health")
        timings: list[float] = []
        errors: list[str] = []
        threads = [
            threading.Thread(target=_user, args=(ehr, app, PATIENTS[i % 4], rounds, timings, errors))
            for i in range(users)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        for process in (app_process, ehr_process):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    ordered = sorted(timings)
    p95 = ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0
    kinds = ", ".join(f"{kind} ×{n}" for kind, n in collections.Counter(errors).most_common()) or "—"
    return (
        f"| {label} | {users} | {len(timings):,} | {elapsed:.1f} s | {len(timings) / elapsed:.1f} "
        f"| {statistics.median(ordered) * 1000 if ordered else 0:.0f} ms | {p95 * 1000:.0f} ms | {len(errors)} "
        f"| {kinds} | {_server_signs(app_log)} |"
    )


def main() -> None:
    """Run the configurations and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--postgres", help="SQLAlchemy URL of an empty PostgreSQL database")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(run("1 worker, SQLite", f"sqlite:///{Path(tmp) / 'load.sqlite3'}", 1, args.users, args.rounds))
    if args.postgres:
        rows.append(run("4 workers, PostgreSQL", args.postgres, 4, args.users, args.rounds))
    print(f"machine: {os.cpu_count()} CPU(s); each user = launch, brief, case page, record a call")  # noqa: T201
    print("| configuration | users | requests | wall time | requests/s | p50 | p95 | errors | failed step | app log |")  # noqa: T201
    print("|---|---|---|---|---|---|---|---|---|---|")  # noqa: T201
    for row in rows:
        print(row)  # noqa: T201


if __name__ == "__main__":
    main()
