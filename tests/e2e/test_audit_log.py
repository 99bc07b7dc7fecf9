"""The audit log: opening a brief, downloading a PDF, recording a call and the note's write to the chart are each
recorded with the user, the patient and the record (ids only); the practice manager reads them at /audit for the
patients of their own practices only; nothing clinical is kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import text

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.sandbox.oauth_models import DemoUser
from smart_app.serving import bind, wait_until_ready
from smart_app.web import create_app


@dataclass
class Site:
    app: str
    ehr: str
    ehr_app: Flask
    app_flask: Flask

    def sign_in_as(self, practitioner: str) -> None:
        self.ehr_app.extensions["demo_ehr"].user = DemoUser(practitioner)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    app, ehr = bind(), bind()
    client = RegisteredClient("p2p-audit", [f"{app.url}/callback"], f"{app.url}/launch")
    ehr_app = create_ehr_app(
        EhrSettings(base_url=ehr.url, clients=[client], inspector_token="x", require_consent=False)
    )
    ehr.mount(ehr_app)
    db = Path(tmp_path_factory.mktemp("audit")) / "app.sqlite3"
    app_flask = create_app({"CLIENT_ID": "p2p-audit", "ALLOWED_ISS": [f"{ehr.url}/fhir"], "INSECURE_COOKIES": True,
                            "DATABASE_URL": f"sqlite:///{db}"})  # fmt: skip
    app.mount(app_flask)
    wait_until_ready(f"{app.url}/health")
    yield Site(app.url, ehr.url, ehr_app, app_flask)
    app.stop()
    ehr.stop()


def _launch(site: Site, patient: str) -> tuple[requests.Session, str]:
    browser = requests.Session()
    listing = browser.get(f"{site.ehr}/launch?patient={patient}", timeout=60)
    return browser, re.search(r"ctx=([\w-]+)", listing.url).group(1)  # type: ignore[union-attr]


def _audit(site: Site, practitioner: str, **filters: str) -> str:
    site.sign_in_as(practitioner)
    browser = requests.Session()
    page = browser.get(f"{site.app}/launch", params={"iss": f"{site.ehr}/fhir"}, timeout=60)
    ctx = re.search(r"ctx=([\w-]+)", page.url).group(1)  # type: ignore[union-attr]
    audit = browser.get(f"{site.app}/audit", params={"ctx": ctx, **filters}, timeout=60)
    assert audit.status_code == 200 and "no-store" in audit.headers["Cache-Control"]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", audit.text))


def test_each_access_is_recorded_and_shown_to_the_practice(site: Site) -> None:
    site.sign_in_as("demo-clinician")
    browser, ctx = _launch(site, "pat-lumbar-mri")
    assert browser.get(f"{site.app}/brief/cr-lumbar-mri-1", params={"ctx": ctx}, timeout=60).status_code == 200
    assert browser.get(f"{site.app}/brief/cr-lumbar-mri-1.pdf", params={"ctx": ctx}, timeout=60).status_code == 200
    case = browser.get(f"{site.app}/case/cr-lumbar-mri-1", params={"ctx": ctx}, timeout=60).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', case).group(1)  # type: ignore[union-attr]
    refused = browser.post(f"{site.app}/outcome/cr-lumbar-mri-1", data={"ctx": ctx, "csrf": csrf}, timeout=60)
    assert refused.status_code == 400  # a form sent back for correction records nothing
    saved = browser.post(f"{site.app}/outcome/cr-lumbar-mri-1", timeout=60, data={
        "ctx": ctx, "csrf": csrf, "call_date": "2026-11-23", "start_time": "10:00", "end_time": "10:12",
        "reviewer_name": "Dr. Audit", "specialty_match": "unknown", "disposition": "upheld",
        "reviewer_reasoning": "Conservative care not documented"})  # fmt: skip
    assert saved.status_code == 200 and "saved to the chart" in saved.text
    knee_browser, knee_ctx = _launch(site, "pat-knee-tka")  # another practice's patient
    knee_browser.get(f"{site.app}/brief/cr-knee-tka-1", params={"ctx": knee_ctx}, timeout=60)

    log = _audit(site, "demo-clinician", patient="pat-lumbar-mri")
    for shown in ("Opened the brief", "Downloaded the brief PDF", "Opened the call and follow-up page",
                  "Recorded a call note", "Call note written to the chart", "Practitioner/demo-clinician",
                  "ClaimResponse/cr-lumbar-mri-1", "DocumentReference/"):  # fmt: skip
        assert shown in log, shown
    assert log.count("call-note/") == 1  # the refused form was not counted
    for clinical in ("Quillfeather", "Conservative care", "radiculopathy", "1974", "Dr. Audit"):
        assert clinical not in log

    liaison = _audit(site, "demo-liaison-prairie")  # Prairie Family Medicine: the lumbar patient only
    assert "pat-lumbar-mri" in liaison and "pat-knee-tka" not in liaison
    assert "pat-knee-tka" in _audit(site, "demo-clinician")  # the group clinician sees both practices

    with site.app_flask.extensions["p2p_db"].engine.connect() as connection:
        stored = " ".join(str(v) for row in connection.execute(text("select * from audit_events")) for v in row)
    for clinical in ("Quillfeather", "Conservative care", "Dr. Audit", "Brightwater"):
        assert clinical not in stored
