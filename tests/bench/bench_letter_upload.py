"""Benchmark: a denial letter from upload to brief, over HTTP, as a liaison does it. The real app and demo EHR on
loopback (``tests/e2e/pairs.start_pair``, charts dated today); for each letter, as its text PDF and as its faxed scan
downloaded from the demo EHR's fax inbox (so it matches the chart as dated today): a patient launch, the upload
(saved, read by the app's reader), the review page, each page image, the confirm (the prefilled fields, with what
the reader left blank typed from the letter's expected fields), and the brief. Prints each stage's seconds, median
(max) over the rounds. Not collected by pytest: ``python tests/bench/bench_letter_upload.py [--rounds 3]
[--letters uhc-lumbar-mri,cigna-glp1-semaglutide]``.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from pairs import Pair, review_form, start_pair  # noqa: E402

from smart_app.letters.review import SERVICE_ROWS, system_key  # noqa: E402
from smart_app.sandbox.demo_letters import expected_fields, letter_specs, shift_days_for  # noqa: E402
from smart_app.sandbox.fax_inbox import patient_of  # noqa: E402

LETTERS = ("uhc-lumbar-mri", "cigna-glp1-semaglutide")
KINDS = {"letter.pdf": "text PDF", "scan.pdf": "scan"}
PRACTICE = {  # the practice each demo chart's case belongs to (the demo clinician has four)
    "lumbar-mri": "Organization/org-lumbar-prairie-family-med",
    "glp1-t2dm": "Organization/org-glp1-front-range-im",
    "ra-tnf": "Organization/org-ra-susquehanna-rheum",
    "knee-tka": "Organization/org-knee-gulfcoast-ortho",
}
STAGES = ("upload + read", "review page", "page image", "confirm", "brief")


@dataclass
class Timings:
    """Seconds per stage over the rounds of one letter and kind; the page images one entry per image."""

    pages: int = 0
    typed: int = 0
    stages: dict[str, list[float]] = field(default_factory=lambda: {stage: [] for stage in STAGES})
    whole: list[float] = field(default_factory=list)
    image_bytes: list[int] = field(default_factory=list)


@contextmanager
def _pair() -> Iterator[Pair]:
    with tempfile.TemporaryDirectory() as folder:
        pair = start_pair(Path(folder), "p2p-bench-letters")
        pair.sign_in_as("demo-clinician")
        try:
            yield pair
        finally:
            pair.stop()


def _launch(pair: Pair, patient: str) -> tuple[requests.Session, str, str]:
    """A liaison's browser launched into ``patient``'s chart: the session, the launch's ctx and csrf."""
    browser = requests.Session()
    page = browser.get(f"{pair.ehr.url}/launch", params={"patient": patient}, timeout=120)
    page.raise_for_status()
    ctx = re.search(r"ctx=([\w-]+)", page.url).group(1)  # type: ignore[union-attr]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return browser, ctx, csrf


def typed_values(expected: dict[str, Any]) -> dict[str, str]:
    """The review form as a person would fill it from the letter (``expected_fields``' shape)."""
    policy, p2p, reviewer = (expected.get(k) or {} for k in ("policyCited", "p2p", "reviewer"))
    decided = expected["decidedAt"] or ""
    window = p2p.get("window") or {}
    values = {
        "payer": expected["payer"], "delegate": expected["delegate"], "member_id": expected["memberId"],
        "patient_name": expected["patientName"], "birth_date": expected["birthDate"],
        "reference": expected["reference"], "reason_text": expected["reasonText"],
        "policy_title": policy.get("title"), "policy_id": policy.get("id"), "policy_section": policy.get("section"),
        "p2p_phone": p2p.get("phone"), "p2p_fax": p2p.get("fax"), "p2p_portal": p2p.get("portal"),
        "p2p_window_amount": window.get("amount"), "p2p_window_unit": window.get("unit"),
        "reviewer_name": reviewer.get("name"), "reviewer_credentials": reviewer.get("credentials"),
        "reviewer_specialty": reviewer.get("specialty"), "appeal_deadline": expected["appealDeadline"],
        "decision": expected["decision"], "decided_date": decided[:10], "decided_time": decided[11:16],
    }  # fmt: skip
    for i, service in enumerate((expected["services"] or [])[:SERVICE_ROWS]):
        values |= {f"service_system_{i}": system_key(service["system"]), f"service_code_{i}": service["code"],
                   f"service_units_{i}": service["units"]}  # fmt: skip
    return {name: "" if value is None else str(value) for name, value in values.items()}


def filled(prefilled: dict[str, str], expected: dict[str, Any]) -> tuple[dict[str, str], int]:
    """The form to confirm: the reader's values kept, what it left blank typed from the letter; and how many
    fields were typed."""
    form, typed = dict(prefilled), 0
    for name, value in typed_values(expected).items():
        if value and not form.get(name):
            form[name], typed = value, typed + 1
    return form, typed


def _timed(action: Callable[[], requests.Response]) -> tuple[requests.Response, float]:
    started = time.perf_counter()
    response = action()
    return response, time.perf_counter() - started


def _one(pair: Pair, letter_id: str, kind: str, expected: dict[str, Any], chart: str, into: Timings) -> None:
    """One upload of the letter through to its brief, each stage's seconds added to ``into``."""
    patient = f"pat-{chart}"
    browser, ctx, csrf = _launch(pair, patient)
    data = browser.get(f"{pair.ehr.url}/chart/{patient}/letters/{letter_id}/{kind}", timeout=120).content
    app = pair.app.url
    started = time.perf_counter()
    sent = browser.post(f"{app}/letters", data={"ctx": ctx, "csrf": csrf}, allow_redirects=False, timeout=600,
                        files={"letter": (f"{letter_id}-{kind}", data, "application/pdf")})  # fmt: skip
    review_url = urljoin(app, sent.headers["Location"])
    while "Reading the letter…" in (waiting := browser.get(review_url, timeout=120).text):  # a long read refreshes
        time.sleep(0.2)
    upload = time.perf_counter() - started
    page, review = _timed(lambda: browser.get(review_url, timeout=120))
    if 'name="payer"' not in page.text:
        raise RuntimeError(f"{letter_id} {kind}: no review form ({waiting[:200]!r})")
    images = [unescape(src) for src in re.findall(r'<img src="([^"]+/pages/\d+\.png[^"]*)"', page.text)]
    image_times = []
    for src in images:
        png, seconds = _timed(partial(browser.get, urljoin(app, src), timeout=120))
        if not png.content.startswith(b"\x89PNG"):
            raise RuntimeError(f"{letter_id} {kind}: page image {src} is not a PNG")
        image_times.append(seconds)
        into.image_bytes.append(len(png.content))
    form, into.typed = filled(review_form(page.text), expected)
    form["practice"] = form.get("practice") or PRACTICE[chart]
    confirmed, confirm = _timed(lambda: browser.post(review_url.split("?")[0] + "/confirm", data=form,
                                                     allow_redirects=False, timeout=120))  # fmt: skip
    location = confirmed.headers.get("Location", "")
    if "/brief/letter-" not in location:
        raise RuntimeError(f"{letter_id} {kind}: confirm did not open a brief ({confirmed.status_code})")
    brief, brief_seconds = _timed(lambda: browser.get(urljoin(app, location), timeout=120))
    if brief.status_code != 200 or expected["reference"] not in brief.text:
        raise RuntimeError(f"{letter_id} {kind}: the brief does not show the letter's reference")
    into.pages = len(images)
    for stage, seconds in zip(STAGES, (upload, review, sum(image_times), confirm, brief_seconds), strict=True):
        if stage == "page image":
            into.stages[stage].extend(image_times)
        else:
            into.stages[stage].append(seconds)
    into.whole.append(upload + review + sum(image_times) + confirm + brief_seconds)


def run(rounds: int, letters: tuple[str, ...] = LETTERS) -> dict[tuple[str, str], Timings]:
    """Every letter, as each kind, uploaded through to its brief ``rounds`` times (after one round to warm the app
    and the reader): the timings of each."""
    specs = {spec["id"]: spec for spec in letter_specs()}
    results: dict[tuple[str, str], Timings] = {}
    with _pair() as pair:
        shift = shift_days_for(pair.ehr_flask.extensions["demo_ehr"].charts_dated or date.today())
        for letter_id in letters:
            spec = specs[letter_id]
            chart = patient_of(spec).removeprefix("pat-")
            expected = expected_fields(spec, shift_days=shift)
            for kind in KINDS:
                _one(pair, letter_id, kind, expected, chart, Timings())  # warm-up, not counted
                timings = results.setdefault((letter_id, kind), Timings())
                for _ in range(rounds):
                    _one(pair, letter_id, kind, expected, chart, timings)
    return results


def _spread(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.2f} ({max(seconds):.2f})" if seconds else "—"


HEADER = ("| letter | as | pages | upload + read | review page | page image (each) | confirm | brief | whole | "
          "page image KB | fields typed |")  # fmt: skip


def rows(results: dict[tuple[str, str], Timings]) -> list[str]:
    """The markdown table's header and rows: seconds, median (max)."""
    lines = [HEADER, "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (letter_id, kind), t in results.items():
        kib = f"{statistics.median(t.image_bytes) / 1024:.0f}" if t.image_bytes else "—"
        cells = [letter_id, KINDS[kind], str(t.pages), *(_spread(t.stages[s]) for s in STAGES), _spread(t.whole),
                 kib, str(t.typed)]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--letters", default=",".join(LETTERS), help="letter ids from the demo's fax inbox")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    for line in rows(run(args.rounds, tuple(args.letters.split(",")))):
        print(line)  # noqa: T201


if __name__ == "__main__":
    main()
