"""The practice worklist: denials seen at chart launches, across patients, opened by a standalone sign-in, on the
clock, filtered, assigned, each row opening that patient's brief; another EHR's (tenant's) cases never shown."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest
import requests
from pairs import DEMO_NOW

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import RunningServer, bind, wait_until_ready
from smart_app.web import create_app

PATIENTS = ("pat-lumbar-mri", "pat-knee-tka", "pat-ra-tnf", "pat-glp1-t2dm")


@dataclass
class Practice:
    app: str
    ehr_a: RunningServer
    ehr_b: RunningServer


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Practice]:
    app = bind()
    ehrs = [bind(), bind()]
    for ehr in ehrs:
        client = RegisteredClient("p2p-worklist", [f"{app.url}/callback"], f"{app.url}/launch")
        ehr.mount(create_ehr_app(EhrSettings(base_url=ehr.url, clients=[client], inspector_token="x",
                                             require_consent=False, now=DEMO_NOW)))  # fmt: skip
    db = Path(tmp_path_factory.mktemp("worklist")) / "app.sqlite3"
    app.mount(create_app({"CLIENT_ID": "p2p-worklist", "ALLOWED_ISS": [f"{e.url}/fhir" for e in ehrs],
                          "INSECURE_COOKIES": True, "DATABASE_URL": f"sqlite:///{db}",
                          "CLOCK": lambda: DEMO_NOW}))  # fmt: skip
    wait_until_ready(f"{app.url}/health")
    yield Practice(app.url, *ehrs)
    app.stop()
    for ehr in ehrs:
        ehr.stop()


def _chart_launches(browser: requests.Session, ehr: RunningServer, patients: tuple[str, ...]) -> None:
    for patient in patients:
        listing = browser.get(f"{ehr.url}/launch?patient={patient}", timeout=60)
        assert listing.status_code == 200 and "Prior-authorization denials" in listing.text


def _worklist(browser: requests.Session, practice: Practice, ehr: RunningServer) -> requests.Response:
    answer = browser.get(f"{practice.app}/launch", params={"iss": f"{ehr.url}/fhir"}, timeout=60)
    assert answer.status_code == 200 and "/worklist?ctx=" in answer.url, answer.url
    return answer


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row))).strip() for row in body.split("</tr>")[:-1]]


def test_the_worklist_shows_every_case_seen_on_the_clock(practice: Practice) -> None:
    browser = requests.Session()
    _chart_launches(browser, practice.ehr_a, PATIENTS)
    page = _worklist(browser, practice, practice.ehr_a)
    rows = _rows(page.text)
    assert len(rows) == 4
    # Soonest P2P window first; the pended knee request with no deadline last.
    assert re.match(r"\d+ d \d+ h 2026-\d\d-\d\d \d\d:\d\d ", rows[0]), rows[0]
    order = [next(name for name in ("Fairweather-Ruiz", "Lindqvist-Moor", "Quillfeather", "Brightwater") if name in r)
             for r in rows]  # fmt: skip
    assert order[-1] == "Brightwater" and "see the letter" in rows[-1]
    deadlines = [re.search(r"(2026-\d\d-\d\d \d\d:\d\d)", r) for r in rows[:-1]]
    assert all(deadlines) and [d.group(1) for d in deadlines] == sorted(d.group(1) for d in deadlines)  # type: ignore[union-attr]
    assert "4 open · 0 due within 24 hours · 0 P2P windows missed" in _text(page.text)
    assert all("New" in r for r in rows)


def test_filters_assignment_and_opening_a_row(practice: Practice) -> None:
    browser = requests.Session()
    _chart_launches(browser, practice.ehr_a, PATIENTS[:1])
    page = _worklist(browser, practice, practice.ehr_a)
    ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", page.url).group(1)  # type: ignore[union-attr]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    only_uhc = browser.get(f"{practice.app}/worklist", params={"ctx": ctx, "payer": "UnitedHealthcare"}, timeout=30)
    (uhc,) = _rows(only_uhc.text)
    assert "Quillfeather" in uhc and "CPT 72148" in uhc
    case_id = re.search(r'id="case-(\d+)"', only_uhc.text).group(1)  # type: ignore[union-attr]
    assigned = browser.post(f"{practice.app}/worklist/{case_id}/assign",
                            data={"ctx": ctx, "csrf": csrf, "assignee": "Maria (liaison)"}, timeout=30)  # fmt: skip
    assert 'value="Maria (liaison)"' in assigned.text
    forged = browser.post(f"{practice.app}/worklist/{case_id}/close", data={"ctx": ctx, "csrf": "x"}, timeout=30)
    assert forged.status_code == 400
    brief = browser.get(f"{practice.app}/worklist/{case_id}/open", params={"ctx": ctx}, timeout=60)
    assert brief.status_code == 200 and "/brief/cr-lumbar-mri-1?ctx=" in brief.url
    assert "Raymond T. Quillfeather" in brief.text and "MRI lumbar spine without contrast" in brief.text
    closed = browser.post(f"{practice.app}/worklist/{case_id}/close", data={"ctx": ctx, "csrf": csrf}, timeout=30)
    assert any("Quillfeather" in r and "Closed" in r for r in _rows(closed.text))


def test_another_ehrs_cases_are_never_shown_or_opened(practice: Practice) -> None:
    browser = requests.Session()
    _chart_launches(browser, practice.ehr_a, PATIENTS[:1])
    a_page = _worklist(browser, practice, practice.ehr_a)
    a_case = re.search(r'id="case-(\d+)"', a_page.text).group(1)  # type: ignore[union-attr]
    b_page = _worklist(browser, practice, practice.ehr_b)  # another organisation's EHR, same browser
    assert _rows(b_page.text) == [] and "No case matches" in b_page.text
    b_ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", b_page.url).group(1)  # type: ignore[union-attr]
    opened = browser.get(f"{practice.app}/worklist/{a_case}/open", params={"ctx": b_ctx}, timeout=30)
    assert opened.status_code == 404 and "Quillfeather" not in opened.text


def test_the_status_moves_with_the_case(practice: Practice) -> None:
    browser = requests.Session()
    listing = browser.get(f"{practice.ehr_a.url}/launch?patient=pat-ra-tnf", timeout=60)
    ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", listing.url).group(1)  # type: ignore[union-attr]
    denial = re.search(r'href="/brief/([^"?]+)', listing.text).group(1)  # type: ignore[union-attr]
    case = browser.get(f"{practice.app}/case/{denial}", params={"ctx": ctx}, timeout=60)
    csrf = re.search(r'name="csrf" value="([^"]+)"', case.text).group(1)  # type: ignore[union-attr]

    def status() -> str:
        (row,) = [r for r in _rows(_worklist(browser, practice, practice.ehr_a).text) if "Lindqvist-Moor" in r]
        return row

    browser.post(f"{practice.app}/case/{denial}/log", data={"ctx": ctx, "csrf": csrf, "kind": "requested",
                 "at": "2026-11-20T10:00", "channel": "fax"}, timeout=60)  # fmt: skip
    assert "P2P requested" in status()
    browser.post(f"{practice.app}/outcome/{denial}", data={"ctx": ctx, "csrf": csrf, "call_date": "2026-11-23",
                 "start_time": "10:00", "end_time": "10:10", "reviewer_name": "Dr. Ames", "disposition": "upheld"},
                 timeout=60)  # fmt: skip
    assert "Call done — upheld" in status()
    page = _worklist(browser, practice, practice.ehr_a)
    practice_ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", page.url).group(1)  # type: ignore[union-attr]
    rates = _text(browser.get(f"{practice.app}/rates", params={"ctx": practice_ctx}, timeout=30).text)
    # The rates read the same records: one request (fax, 2026-11-20), one call held (upheld, 2026-11-23).
    for figure in ("P2P requested 1", "Calls held 1", "Overturned 0 (0% of 1)", "Upheld 1",
                   "Median, denial to request 1.0 days (of 1)", "Median, request to call 3.0 days (of 1)",
                   "Aetna 1 1 0 1 0% (0 of 1)", "Dr. Samuel Okonkwo-Reyes 1 1 0 1 0% (0 of 1)"):  # fmt: skip
        assert figure in rates, figure


def test_rates_and_the_csv_export_read_the_same_records(practice: Practice) -> None:
    browser = requests.Session()
    _chart_launches(browser, practice.ehr_a, PATIENTS)
    page = _worklist(browser, practice, practice.ehr_a)
    ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", page.url).group(1)  # type: ignore[union-attr]
    rates = browser.get(f"{practice.app}/rates", params={"ctx": ctx}, timeout=30)
    text = _text(rates.text)
    assert rates.status_code == 200 and "Peer-to-peer outcomes" in text
    assert "<svg" in rates.text and 'role="img"' in rates.text  # drawn on the server, no script
    assert "<script src" not in rates.text.replace('<script src="/static/countdown.js" defer></script>', "")
    assert "Calls held" in text and "Overturn rate" in text
    csv_answer = browser.get(f"{practice.app}/worklist.csv", params={"ctx": ctx}, timeout=30)
    assert csv_answer.headers["Content-Type"].startswith("text/csv")
    assert csv_answer.headers["Cache-Control"] == "no-store"
    lines = csv_answer.text.strip().splitlines()
    assert lines[0].startswith("case,patient_id,patient,payer,service")
    assert any("Quillfeather" in line and "UnitedHealthcare" in line for line in lines[1:])
    assert len(lines) - 1 == len(_rows(page.text))
    hours = [row["hours_left"] for row in csv.DictReader(io.StringIO(csv_answer.text))]
    assert "447.0" in hours and all(re.fullmatch(r"-?\d+(\.\d)?", h) for h in hours if h), hours  # numbers to sum


def test_the_fhir_export_is_a_valid_bundle_of_tasks_and_the_notes_in_the_chart(practice: Practice) -> None:
    from fhir.resources.R4B.bundle import Bundle

    browser = requests.Session()
    listing = browser.get(f"{practice.ehr_a.url}/launch?patient=pat-glp1-t2dm", timeout=60)
    ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", listing.url).group(1)  # type: ignore[union-attr]
    case = browser.get(f"{practice.app}/case/cr-glp1-semaglutide-1", params={"ctx": ctx}, timeout=60)
    csrf = re.search(r'name="csrf" value="([^"]+)"', case.text).group(1)  # type: ignore[union-attr]
    saved = browser.post(f"{practice.app}/outcome/cr-glp1-semaglutide-1", data={"ctx": ctx, "csrf": csrf,
                         "call_date": "2026-11-23", "start_time": "11:00", "end_time": "11:12",
                         "reviewer_name": "Dr. Ames", "disposition": "overturned", "authorization_number": "A-77"},
                         timeout=60)  # fmt: skip
    reference = re.search(r"(DocumentReference/[0-9a-f]+)", saved.text).group(1)  # type: ignore[union-attr]
    page = _worklist(browser, practice, practice.ehr_a)
    wl_ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", page.url).group(1)  # type: ignore[union-attr]
    answer = browser.get(f"{practice.app}/worklist.fhir.json", params={"ctx": wl_ctx}, timeout=30)
    assert answer.headers["Content-Type"].startswith("application/fhir+json")
    bundle = answer.json()
    Bundle.model_validate(bundle)  # valid R4 (fhir.resources)
    tasks = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"]
    glp1 = next(t for t in tasks if t.get("focus") == {"reference": "ClaimResponse/cr-glp1-semaglutide-1"})
    assert glp1["for"] == {"reference": "Patient/pat-glp1-t2dm"}
    assert glp1["businessStatus"]["coding"][0]["code"] == "overturned" and glp1["status"] == "completed"
    documents = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    assert any(f"DocumentReference/{d['id']}" == reference for d in documents)


def test_a_launch_from_one_patients_chart_never_sees_the_practice_pages(practice: Practice) -> None:
    browser = requests.Session()
    _chart_launches(browser, practice.ehr_a, PATIENTS)
    listing = browser.get(f"{practice.ehr_a.url}/launch?patient=pat-lumbar-mri", timeout=60)
    patient_ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", listing.url).group(1)  # type: ignore[union-attr]
    for path in ("/worklist", "/rates", "/worklist.csv", "/worklist.fhir.json", "/worklist/1/open"):
        answer = browser.get(f"{practice.app}{path}", params={"ctx": patient_ctx}, timeout=30)
        assert answer.status_code == 403, path
        assert "The practice's pages need a practice sign-in" in unescape(answer.text)
        for other in ("Lindqvist-Moor", "Brightwater", "Fairweather-Ruiz"):
            assert other not in answer.text


def test_opening_many_rows_never_signs_the_worklist_out(practice: Practice) -> None:
    """Each opened row is a launch kept in the session (at most ten); the worklist's own sign-in, used at every
    row, must never be the one dropped — a liaison works through more than ten denials in a morning."""
    browser = requests.Session()
    _chart_launches(browser, practice.ehr_a, PATIENTS)
    page = _worklist(browser, practice, practice.ehr_a)
    ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", page.url).group(1)  # type: ignore[union-attr]
    ids = re.findall(r'id="case-(\d+)"', page.text)
    for n in range(14):
        opened = browser.get(f"{practice.app}/worklist/{ids[n % len(ids)]}/open", params={"ctx": ctx}, timeout=60)
        assert opened.status_code == 200 and "/brief/" in opened.url, (n, opened.url)
    again = browser.get(f"{practice.app}/worklist", params={"ctx": ctx}, timeout=30)
    assert again.status_code == 200 and len(_rows(again.text)) == len(ids)
