"""An EHR that ignores ``patient=`` answers a patient's searches with every patient's records. None of them may be
listed, saved as a case, briefed or printed under the launched patient: they are dropped, and the pages say records
were left out (by reference, never by value). The demo EHR plays the broken server; a real launch over HTTP."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
from pypdf import PdfReader
from sqlalchemy import select

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import bind, wait_until_ready
from smart_app.store.db import Database
from smart_app.store.models import DenialCase
from smart_app.web import create_app

PATIENT, DENIAL = "pat-lumbar-mri", "cr-lumbar-mri-1"
OTHERS_DENIALS = ("cr-glp1-semaglutide-1", "cr-knee-tka-1", "cr-ra-adalimumab-1")
# Words that appear only in the other demo patients' charts: their conditions and denied services.
OTHERS_WORDS = ("Type 2 diabetes", "Rheumatoid arthritis", "osteoarthritis, right knee", "semaglutide", "adalimumab")
LEFT_OUT = "record(s) of another patient were left out: the EHR returned them for this patient's searches"


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", unescape(html)).split())


def _outside_the_warning(text: str) -> str:
    """The page without the left-out warning (the demo's ids, which it names, carry words such as 'knee')."""
    return re.sub(r"\d+ record\(s\) of another patient.*?saved here\.", "", text)


@pytest.fixture
def broken_ehr(tmp_path: Path) -> Iterator[dict[str, Any]]:
    ehr_server, app_server = bind(), bind()
    client = RegisteredClient("p2p-others", [f"{app_server.url}/callback"], f"{app_server.url}/launch")
    ehr_app = create_ehr_app(
        EhrSettings(base_url=ehr_server.url, clients=[client], inspector_token="others", require_consent=False)
    )
    ehr_app.extensions["demo_ehr"].search_faults.ignore_patient = True
    ehr_server.mount(ehr_app)
    fhir = f"{ehr_server.url}/fhir"
    database = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    app_server.mount(create_app({"CLIENT_ID": "p2p-others", "ALLOWED_ISS": [fhir], "INSECURE_COOKIES": True,
                                 "DATABASE_URL": database}))  # fmt: skip
    wait_until_ready(f"{app_server.url}/health")
    browser = requests.Session()
    listing = browser.get(f"{ehr_server.url}/launch?patient={PATIENT}", timeout=60)
    yield {"browser": browser, "listing": listing, "app": app_server.url, "fhir": fhir, "db": database}
    app_server.stop()
    ehr_server.stop()


def test_the_broken_ehr_really_answers_with_other_patients_records(broken_ehr: dict[str, Any]) -> None:
    answer = requests.get(
        f"{broken_ehr['fhir']}/ClaimResponse", params={"patient": PATIENT}, headers={"Authorization": "Bearer others"},
        timeout=30,
    )  # fmt: skip
    ids = {e["resource"]["id"] for e in answer.json()["entry"]}
    assert set(OTHERS_DENIALS) <= ids  # so what follows tests the app, not a well-behaved server


def test_the_denial_list_shows_none_of_another_patients_denials_and_says_records_were_left_out(
    broken_ehr: dict[str, Any],
) -> None:
    listing = broken_ehr["listing"]
    assert listing.status_code == 200, listing.url
    text = _text(listing.text)
    assert DENIAL in listing.text
    for denial in OTHERS_DENIALS:
        assert denial not in listing.text
    for words in OTHERS_WORDS:
        assert words.lower() not in _outside_the_warning(text).lower()
    assert LEFT_OUT in text
    assert re.search(r"searches \((Patient|Coverage|Claim|ClaimResponse)/[\w-]+, ", text)  # named by reference only


def test_no_case_is_saved_for_another_patients_denial(broken_ehr: dict[str, Any]) -> None:
    with Database(broken_ehr["db"]).session() as session:
        cases = session.scalars(select(DenialCase)).all()
        saved = {(c.patient_id, c.denial_id) for c in cases}
    assert (PATIENT, DENIAL) in saved
    assert not {denial for _, denial in saved} & set(OTHERS_DENIALS)


def test_the_brief_and_its_pdf_hold_none_of_another_patients_records(broken_ehr: dict[str, Any]) -> None:
    ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", broken_ehr["listing"].url)
    assert ctx
    browser, app = broken_ehr["browser"], broken_ehr["app"]
    brief = browser.get(f"{app}/brief/{DENIAL}", params={"ctx": ctx.group(1)}, timeout=60)
    assert brief.status_code == 200
    text = _text(brief.text)
    assert "Low back pain" in text  # the launched patient's own conditions are there
    for words in OTHERS_WORDS:
        assert words.lower() not in _outside_the_warning(text).lower()
    assert LEFT_OUT in text

    pdf = browser.get(f"{app}/brief/{DENIAL}.pdf", params={"ctx": ctx.group(1)}, timeout=60)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    printed = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
    for words in OTHERS_WORDS:
        assert words.lower() not in re.sub(r"Could not be read:.*", "", printed).lower()
    assert "of another patient were left out" in printed

    other = browser.get(f"{app}/brief/{OTHERS_DENIALS[0]}", params={"ctx": ctx.group(1)}, timeout=60)
    assert other.status_code == 404
