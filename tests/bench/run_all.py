"""Every benchmark in one run: prints the tables and writes them, with the machine they ran on, to
``docs/benchmarks.md``. Not collected by pytest: ``python tests/bench/run_all.py [--rounds 5] [--load-users 200]
[--postgres URL] [--only 5,6] [--out docs/benchmarks.md]``. ``--only`` runs just the sections named and puts them in
place of theirs in ``--out``, keeping the others as they were.

Side by side in the same run:
1. Reading the brief's chart: the app's FHIR client (one concurrent burst of searches, then concurrent ``_id``
   bursts for what they cite) against a plain client reading the same searches one after another, at 0 ms and
   50 ms added per FHIR request: time, ratio, requests.
2. Criteria evaluation (index + every shipped policy) for 100 to 50,000 resources, against parsing the same chart.
3. The brief's HTML and its fitted one-page PDF, per demo patient.
4. The load run (``bench_load``): concurrent users launching, opening briefs and recording calls.
5. Reading the shipped denial letters (``bench_letters``): per-field accuracy on the text PDFs and the scans, OCR
   seconds per page, read seconds per letter, at each OCR setting compared.
6. A letter from upload to brief over HTTP (``bench_letter_upload``): upload and read, review page, page image,
   confirm, brief.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_criteria  # noqa: E402
import bench_letter_upload  # noqa: E402
import bench_letters  # noqa: E402
import bench_load  # noqa: E402
from bench_render import _time  # noqa: E402

from smart_app.brief.render import render_pdf_fitted, render_print_html  # noqa: E402
from smart_app.cli import brief_clock, brief_from_bundle  # noqa: E402
from smart_app.content import content_dir  # noqa: E402
from smart_app.fhir.chart import chart_from_bundle  # noqa: E402
from smart_app.fhir.client import FhirClient  # noqa: E402
from smart_app.fhir.reader import PAGE_SIZE, PATIENT_SEARCHES, fetch_chart, missing_references  # noqa: E402
from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app  # noqa: E402
from smart_app.serving import bind, wait_until_ready  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHARTS = ("lumbar-mri", "ra-tnf", "knee-tka", "glp1-t2dm")
PATIENT = {"lumbar-mri": "pat-lumbar-mri", "ra-tnf": "pat-ra-tnf", "knee-tka": "pat-knee-tka",
           "glp1-t2dm": "pat-glp1-t2dm"}  # fmt: skip
INSPECTOR = "bench-inspector"
NOTES = {  # how to read each table (what is measured, not the figures)
    "1": (
        "Both clients make the same 13 requests (10 searches, then the cited Organization, Practitioner and "
        "PractitionerRole reads). With no latency the EHR, in the same process, answers faster than threads "
        "start, so bursts buy little; with 50 ms per request the app's client waits for three bursts instead "
        "of thirteen round trips."
    ),
    "2": (
        "Criteria time per 1,000 resources stays flat from 1,000 to 50,000 resources (linear growth); parsing"
        " — fhir.resources validation of every resource — costs about five times the criteria."
    ),
    "3": (
        "The PDF is the one-page fitted brief: a chart whose brief needs shortening takes several WeasyPrint "
        "passes, which shows as a longer PDF time."
    ),
    "4": (
        "Each user is four requests. The errors column counts requests the load generator gave up on (120 s);"
        " the last column is what the app's own log says about them. When that column says none, the errors "
        "are requests queued behind the PDF renders of too few processes, not failures inside the app."
    ),
    "5": (
        "A field is right when it equals the expected value exactly (the reason with its whitespace made single; a "
        "field the letter does not state must be null). Columns compare OCR settings: the resolution pages are read "
        "at (`P2P_LETTER_OCR_DPI`, default 300) and tesseract's OpenMP threads (`OMP_THREAD_LIMIT`; the app sets 1 "
        "unless the deployment sets it). A text PDF needs no OCR. The last row is the whole `p2p-brief brief BUNDLE "
        "--letter FILE` pipeline (read the letter, check its patient against the chart's, brief the chart against "
        "the letter's denial) for the letters whose demo chart holds their patient, at the first OCR setting; the "
        "first text brief warms the criteria and rule files.\n\n"
        "Measured once on 2026-12-08 (not re-run by this script): 200 dpi reads a page a quarter to a third "
        "faster but loses identifiers to OCR confusions (references, a patient name, a decision time, a portal "
        "address), and the ids are what match a letter to its patient and request, so 300 dpi stays the default; "
        "two threads per page are slower, not faster, on two shared cores (OpenMP threads spin against the other "
        "work: 8–9 s a page with tesseract's default threads against 2–3 s with one, at load average 4.4); the "
        "3×3 median filter before OCR is worth 22 fields (162/189 without it). The reader corrects OCR only in "
        "codes and dates, never in the payer's words, so one OCR slip inside a reason of ~100 words makes that "
        'reason wrong ("you.or your provider", "OZempic", "total Knee arthroplasty"); of the two birth dates '
        "missed, a 1-bit fax's crowded header row lost its DOB cell, and one read as 93/14/1974 is left blank, "
        "not guessed. "
        "`tests/letters/test_shipped_letters.py` holds scans to floors (reason text 60 %, birth date 75 %, every "
        "other field 100 %) and text PDFs to 100 %."
    ),
    "6": (
        "Each upload is a liaison's: a patient launch from the demo EHR (not timed), the letter downloaded from the "
        "demo EHR's fax inbox dated for today, `POST /letters` until the review form shows (the upload waits for "
        "the read up to `P2P_LETTER_WAIT_SECONDS`, then the page refreshes), the review page again, each page image "
        "(`/letters/<id>/pages/<n>.png`: seconds and KB per image), `POST /letters/<id>/confirm` with the prefilled "
        "fields (the fields the reader left blank typed from what a person reads off the letter: *fields typed*), "
        "and the brief. *Whole* is the sum of the stages, every page image fetched one after another. One warm-up "
        "upload of each letter and kind before the timed rounds is not counted. Everything on loopback, the app and "
        "the demo EHR in the same process as the client. The read is nearly all of the time: OCR for a scan, about "
        "0.1 s for a text PDF (its text layer, no OCR). A grey scan's page image has been a greyscale PNG since "
        "2026-12-08: sent in RGB it was twice the bytes (404 and 337 KB a page, median) and 0.10 s a page."
    ),
}


def machine() -> str:
    """The machine in one line: CPU model and count, memory, OS, Python."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                      if ln.startswith("model name")), model)  # fmt: skip
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    return (f"{model}, {os.cpu_count()} CPU(s){memory}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")  # fmt: skip


def _sequential_chart(base: str, patient: str) -> int:
    """The plain way: each search one after another (following next links), then each cited type one after
    another. Returns how many resources it read."""
    http = requests.Session()
    headers = {"Authorization": f"Bearer {INSPECTOR}", "Accept": "application/fhir+json"}
    resources: list[dict[str, Any]] = []

    def search(url: str, params: dict[str, str] | None) -> None:
        while url:
            body = http.get(url, params=params, headers=headers, timeout=60).json()
            resources.extend(e["resource"] for e in body.get("entry") or [])
            url = next((link["url"] for link in body.get("link") or [] if link.get("relation") == "next"), "")
            params = None

    for rtype, param in PATIENT_SEARCHES.items():
        search(f"{base}/{rtype}", {param: patient, "_count": PAGE_SIZE})
    for _ in range(2):
        for rtype, ids in missing_references(resources, base).items():
            search(f"{base}/{rtype}", {"_id": ",".join(sorted(ids))})
    return len(resources)


def chart_fetch(rounds: int) -> list[str]:
    """Rows: latency, patient, app client ms, sequential ms, ratio, requests each."""
    server = bind()
    ehr = create_ehr_app(EhrSettings(base_url=server.url, inspector_token=INSPECTOR, clients=[
        RegisteredClient("bench", [f"{server.url}/cb"], f"{server.url}/launch")]))  # fmt: skip
    server.mount(ehr)
    wait_until_ready(f"{server.url}/fhir/.well-known/smart-configuration")
    state, base = ehr.extensions["demo_ehr"], f"{server.url}/fhir"
    rows = []
    try:
        for latency in (0, 50):
            state.settings.latency_ms = latency
            for slug in CHARTS:
                patient = PATIENT[slug]
                client = FhirClient(base, INSPECTOR)
                fetch_chart(client, patient)  # warm the connections
                state.reset_request_count()
                app_ms = _time(lambda p=patient: fetch_chart(FhirClient(base, INSPECTOR), p), rounds)
                app_requests = state.request_count // rounds
                state.reset_request_count()
                plain_ms = _time(lambda p=patient: _sequential_chart(base, p), rounds)
                plain_requests = state.request_count // rounds
                rows.append(f"| {latency} ms | {slug} | {app_ms:.0f} ms ({app_requests} req) "
                            f"| {plain_ms:.0f} ms ({plain_requests} req) | {plain_ms / app_ms:.1f}× |")  # fmt: skip
    finally:
        state.settings.latency_ms = 0
        server.stop()
    return rows


def criteria(rounds: int) -> list[str]:
    """Rows: resources, parse ms, index+evaluate ms, ms per 1,000 resources, ratio to parsing, peak MiB."""
    bench_criteria._evaluate_all(bench_criteria._chart(100))  # warm the library and the FHIRPath cache
    rows = []
    for size in bench_criteria.SIZES:
        bundle: dict[str, Any] = {"resourceType": "Bundle", "entry": []}
        chart = bench_criteria._chart(size)
        bundle["entry"] = [{"resource": r} for rtype in chart.by_type for r in chart.of_type(rtype)]
        parse = _time(lambda b=bundle: chart_from_bundle(b, patient_id="pat-lumbar-mri"), rounds)
        evaluate = _time(lambda c=chart: bench_criteria._evaluate_all(c), rounds)
        rows.append(f"| {size:,} | {parse:.0f} ms | {evaluate:.0f} ms | {evaluate / size * 1000:.1f} ms "
                    f"| {evaluate / parse:.2f} |")  # fmt: skip
    return rows


def rendering(rounds: int) -> list[str]:
    """Rows: patient, brief model ms, HTML ms, fitted PDF ms."""
    clock = brief_clock("2026-11-23", "America/New_York")
    demo = content_dir("fhir") / "demo"
    render_pdf_fitted(brief_from_bundle(demo / "lumbar-mri.json", clock=clock))  # warm WeasyPrint and the fonts
    rows = []
    for slug in CHARTS:
        path = demo / f"{slug}.json"
        model = _time(lambda p=path: brief_from_bundle(p, clock=clock), rounds)
        brief = brief_from_bundle(path, clock=clock)
        html = _time(lambda b=brief: render_print_html(b), rounds)
        pdf = _time(lambda b=brief: render_pdf_fitted(b), rounds)
        rows.append(f"| {slug} | {model:.0f} ms | {html:.1f} ms | {pdf:.0f} ms |")
    return rows


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def letters_section() -> list[str]:
    """Section 5: the shipped letters read, per field and OCR setting."""
    count = len(bench_letters.letter_ids())
    pages = sum(bench_letters.page_count(i) for i in bench_letters.letter_ids())
    tables = bench_letters.tables(bench_letters.variants_of(bench_letters.VARIANTS))
    return [
        "## 5. Reading denial letters (text PDF and scan)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {machine()} ({_load()} at the end).",
        "",
        f"The {count} shipped letters of "
        f"`tests/data/letters` ({pages} pages), each as its text PDF and as its 200 dpi scan (crooked 1–2.5°, grained, "
        "speckled, blurred, JPEG; the faxed ones 1-bit with the sending machine's line on top).",
        "",
        *tables,
        "",
        NOTES["5"],
    ]


def upload_section(rounds: int) -> list[str]:
    """Section 6: letters uploaded through to their brief over HTTP."""
    letters = bench_letter_upload.LETTERS
    table = bench_letter_upload.rows(bench_letter_upload.run(rounds, letters))
    return [
        "## 6. A letter from upload to brief, over HTTP",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {machine()} ({_load()} at the end).",
        "",
        f"Seconds, median (max) over {rounds} uploads of each letter as each kind, default OCR settings.",
        "",
        *table,
        "",
        NOTES["6"],
    ]


def _chart_section(rounds: int) -> list[str]:
    return [
        "## 1. Reading the brief's chart: the app's client against one request after another",
        "",
        "| added latency per FHIR request | chart | app client (concurrent bursts) | plain sequential client | "
        "speed-up |",
        "|---|---|---|---|---|",
        *chart_fetch(rounds),
        "",
        NOTES["1"],
    ]


def _criteria_section(rounds: int) -> list[str]:
    return [
        "## 2. Criteria evaluation as the chart grows (index + all shipped policies), against parsing it",
        "",
        "| resources | parse (validate + index) | criteria | criteria per 1,000 resources | criteria ÷ parse |",
        "|---|---|---|---|---|",
        *criteria(max(1, rounds // 2)),
        "",
        NOTES["2"],
    ]


def _rendering_section(rounds: int) -> list[str]:
    return [
        "## 3. Rendering one brief",
        "",
        "| chart | brief model (parse + criteria + triage) | HTML | one-page PDF (fitted) |",
        "|---|---|---|---|",
        *rendering(rounds),
        "",
        NOTES["3"],
    ]


def _load_section(users: int, postgres: str | None) -> list[str]:
    lines = [
        f"## 4. Load: {users} concurrent users (launch, brief, case page, record a call)",
        "",
        "| configuration | users | requests | wall time | requests/s | p50 | p95 | errors | failed step | app log |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        lines.append(bench_load.run("1 worker, SQLite", f"sqlite:///{Path(tmp) / 'load.sqlite3'}", 1, users, 1))
    if postgres:
        lines.append(bench_load.run("4 workers, PostgreSQL", postgres, 4, users, 1))
    return [*lines, "", NOTES["4"]]


def _sections(args: argparse.Namespace) -> dict[str, Callable[[], list[str]]]:
    """Each section's number and how to run it."""
    return {
        "1": lambda: _chart_section(args.rounds),
        "2": lambda: _criteria_section(args.rounds),
        "3": lambda: _rendering_section(args.rounds),
        "4": lambda: _load_section(args.load_users, args.postgres),
        "5": letters_section,
        "6": lambda: upload_section(args.rounds),
    }


def header() -> list[str]:
    """The report's title and the machine it ran on."""
    return [
        "# Benchmarks",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python tests/bench/run_all.py` on: {machine()}.",
        "Everything on loopback; the demo EHR runs in the same process as the client in sections 1, 4 and 6. "
        "Sections 5 and 6 say when and on what machine they ran, and its load (`run_all.py --only 5,6` re-runs "
        "them in place).",
    ]


def splice(report: str, sections: dict[str, str]) -> str:
    """``report`` (a docs/benchmarks.md) with each ``## N.`` section in ``sections`` put in place of its own (or
    added, in number order), the others kept as they were."""
    parts = re.split(r"(?m)^(?=## \d+\.)", report)
    preamble, kept = parts[0], {re.match(r"## (\d+)\.", p).group(1): p for p in parts[1:]}  # type: ignore[union-attr]
    kept |= {number: text.rstrip("\n") + "\n\n" for number, text in sections.items()}
    body = "".join(kept[n] for n in sorted(kept, key=int))
    return (preamble + body).rstrip("\n") + "\n"


def main() -> None:
    """Run everything (or the sections ``--only`` names), print the report and write it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--load-users", type=int, default=200)
    parser.add_argument("--postgres", help="an empty PostgreSQL database for the four-worker load run")
    parser.add_argument("--only", help="run just these sections (e.g. 5,6) and put them in place in --out")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    runners = _sections(args)
    chosen = args.only.split(",") if args.only else list(runners)
    unknown = [n for n in chosen if n not in runners]
    if unknown:
        parser.error(f"no section {', '.join(unknown)}; sections are {', '.join(runners)}")
    ran = {number: "\n".join(runners[number]()) + "\n" for number in chosen}
    out = Path(args.out)
    if args.only and out.exists():
        report = splice(out.read_text(encoding="utf-8"), ran)
    else:
        report = splice("\n".join(header()) + "\n\n", ran)
    print("\n".join(ran.values()))  # noqa: T201
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
