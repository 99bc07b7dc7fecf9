"""The app shows its own patient banner only when the EHR asks for one (``need_patient_banner``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import render_template

from smart_app.smart.launch import LaunchContext
from smart_app.web import create_app


@pytest.mark.parametrize(("need", "shown"), [(True, 1), (False, 0)])
def test_banner_follows_need_patient_banner(tmp_path: Path, need: bool, shown: int) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}", "SECRET_KEY": "x"})
    context = LaunchContext(
        handle="h",
        iss="https://ehr.example/fhir",
        patient="p1",
        access_token="t",
        token_endpoint="https://ehr.example/token",
        scope="launch openid",
        need_patient_banner=need,
    )
    patient = {"name": "Ada Example", "birthDate": "1970-01-01", "memberId": "M1"}
    with app.test_request_context("/"):
        html = render_template("denials.html", launch=context, patient=patient, denials=[], warnings=[])
    assert html.count('class="banner"') == shown
    assert ("Ada Example" in html) is bool(shown)
