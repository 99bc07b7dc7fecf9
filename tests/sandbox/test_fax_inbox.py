"""The demo EHR's fax inbox: each patient's payer letters, dated to the day the demo's charts are dated for."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from smart_app.sandbox.demo_letters import letter_specs
from smart_app.sandbox.fax_inbox import letters_for, patient_of

DAY = datetime(2027, 3, 9, 14, 0, tzinfo=UTC)  # 106 days after the letters were written (2026-11-23)


@pytest.fixture
def ehr(make_ehr: Callable[..., Flask]) -> FlaskClient:
    """The demo EHR over the demo charts, dated for ``DAY``."""
    return make_ehr(bundles_dir=None, now=DAY).test_client()


def test_every_letter_is_for_a_demo_patient_and_listed_in_their_inbox(ehr: FlaskClient) -> None:
    for spec in letter_specs():
        page = ehr.get(f"/chart/{patient_of(spec)}/letters")
        assert page.status_code == 200, spec["id"]
        text = page.get_data(as_text=True)
        assert f"/letters/{spec['id']}/scan.pdf" in text and spec["payer"] in text
        assert page.headers["Cache-Control"] == "no-store"


def test_a_downloaded_letter_is_dated_for_the_demo_day_so_its_window_is_still_open(ehr: FlaskClient) -> None:
    spec = next(s for s in letter_specs() if s["id"] == "uhc-lumbar-mri")
    answer = ehr.get(f"/chart/{patient_of(spec)}/letters/uhc-lumbar-mri/letter.pdf")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(answer.data)).pages[0].extract_text().split())
    written = date.fromisoformat(spec["decidedAt"][:10])
    moved = written + timedelta(days=(DAY.date() - date(2026, 11, 23)).days)
    assert moved.strftime("%B %-d, %Y") in text or f"{moved:%m/%d/%Y}" in text, text[:600]
    assert written.strftime("%B %-d, %Y") not in text


def test_a_scan_has_no_text_layer(ehr: FlaskClient) -> None:
    answer = ehr.get("/chart/pat-knee-tka/letters/humana-knee-tka-pended/scan.pdf")
    assert answer.status_code == 200
    assert not (PdfReader(io.BytesIO(answer.data)).pages[0].extract_text() or "").strip()


def test_another_patients_letter_or_an_unknown_kind_is_not_found(ehr: FlaskClient) -> None:
    assert ehr.get("/chart/pat-knee-tka/letters/uhc-lumbar-mri/letter.pdf").status_code == 404
    assert ehr.get("/chart/pat-lumbar-mri/letters/uhc-lumbar-mri/other.pdf").status_code == 404
    assert ehr.get("/chart/nobody/letters").status_code == 404
    assert letters_for("nobody") == []
