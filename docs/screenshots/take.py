"""Screenshots of every page of the demo at 1280 and 390 px, and every PDF turned into PNG pages.

Starts its own demo EHR and app on free loopback ports (its database in a temporary folder), both pinned to one
moment (``DEMO_NOW``, the day the demo charts were written for) so the pictures are the same on every run, and
walks the demo as its users would in headless Chromium: the EHR's patient list; each patient's denials, brief, call
script and case page; a refused call form, a recorded call and the case after it; a draft; the letter of medical
necessity; the hand-entry form (blank, and refused without a practice); the worklist, rates and audit pages. Every
PDF (briefs, scripts, draft, letter) is turned into PNG pages with ``pdftoppm``.

Run from the repository root with the project's environment (Playwright, and Debian's ``chromium``)::

    .venv/bin/python docs/screenshots/take.py                 # every picture into build/screenshots/
    .venv/bin/python docs/screenshots/take.py --keep          # and the curated set into docs/screenshots/
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # this checkout's code, whatever is installed

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app  # noqa: E402
from smart_app.serving import RunningServer, bind, wait_until_ready  # noqa: E402
from smart_app.web import create_app  # noqa: E402

DEMO_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("America/New_York"))  # as tests/e2e/pairs.py pins it
WIDTHS = (1280, 390)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PDFTOPPM = shutil.which("pdftoppm") or "/usr/bin/pdftoppm"  # poppler-utils
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
INSPECTOR = "screenshots"  # noqa: S105 - the demo EHR's read-everything token, on loopback only
PATIENTS = {"lumbar": "pat-lumbar-mri", "knee": "pat-knee-tka", "ra": "pat-ra-tnf", "glp1": "pat-glp1-t2dm"}
CALL = {"call_date": "2026-11-23", "start_time": "10:05", "end_time": "10:19", "reviewer_name": "Dr. Dana Whitfield",
        "reviewer_credentials": "MD", "reviewer_specialty": "Diagnostic Radiology", "disposition": "upheld",
        "notes": "Reviewer wants six weeks of documented physical therapy before imaging."}  # fmt: skip
#: The pictures kept in docs/screenshots/ (they show issue 16's fixes), each cut to at most this many pixels high.
CURATED = {
    "ehr-patients-1280.png": 900,
    "hand-entry-1280.png": 1100,
    "hand-entry-refused-390.png": 1400,
    "worklist-1280.png": 1000,
    "rates-390.png": 1800,
    "ra-brief-1280.png": 1600,
    "lumbar-brief-390.png": 1800,
    "lumbar-script-1280.png": 1400,
    "lumbar-case-refused-390.png": 1400,
    "lumbar-case-after-call-1280.png": 1600,
    "lumbar-draft-1280.png": 1400,
    "lumbar-letter-1280.png": 1600,
    "pdf-lumbar-brief-1.png": 1400,
    "pdf-lumbar-script-1.png": 1400,
    "pdf-lumbar-letter-1.png": 1400,
}


class Shooter:
    """Takes each page at every width, and turns PDFs into PNG pages, into one folder."""

    def __init__(self, page: Page, out: Path) -> None:
        self.page, self.out = page, out

    def shot(self, name: str, url: str | None = None, *, then: Any = None) -> None:
        """``name-<width>.png`` for each width: ``url`` opened (or the current page reloaded), then ``then(page)``
        run (a form filled and submitted), then the whole page."""
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.goto(url or self.page.url, wait_until="networkidle")
            if then is not None:
                then(self.page)
                self.page.wait_for_load_state("networkidle")
            self.page.screenshot(path=str(self.out / f"{name}-{width}.png"), full_page=True)

    def pdf(self, name: str, url: str) -> None:
        """``pdf-name-<page>.png`` for each page of the PDF at ``url`` (fetched with the browser's session)."""
        answer = self.page.request.get(url)
        if answer.status != 200 or answer.headers.get("content-type", "") != "application/pdf":
            raise RuntimeError(f"{name}: {url} answered {answer.status} {answer.headers.get('content-type')}")
        with tempfile.TemporaryDirectory() as folder:
            pdf = Path(folder) / f"{name}.pdf"
            pdf.write_bytes(answer.body())
            command = [PDFTOPPM, "-png", "-r", "90", str(pdf), str(self.out / f"pdf-{name}")]
            subprocess.run(command, check=True)  # noqa: S603 - our own file names, no shell
        for produced in self.out.glob(f"pdf-{name}-*.png"):  # pdftoppm pads page numbers by the page count
            produced.rename(produced.with_name(f"pdf-{name}-{int(produced.stem.rsplit('-', 1)[1])}.png"))


def _ctx(url: str) -> str:
    found = re.search(r"ctx=([\w-]+)", url)
    if not found:
        raise RuntimeError(f"no launch handle in {url}")
    return found.group(1)


def _csrf(page: Page) -> str:
    return str(page.locator('input[name="csrf"]').first.get_attribute("value"))


def walk(page: Page, ehr: str, app: str, out: Path) -> None:
    """Every page and PDF of the demo, as its users reach them."""
    take = Shooter(page, out)
    take.shot("ehr-patients", f"{ehr}/")
    lumbar: tuple[str, str] | None = None
    for key, patient in PATIENTS.items():
        page.goto(f"{ehr}/launch?patient={patient}", wait_until="networkidle")
        ctx = _ctx(page.url)
        take.shot(f"{key}-denials", page.url)
        links = page.locator('a[href^="/brief/"]').evaluate_all("links => links.map(a => a.getAttribute('href'))")
        denials = list(dict.fromkeys(re.match(r"/brief/([^/?.]+)", h).group(1) for h in links))  # type: ignore[union-attr]
        for n, denial in enumerate(denials):
            label = key if n == 0 else f"{key}{n + 1}"
            take.shot(f"{label}-brief", f"{app}/brief/{denial}?ctx={ctx}")
            take.shot(f"{label}-script", f"{app}/brief/{denial}/script?ctx={ctx}")
            take.shot(f"{label}-case", f"{app}/case/{denial}?ctx={ctx}")
            take.pdf(f"{label}-brief", f"{app}/brief/{denial}.pdf?ctx={ctx}")
            take.pdf(f"{label}-script", f"{app}/brief/{denial}/script.pdf?ctx={ctx}")
        if key == "lumbar":
            lumbar = (ctx, denials[0])
    if lumbar is None:
        raise RuntimeError("the lumbar MRI patient's denial was not found")
    ctx, denial = lumbar
    case = f"{app}/case/{denial}?ctx={ctx}"
    save_call = "Save note to the chart"
    take.shot("lumbar-case-refused", case, then=lambda p: p.get_by_role("button", name=save_call).click())

    page.goto(case, wait_until="networkidle")
    drafted = page.request.post(f"{app}/case/{denial}/drafts", form={"ctx": ctx, "csrf": _csrf(page),
                                                                      "kind": "p2p-request"})  # fmt: skip
    draft = drafted.url.split("?")[0]
    take.shot("lumbar-draft", f"{draft}?ctx={ctx}")
    take.pdf("lumbar-draft", f"{draft}.pdf?ctx={ctx}")

    page.goto(case, wait_until="networkidle")
    saved = page.request.post(f"{app}/outcome/{denial}", form={**CALL, "ctx": ctx, "csrf": _csrf(page)})
    note = re.search(r"note=([0-9a-f-]{36})", saved.url)
    if saved.status != 200 or not note:
        raise RuntimeError(f"the call was not recorded: {saved.status} {saved.url}")
    take.shot("lumbar-case-after-call", case)
    take.shot("lumbar-letter", f"{app}/case/{denial}/letter/{note.group(1)}?ctx={ctx}")
    take.pdf("lumbar-letter", f"{app}/case/{denial}/letter/{note.group(1)}.pdf?ctx={ctx}")

    form = f"{app}/denials/new?ctx={ctx}"
    take.shot("hand-entry", form)
    take.shot("hand-entry-refused", form, then=_hand_entry_without_practice)
    page.goto(form, wait_until="networkidle")  # saved on a practice of the four: it is on that practice's worklist
    _hand_entry_without_practice(page, practice="Prairie Family Medicine Associates")
    page.wait_for_load_state("networkidle")
    if "/brief/hand-" not in page.url:
        raise RuntimeError(f"the hand entry was not saved: {page.url}")

    page.goto(f"{app}/launch?iss={ehr}/fhir", wait_until="networkidle")  # the practice's own sign-in
    practice = _ctx(page.url)
    take.shot("worklist", f"{app}/worklist?ctx={practice}")
    take.shot("rates", f"{app}/rates?ctx={practice}")
    take.shot("audit", f"{app}/audit?ctx={practice}")


def _hand_entry_without_practice(page: Page, *, practice: str | None = None) -> None:
    """A denial typed from a faxed letter; submitted without a practice unless ``practice`` (its name) is given."""
    for field, value in {"payer": "Aetna", "service_code": "72148", "service_display": "MRI lumbar spine by fax",
                         "decided_date": "2026-11-20", "reference_number": "FAX-20261120",
                         "reason_text": "Not medically necessary."}.items():  # fmt: skip
        page.locator(f"#f-{field}").fill(value)
    if practice:
        page.locator("#f-practice").select_option(label=practice)
    page.get_by_role("button", name="Save and open the brief").click()


def start(folder: Path) -> tuple[RunningServer, RunningServer]:
    """The demo EHR and the app on free loopback ports, both at ``DEMO_NOW``."""
    ehr, app = bind(), bind()
    client = RegisteredClient("p2p-screenshots", [f"{app.url}/callback"], f"{app.url}/launch")
    ehr.mount(create_ehr_app(EhrSettings(base_url=ehr.url, clients=[client], inspector_token=INSPECTOR,
                                         require_consent=False, now=DEMO_NOW)))  # fmt: skip
    app.mount(create_app({"CLIENT_ID": "p2p-screenshots", "ALLOWED_ISS": [f"{ehr.url}/fhir"],
                          "EHR_ORIGINS": [ehr.url], "INSECURE_COOKIES": True,
                          "DATABASE_URL": f"sqlite:///{folder / 'app.sqlite3'}",
                          "CLOCK": lambda: DEMO_NOW}))  # fmt: skip
    wait_until_ready(f"{app.url}/health")
    wait_until_ready(f"{ehr.url}/fhir/.well-known/smart-configuration")
    return ehr, app


def keep(out: Path, target: Path) -> None:
    """Replace the PNGs in ``target`` with the curated pictures, each cut to its height."""
    from PIL import Image

    for old in target.glob("*.png"):
        old.unlink()
    for name, height in CURATED.items():
        with Image.open(out / name) as picture:
            cut = picture.convert("RGB").crop((0, 0, picture.width, min(picture.height, height)))
            cut.quantize(colors=256).save(target / name, optimize=True)  # a palette: a page's few colours, ~4x smaller


def main(argv: list[str] | None = None) -> int:
    """Take every picture; with ``--keep``, refresh the curated set in docs/screenshots/."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "screenshots", help="where every picture goes")
    parser.add_argument("--keep", action="store_true", help="copy the curated set into docs/screenshots/")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request drowns the outcome
    for old in args.out.glob("*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as folder:
        ehr, app = start(Path(folder))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
                context.clock.set_fixed_time(DEMO_NOW)  # the pages' countdowns read the browser's clock
                page = context.new_page()
                walk(page, ehr.url, app.url, args.out)
                browser.close()
        finally:
            app.stop()
            ehr.stop()
    if args.keep:
        keep(args.out, Path(__file__).resolve().parent)
    print(f"{len(list(args.out.glob('*.png')))} pictures in {args.out}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
