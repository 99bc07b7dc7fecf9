"""A denial letter uploaded from the patient's page: saved before it is read, reviewed beside its page images with
each field's source line, confirmed into a case and its brief; a letter for another patient refused with the
reason; a letter that cannot be read listed with why; the page images only for the patient's own launch. Real app
and demo EHR on loopback, no browser; the reading is a fixed ``LetterReading`` (the reader has its own tests)."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from pairs import Pair, every_log_line_at_debug, start_pair
from pairs import review_form as _form
from PIL import Image, ImageDraw

from smart_app.letters.model import (
    Box,
    Found,
    LetterFields,
    LetterReading,
    LetterText,
    Line,
    Page,
    Service,
    Source,
    Window,
)
from smart_app.sandbox.bad_letters import long_letter
from smart_app.store.audit import audit_rows
from smart_app.store.cases import cases_for
from smart_app.web import letter_views

ZONE = "America/Chicago"
PRAIRIE = "Organization/org-lumbar-prairie-family-med"
LINES = (
    "UnitedHealthcare",
    "Member: QUILLFEATHER, RAYMOND T    DOB: 03/14/1974",
    "Member ID: W123456789",
    "Reference: UHC-LTR-5521",
    "Service: CPT 72148 MRI lumbar spine without contrast, 1 unit",
    "Reason: Imaging is not medically necessary without six weeks of conservative therapy.",
    "Peer-to-peer: call 1-800-555-0142 within 14 calendar days of this letter.",
)


@cache
def letter_pdf(lines: tuple[str, ...] = LINES) -> bytes:
    """A one-page letter as a PDF (an image page, as a fax arrives); the same bytes every time (Pillow stamps a
    PDF with the second it was made)."""
    page = Image.new("RGB", (850, 1100), "white")
    draw = ImageDraw.Draw(page)
    for i, text in enumerate(lines):
        draw.text((60, 80 + 40 * i), text, fill="black")
    out = io.BytesIO()
    page.save(out, "PDF", resolution=100)
    return out.getvalue()


def _line(i: int) -> Line:
    return Line(1, LINES[i], Box(0.07, (80 + 40 * i) / 1100, 0.8, (95 + 40 * i) / 1100), 91.0)


def _found(value: object, i: int) -> Found[object]:
    return Found(value, Source.of(_line(i)))


def reading(decided: date, born: date, *, name: str = "QUILLFEATHER, RAYMOND T") -> LetterReading:
    """What a reader reads off the letter above (no reviewer: that field stays blank)."""
    fields = LetterFields(
        payer=_found("UnitedHealthcare", 0),  # type: ignore[arg-type]
        patient_name=_found(name, 1),  # type: ignore[arg-type]
        birth_date=_found(born, 1),  # type: ignore[arg-type]
        member_id=_found("W123456789", 2),  # type: ignore[arg-type]
        reference=_found("UHC-LTR-5521", 3),  # type: ignore[arg-type]
        decided_at=_found(decided, 0),  # type: ignore[arg-type]
        services=(_found(Service("http://www.ama-assn.org/go/cpt", "72148", 1), 4),),  # type: ignore[arg-type]
        reason_text=_found(LINES[5].removeprefix("Reason: "), 5),  # type: ignore[arg-type]
        p2p_phone=_found("1-800-555-0142", 6),  # type: ignore[arg-type]
        p2p_window=_found(Window(14, "calendar-days", "within 14 calendar days"), 6),  # type: ignore[arg-type]
        decision=_found("denied", 5),  # type: ignore[arg-type]
    )
    text = LetterText((Page(1, tuple(_line(i) for i in range(len(LINES))), ocr_used=True, ocr_confidence=88.5),))
    return LetterReading(fields, text)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    started = start_pair(tmp_path_factory.mktemp("letters"), "p2p-letters", app_settings={"TIMEZONE": ZONE})
    started.sign_in_as("demo-clinician")
    yield started
    started.stop()


def _launch(pair: Pair, patient: str) -> tuple[requests.Session, str, str]:
    browser = requests.Session()
    page = browser.get(f"{pair.ehr.url}/launch?patient={patient}", timeout=60)
    assert page.status_code == 200 and "Upload the payer's denial letter" in page.text
    ctx = re.search(r"ctx=([\w-]+)", page.url).group(1)  # type: ignore[union-attr]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return browser, ctx, csrf


def _upload(pair: Pair, browser: requests.Session, ctx: str, csrf: str, data: bytes, name: str) -> requests.Response:
    return browser.post(f"{pair.app.url}/letters", data={"ctx": ctx, "csrf": csrf},
                        files={"letter": (name, data, "application/pdf")}, timeout=60)  # fmt: skip


def _born(pair: Pair, patient: str = "pat-lumbar-mri") -> date:
    """The patient's birth date in the demo EHR (its charts are moved to the day it runs)."""
    found = requests.get(f"{pair.fhir}/Patient/{patient}", headers={"Authorization": "Bearer x"}, timeout=30)
    return date.fromisoformat(found.json()["birthDate"])


def _yesterday() -> date:
    return datetime.now(ZoneInfo(ZONE)).date() - timedelta(days=1)


def test_an_uploaded_letter_is_reviewed_beside_its_page_and_becomes_a_case(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: reading(_yesterday(), _born(pair)))
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    uploaded = _upload(pair, browser, ctx, csrf, letter_pdf(), "uhc-denial.pdf")
    assert uploaded.status_code == 200 and re.search(r"/letters/\d+\?ctx=", uploaded.url)
    page = uploaded.text
    assert "Review the letter" in page and "uhc-denial.pdf" in page
    assert 'value="W123456789"' in page and "page 1: ‘Member ID: W123456789’" in page
    assert "page 1: ‘Service: CPT 72148 MRI lumbar spine without contrast, 1 unit’" in page
    assert 'id="f-reviewer_name" name="reviewer_name" type="text" value=""' in page  # not found: blank
    assert "Not found on the letter" in page
    assert "Page 1 · read by OCR, confidence 88%" in page and "could not read" not in page
    assert re.search(r"#box-member-id \{ left: 7\.00%; top: 14\.55%;", page)  # the source line boxed on the page

    image_url = re.search(r'<img src="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    image = browser.get(f"{pair.app.url}{unescape(image_url)}", timeout=60)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
    assert image.headers["Cache-Control"] == "no-store" and image.content.startswith(b"\x89PNG")

    form = _form(page)
    form["reason_text"] = ""
    refused = browser.post(f"{pair.app.url}{uploaded.url.split(pair.app.url)[1].split('?')[0]}/confirm", data=form,
                           timeout=60)  # fmt: skip
    assert refused.status_code == 400
    assert "Copy the reason exactly as the letter words it." in refused.text
    assert "Choose the practice this denial belongs to." in refused.text  # the demo clinician has four
    assert 'value="UHC-LTR-5521"' in refused.text  # nothing typed is lost

    form["reason_text"] = LINES[5].removeprefix("Reason: ")
    form["practice"] = PRAIRIE
    form["reviewer_name"] = "Dr. Dana Whitfield"  # typed where the reader found nothing
    letter_path = uploaded.url.split(pair.app.url)[1].split("?")[0]
    confirmed = browser.post(f"{pair.app.url}{letter_path}/confirm", data=form, timeout=60)
    assert confirmed.status_code == 200 and re.search(r"/brief/letter-\d+\?ctx=", confirmed.url)
    brief = confirmed.text
    assert "from the letter" in brief and "see the letter and its fields" in brief
    assert "Imaging is not medically necessary without six weeks of conservative therapy." in brief
    assert "UHC-LTR-5521" in brief

    again = browser.post(f"{pair.app.url}{letter_path}/confirm", data=form, timeout=60)  # Back, submit again
    assert again.url.split("?")[0] == confirmed.url.split("?")[0]

    listing = browser.get(f"{pair.app.url}/", params={"ctx": ctx}, timeout=60).text
    assert "from the letter" in listing and "confirmed: a case" in listing
    denial_id = confirmed.url.split("/brief/")[1].split("?")[0]
    rows = cases_for(pair.app_flask.extensions["p2p_db"], f"{pair.ehr.url}/fhir", [PRAIRIE])
    assert [r.denial_id for r in rows if r.patient_id == "pat-lumbar-mri" and r.denial_id == denial_id]
    letter_page = browser.get(f"{pair.app.url}{letter_path}", params={"ctx": ctx}, timeout=60).text
    assert "This letter is a case." in letter_page
    number = letter_path.rsplit("/", 1)[1]
    events = audit_rows(pair.app_flask.extensions["p2p_db"], pair.fhir, organizations=[PRAIRIE], user=None,
                        patient="pat-lumbar-mri")  # fmt: skip
    kept = {(e.action, e.resource) for e in events}
    for action in ("payer-letter.uploaded", "payer-letter.opened", "payer-letter.confirmed"):
        assert (action, f"payer-letter/{number}") in kept  # who uploaded, read and confirmed it: ids only


def test_a_letter_for_another_patient_is_refused_with_the_reason_and_kept(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = reading(_yesterday(), _born(pair, "pat-knee-tka"), name="BRIGHTWATER, HAROLD J")
    monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: other)
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    with every_log_line_at_debug() as logs:
        uploaded = _upload(pair, browser, ctx, csrf, letter_pdf(), "wrong-patient.pdf")
        form = _form(uploaded.text) | {"practice": PRAIRIE}
        letter_path = uploaded.url.split(pair.app.url)[1].split("?")[0]
        refused = browser.post(f"{pair.app.url}{letter_path}/confirm", data=form, timeout=60)
    assert refused.status_code == 200 and refused.url.split("?")[0].endswith(letter_path)
    assert "This letter is not this patient's" in refused.text
    assert (
        f"This letter is for BRIGHTWATER, HAROLD J, born {_born(pair, 'pat-knee-tka')}; the chart open is Raymond T. "
        f"Quillfeather, born {_born(pair)}." in unescape(refused.text)
    )
    assert "/brief/" not in refused.url and "Brightwater" not in refused.url
    assert not any("BRIGHTWATER" in line or "Quillfeather" in line for line in logs.lines)
    listing = browser.get(f"{pair.app.url}/letters/new", params={"ctx": ctx}, timeout=60).text
    assert "wrong-patient.pdf" in listing and "refused" in listing
    again = browser.post(f"{pair.app.url}{letter_path}/confirm", data=form, timeout=60)
    assert "/brief/" not in again.url  # a refused letter stays refused


def test_a_refused_letter_names_the_other_patient_only_to_its_uploader(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_born = _born(pair, "pat-knee-tka")
    other = reading(_yesterday(), other_born, name="BRIGHTWATER, HAROLD J")
    monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: other)
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    uploaded = _upload(pair, browser, ctx, csrf, letter_pdf(), "faxed-in.pdf")
    letter_path = uploaded.url.split(pair.app.url)[1].split("?")[0]
    refused = browser.post(f"{pair.app.url}{letter_path}/confirm", data=_form(uploaded.text) | {"practice": PRAIRIE},
                           timeout=60)  # fmt: skip
    assert "This letter is for BRIGHTWATER, HAROLD J" in unescape(refused.text)  # the uploader knows whose it is
    pair.sign_in_as("demo-liaison-prairie")  # a colleague opens the same patient's chart later
    try:
        colleague, colleague_ctx, _ = _launch(pair, "pat-lumbar-mri")
        for path in ("/letters/new", letter_path):
            page = unescape(colleague.get(f"{pair.app.url}{path}", params={"ctx": colleague_ctx}, timeout=60).text)
            assert "faxed-in.pdf" in page and "names another patient: its name and birth date differ" in page
            assert "BRIGHTWATER" not in page and other_born.isoformat() not in page
        image = colleague.get(f"{pair.app.url}{letter_path}/pages/1.png", params={"ctx": colleague_ctx}, timeout=60)
        assert image.status_code == 404 and not image.content.startswith(b"\x89PNG")
    finally:
        pair.sign_in_as("demo-clinician")


def test_the_page_image_is_only_for_the_patients_own_launch(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: reading(_yesterday(), _born(pair)))
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    uploaded = _upload(pair, browser, ctx, csrf, letter_pdf(), "mine.pdf")
    letter_path = uploaded.url.split(pair.app.url)[1].split("?")[0]
    other_browser, other_ctx, _ = _launch(pair, "pat-knee-tka")
    for path in (letter_path, f"{letter_path}/pages/1.png"):
        stranger = other_browser.get(f"{pair.app.url}{path}", params={"ctx": other_ctx}, timeout=60)
        assert stranger.status_code == 404 and b"W123456789" not in stranger.content
    no_launch = requests.get(f"{pair.app.url}{letter_path}/pages/1.png", timeout=60)
    assert no_launch.status_code != 200 and not no_launch.content.startswith(b"\x89PNG")


LETTERS = Path(__file__).parent.parent / "data" / "letters"
BAD_LETTERS = {  # the shipped bad letters (tests/data/letters/bad), and a 40-page one made from a good letter
    "blank.pdf": (lambda: (LETTERS / "bad" / "blank.pdf").read_bytes(), "the letter looks blank"),
    "unreadable-scan.pdf": (lambda: (LETTERS / "bad" / "unreadable-scan.pdf").read_bytes(), "OCR could not read"),
    "not-a-pdf.pdf": (lambda: (LETTERS / "bad" / "not-a-pdf.pdf").read_bytes(), "it is a web page (HTML), not a PDF"),
    "forty-pages.pdf": (lambda: long_letter((LETTERS / "uhc-lumbar-mri.pdf").read_bytes(), pages=40), "40 pages"),
    "letter.docx": (lambda: b"PK\x03\x04" + b"\0" * 200, "ZIP"),
}


@pytest.mark.parametrize("name", BAD_LETTERS)
def test_a_letter_that_cannot_be_read_says_why_and_stays_listed(pair: Pair, name: str) -> None:
    make, words = BAD_LETTERS[name]
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    uploaded = _upload(pair, browser, ctx, csrf, make(), name)
    assert uploaded.status_code == 200 and re.search(r"/letters/\d+\?ctx=", uploaded.url)
    assert "This letter could not be read" in uploaded.text and words in unescape(uploaded.text)
    assert "type the denial in by hand" in uploaded.text
    listing = browser.get(f"{pair.app.url}/", params={"ctx": ctx}, timeout=60).text
    entry = re.search(rf'<li id="letter-\d+">\s*<a [^>]*>{re.escape(name)}</a>(.*?)</li>', listing, re.S)
    assert entry and "could not be read" in entry.group(1) and words in unescape(entry.group(1))


def test_a_letter_too_large_is_listed_with_its_size(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P2P_LETTER_MAX_BYTES", str(100_000))
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    uploaded = _upload(pair, browser, ctx, csrf, b"%PDF-1.7\n" + b"0" * 150_000, "huge-scan.pdf")
    assert uploaded.status_code == 200 and "This letter could not be read" in uploaded.text
    assert "The file is 0.143 MB; letters up to 0.0954 MB can be read." in uploaded.text
    assert "huge-scan.pdf" in uploaded.text
    way_too_large = _upload(pair, browser, ctx, csrf, b"%PDF-1.7\n" + b"0" * 400_000, "huger.pdf")
    assert way_too_large.status_code == 413 and "That file is too large" in way_too_large.text
    assert "Letters up to 0.0954 MB can be uploaded, and this file is larger" in way_too_large.text


def test_a_reader_that_fails_loses_no_letter(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(data: bytes, filename: str) -> LetterReading:
        raise RuntimeError("the OCR engine died")

    monkeypatch.setattr(letter_views, "read_letter", crash)
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    uploaded = _upload(pair, browser, ctx, csrf, letter_pdf(), "kept.pdf")
    assert uploaded.status_code == 200 and "The app failed while reading this letter. The file is kept" in uploaded.text
    letter_id = int(re.search(r"/letters/(\d+)", uploaded.url).group(1))  # type: ignore[union-attr]
    from smart_app.store.letters import letter_file

    kept = letter_file(pair.app_flask.extensions["p2p_db"], iss=pair.fhir, patient_id="pat-lumbar-mri",
                       letter_id=letter_id)  # fmt: skip
    assert kept == letter_pdf()


def test_an_upload_without_a_file_says_so(pair: Pair) -> None:
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    empty = browser.post(f"{pair.app.url}/letters", data={"ctx": ctx, "csrf": csrf}, timeout=60)
    assert empty.status_code == 400 and "No file was chosen" in empty.text


def test_a_page_ocr_could_not_read_says_so_with_its_confidence(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    read = reading(_yesterday(), _born(pair))
    poor = Page(2, (), ocr_used=True, ocr_confidence=31.0, note="the page is mostly noise")
    two_pages = LetterReading(read.fields, LetterText((*read.text.pages, poor)))
    monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: two_pages)
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    page = _upload(pair, browser, ctx, csrf, letter_pdf(), "two-pages.pdf").text
    assert "Page 1 · read by OCR, confidence 88%" in page
    assert (
        "OCR could not read page 2 reliably (confidence 31%): the page is mostly noise. Read this page yourself and "
        "fill in what is missing." in page
    )


def _practice_launch(pair: Pair, practitioner: str) -> tuple[requests.Session, str]:
    """A worklist sign-in as ``practitioner`` (of one practice with one case), that case's patient opened from it:
    the browser and the patient launch's ctx."""
    pair.sign_in_as(practitioner)
    browser = requests.Session()
    worklist = browser.get(f"{pair.app.url}/launch", params={"iss": pair.fhir}, timeout=60)
    pair.sign_in_as("demo-clinician")
    row = re.search(r'id="case-(\d+)"', worklist.text)
    ctx = re.search(r"ctx=([\w-]+)", worklist.url).group(1)  # type: ignore[union-attr]
    opened = browser.get(f"{pair.app.url}/worklist/{row.group(1)}/open", params={"ctx": ctx}, timeout=60)  # type: ignore[union-attr]
    return browser, re.search(r"ctx=([\w-]+)", opened.url).group(1)  # type: ignore[union-attr]


def test_from_the_worklist_a_letter_is_seen_by_its_practice_only(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: reading(_yesterday(), _born(pair)))
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    unconfirmed = _upload(pair, browser, ctx, csrf, letter_pdf(), "not-yet.pdf").url.split(pair.app.url)[1]
    unconfirmed = unconfirmed.split("?")[0]
    confirmed_page = _upload(pair, browser, ctx, csrf, letter_pdf(), "prairie.pdf")
    confirmed = confirmed_page.url.split(pair.app.url)[1].split("?")[0]
    made = browser.post(f"{pair.app.url}{confirmed}/confirm", data=_form(confirmed_page.text) | {"practice": PRAIRIE},
                        timeout=60)  # fmt: skip
    assert "/brief/letter-" in made.url

    liaison, liaison_ctx = _practice_launch(pair, "demo-liaison-prairie")  # Prairie: the lumbar case
    shown = liaison.get(f"{pair.app.url}{confirmed}/pages/1.png", params={"ctx": liaison_ctx}, timeout=60)
    assert shown.status_code == 200 and shown.content.startswith(b"\x89PNG")  # the case is Prairie's
    hidden = liaison.get(f"{pair.app.url}{unconfirmed}/pages/1.png", params={"ctx": liaison_ctx}, timeout=60)
    assert hidden.status_code == 404  # another user's upload, of no practice yet
    listing = liaison.get(f"{pair.app.url}/", params={"ctx": liaison_ctx}, timeout=60).text
    assert "prairie.pdf" in listing and "not-yet.pdf" not in listing


def test_a_letter_uploaded_on_the_worklist_is_for_the_patient_chosen_there(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: reading(_yesterday(), _born(pair)))
    _launch(pair, "pat-knee-tka")  # Gulf Coast's knee case, on another practice's worklist
    pair.sign_in_as("demo-liaison-prairie")
    browser = requests.Session()
    worklist = browser.get(f"{pair.app.url}/launch", params={"iss": pair.fhir}, timeout=60)
    pair.sign_in_as("demo-clinician")
    assert "Upload a denial letter" in worklist.text and "Whose letter is it?" in worklist.text
    patients = re.findall(r'<option value="(\d+)">([^<]+)</option>', worklist.text)
    assert [name for _, name in patients] == ["Raymond T. Quillfeather"]  # Prairie's one patient
    ctx = re.search(r"ctx=([\w-]+)", worklist.url).group(1)  # type: ignore[union-attr]
    csrf = re.search(r'name="csrf" value="([^"]+)"', worklist.text).group(1)  # type: ignore[union-attr]
    sent = {"ctx": ctx, "csrf": csrf, "patient_case": patients[0][0]}
    files = {"letter": ("from-fax.pdf", letter_pdf(), "application/pdf")}
    uploaded = browser.post(f"{pair.app.url}/letters", data=sent, files=files, timeout=60)
    assert uploaded.status_code == 200 and "Review the letter" in uploaded.text and f"ctx={ctx}" not in uploaded.url
    confirmed = browser.post(uploaded.url.split("?")[0] + "/confirm", data=_form(uploaded.text), timeout=60)
    assert "/brief/letter-" in confirmed.url and "from the letter" in confirmed.text  # the liaison's one practice

    others = [r.case_id for r in cases_for(pair.app_flask.extensions["p2p_db"], pair.fhir, None)
              if r.patient_id != "pat-lumbar-mri"]  # fmt: skip
    stranger = browser.post(f"{pair.app.url}/letters", data=sent | {"patient_case": str(others[0])}, files=files,
                            timeout=60)  # fmt: skip
    assert stranger.status_code == 404 and "Review the letter" not in stranger.text


def test_a_long_read_goes_on_while_its_page_refreshes(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def slow(data: bytes, filename: str) -> LetterReading:
        release.wait(30)
        return reading(_yesterday(), _born(pair))

    monkeypatch.setattr(letter_views, "read_letter", slow)
    pair.app_flask.config["P2P"]["LETTER_WAIT_SECONDS"] = 0.2
    try:
        browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
        uploaded = _upload(pair, browser, ctx, csrf, letter_pdf(), "long-scan.pdf")
    finally:
        pair.app_flask.config["P2P"]["LETTER_WAIT_SECONDS"] = 20.0
    assert "Reading the letter…" in uploaded.text and '<meta http-equiv="refresh" content="5">' in uploaded.text
    release.set()
    for _ in range(50):
        page = browser.get(uploaded.url, timeout=60).text
        if "Reading the letter…" not in page:
            break
        time.sleep(0.1)
    assert 'value="W123456789"' in page and "refresh" not in page


def _documents(pair: Pair, patient: str) -> list[dict[str, object]]:
    """The DocumentReferences in the demo EHR for ``patient`` (read with the inspector's token)."""
    found = requests.get(f"{pair.fhir}/DocumentReference", params={"patient": patient}, timeout=30,
                         headers={"Authorization": "Bearer x", "Accept": "application/fhir+json"}).json()  # fmt: skip
    return [e["resource"] for e in found.get("entry", [])]


def _letter_documents(pair: Pair, patient: str) -> list[dict[str, object]]:
    return [d for d in _documents(pair, patient) if d["type"]["coding"][0]["code"] == "51852-2"]  # type: ignore[index]


def test_a_confirmed_letter_is_filed_in_the_chart_where_the_ehr_takes_it(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: reading(_yesterday(), _born(pair)))
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    before = len(_letter_documents(pair, "pat-lumbar-mri"))
    uploaded = _upload(pair, browser, ctx, csrf, letter_pdf(), "to-file.pdf")
    assert "Also file the letter in the patient's chart" in uploaded.text
    letter_path = uploaded.url.split(pair.app.url)[1].split("?")[0]
    form = _form(uploaded.text) | {"practice": PRAIRIE, "file_in_chart": "yes"}
    confirmed = browser.post(f"{pair.app.url}{letter_path}/confirm", data=form, timeout=60)
    assert "/brief/letter-" in confirmed.url
    filed = _letter_documents(pair, "pat-lumbar-mri")
    assert len(filed) == before + 1
    content = filed[-1]["content"][0]["attachment"]  # type: ignore[index]
    assert content["contentType"] == "application/pdf" and content["title"] == "to-file.pdf"
    assert base64.b64decode(content["data"]) == letter_pdf()
    assert filed[-1]["subject"] == {"reference": "Patient/pat-lumbar-mri"}
    page = browser.get(f"{pair.app.url}{letter_path}", params={"ctx": ctx}, timeout=60).text
    assert f"Filed in the patient's chart as DocumentReference/{filed[-1]['id']}." in page
    browser.post(f"{pair.app.url}{letter_path}/confirm", data=form, timeout=60)  # a second submit files nothing more
    browser.get(confirmed.url, timeout=60)  # the brief retries due outbox notes: the letter is not one of them
    assert len(_letter_documents(pair, "pat-lumbar-mri")) == before + 1
    case = browser.get(confirmed.url.replace("/brief/", "/case/"), timeout=60).text
    assert "Call notes for this denial" not in case  # the filed letter is not one of the case's call notes


def test_an_ehr_that_takes_only_text_notes_keeps_the_letter_in_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    epic = start_pair(tmp_path, "p2p-letters-epic", ehr_profile="epic", app_settings={"TIMEZONE": ZONE})
    try:
        epic.app_flask.config["P2P"]["WRITE_PROFILES"] = {epic.fhir: "epic"}
        monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: reading(_yesterday(), _born(epic)))
        epic.sign_in_as("demo-liaison-prairie")
        browser, ctx, csrf = _launch(epic, "pat-lumbar-mri")
        uploaded = _upload(epic, browser, ctx, csrf, letter_pdf(), "epic.pdf")
        assert "This EHR takes only text notes from the app, so the letter stays with the case here" in uploaded.text
        form = _form(uploaded.text) | {"file_in_chart": "yes"}  # a forged box changes nothing
        confirmed = browser.post(uploaded.url.split("?")[0] + "/confirm", data=form, timeout=60)
        assert "/brief/letter-" in confirmed.url and _letter_documents(epic, "pat-lumbar-mri") == []
    finally:
        epic.stop()


def test_the_same_upload_form_sent_twice_keeps_one_letter(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: reading(_yesterday(), _born(pair)))
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    page = browser.get(f"{pair.app.url}/letters/new", params={"ctx": ctx}, timeout=60).text
    key = re.search(r'name="form_key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    sent = [browser.post(f"{pair.app.url}/letters", data={"ctx": ctx, "csrf": csrf, "form_key": key},
                         files={"letter": ("twice.pdf", letter_pdf(), "application/pdf")}, timeout=60)
            for _ in range(2)]  # fmt: skip
    assert sent[0].url == sent[1].url and "/letters/" in sent[0].url  # Back, then upload again: the same letter
    listing = browser.get(f"{pair.app.url}/letters/new", params={"ctx": ctx}, timeout=60).text
    assert listing.count(">twice.pdf</a>") == 1


def test_a_sideways_page_is_shown_turned_as_ocr_read_it(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    read = reading(_yesterday(), _born(pair))
    turned = Page(1, read.text.pages[0].lines, ocr_used=True, ocr_confidence=88.5, rotation=90)
    monkeypatch.setattr(
        letter_views, "read_letter", lambda data, filename: LetterReading(read.fields, LetterText((turned,)))
    )
    upright = Image.new("RGB", (850, 1100), "white")
    ImageDraw.Draw(upright).text((60, 80), LINES[0], fill="black")
    sideways = upright.rotate(90, expand=True)  # fed into the fax machine on its side
    out = io.BytesIO()
    sideways.save(out, "PDF", resolution=100)
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    letter_path = _upload(pair, browser, ctx, csrf, out.getvalue(), "sideways.pdf").url.split(pair.app.url)[1]
    png = browser.get(f"{pair.app.url}{letter_path.split('?')[0]}/pages/1.png", params={"ctx": ctx}, timeout=60)
    width, height = Image.open(io.BytesIO(png.content)).size
    assert height > width  # upright, as the boxes were measured: a sideways image would put them off the text


def _claim_response_decided(pair: Pair, claim_response: str) -> datetime:
    found = requests.get(f"{pair.fhir}/ClaimResponse/{claim_response}", headers={"Authorization": "Bearer x"},
                         timeout=30)  # fmt: skip
    return datetime.fromisoformat(found.json()["created"])


def test_the_payers_letter_for_a_denial_on_the_list_joins_its_case(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    """The letter's reference is the demo ClaimResponse's preAuthRef: confirming it adds it to that denial's case (no
    second case, no second clock), the letter's stricter window counts, and the brief shows both sources and where
    they differ."""
    decided = _claim_response_decided(pair, "cr-lumbar-mri-1")
    read = reading(decided.date(), _born(pair))
    same = replace(read.fields, reference=Found("A265903318", Source.of(_line(3))))  # type: ignore[arg-type]
    monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: LetterReading(same, read.text))
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    uploaded = _upload(pair, browser, ctx, csrf, letter_pdf(), "uhc-mri-letter.pdf")
    letter_path = uploaded.url.split(pair.app.url)[1].split("?")[0]
    form = _form(uploaded.text) | {"practice": PRAIRIE}
    confirmed = browser.post(f"{pair.app.url}{letter_path}/confirm", data=form, timeout=60)
    assert confirmed.status_code == 200 and confirmed.url.split("?")[0].endswith(letter_path)
    assert (
        "This letter is the payer's letter for the denial already on the list (decided "
        f"{decided.date().isoformat()}); it was added to that case." in unescape(confirmed.text)
    )
    again = browser.post(f"{pair.app.url}{letter_path}/confirm", data=form, timeout=60)  # Back, submit again
    assert again.url.split("?")[0].endswith(letter_path)

    number = letter_path.rsplit("/", 1)[1]
    rows = cases_for(pair.app_flask.extensions["p2p_db"], pair.fhir, [PRAIRIE])
    mine = [r for r in rows if r.patient_id == "pat-lumbar-mri" and r.denial_id in ("cr-lumbar-mri-1",
                                                                                    f"letter-{number}")]  # fmt: skip
    assert [(r.denial_id, r.status != "closed") for r in mine] == [("cr-lumbar-mri-1", True)]  # one case
    deadline = mine[0].deadline.astimezone(ZoneInfo(ZONE))  # type: ignore[union-attr]
    assert deadline.date() == decided.date() + timedelta(days=14)  # the letter's 14 days, not UHC's 21

    brief = unescape(browser.get(f"{pair.app.url}/brief/cr-lumbar-mri-1", params={"ctx": ctx}, timeout=60).text)
    assert "Where this came from:" in brief and "Reference: ClaimResponse (EHR) · letter page 1" in brief
    assert "The payer's letter and the ClaimResponse differ:" in brief
    window = "P2P window: The letter says within 14 calendar days; the payer's rules on file say UnitedHealthcare"
    assert window in brief
    assert "The earlier deadline applies (the letter)." in brief
    printed = browser.get(f"{pair.app.url}/brief/cr-lumbar-mri-1.pdf", params={"ctx": ctx}, timeout=60)
    assert printed.status_code == 200 and printed.headers["Content-Type"] == "application/pdf"
    moved = browser.get(f"{pair.app.url}/brief/letter-{number}", params={"ctx": ctx}, timeout=60)
    assert moved.url.split("?")[0].endswith("/brief/cr-lumbar-mri-1")  # the letter's case is the denial's
    listing = browser.get(f"{pair.app.url}/", params={"ctx": ctx}, timeout=60).text
    assert f"/brief/letter-{number}" not in listing and "added to the denial already on the list" in listing


def test_a_letter_case_is_joined_at_launch_when_the_payers_answer_reaches_the_chart(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The letter came first (its answer not yet in the EHR): a case of its own. When the payer's ClaimResponse for
    the same decision (the letter's reference is its preAuthRef) is in the chart at the next launch, that answer is
    the case: the letter's case is closed as superseded, and the letter is kept with the answer's."""
    read = reading(_yesterday(), _born(pair))
    first = replace(read.fields, reference=Found("A26-LATE-0001", Source.of(_line(3))))  # type: ignore[arg-type]
    monkeypatch.setattr(letter_views, "read_letter", lambda data, filename: LetterReading(first, read.text))
    browser, ctx, csrf = _launch(pair, "pat-lumbar-mri")
    uploaded = _upload(pair, browser, ctx, csrf, letter_pdf(), "came-first.pdf")
    letter_path = uploaded.url.split(pair.app.url)[1].split("?")[0]
    confirmed = browser.post(f"{pair.app.url}{letter_path}/confirm", data=_form(uploaded.text) | {"practice": PRAIRIE},
                             timeout=60)  # fmt: skip
    number = letter_path.rsplit("/", 1)[1]
    assert f"/brief/letter-{number}" in confirmed.url  # nothing on the list is this decision yet

    store = pair.ehr_flask.extensions["demo_ehr"].store
    answer = json.loads(json.dumps(store.get("ClaimResponse", "cr-lumbar-mri-1")))
    answer.update(id="cr-lumbar-mri-late", preAuthRef="A26LATE0001", request={"reference": "Claim/claim-lumbar-late"},
                  identifier=[{"system": "urn:trnorg:1411289245", "value": "UHC-A26-LATE"}])  # fmt: skip
    store.add_all([answer])
    browser, ctx, _ = _launch(pair, "pat-lumbar-mri")  # the next launch finds the payer's answer in the chart
    rows = {r.denial_id: r for r in cases_for(pair.app_flask.extensions["p2p_db"], pair.fhir, [PRAIRIE])
            if r.patient_id == "pat-lumbar-mri"}  # fmt: skip
    assert rows[f"letter-{number}"].status == "closed" and rows["cr-lumbar-mri-late"].status != "closed"
    moved = browser.get(f"{pair.app.url}/brief/letter-{number}", params={"ctx": ctx}, timeout=60)
    assert moved.url.split("?")[0].endswith("/brief/cr-lumbar-mri-late")
    assert "see the letter and its fields" in moved.text and "letter page 1" in moved.text
