"""The audit log: opening a brief, downloading a PDF, recording a call and the note's write to the chart are each
recorded with the user, the patient and the record (ids only); the practice manager reads them at /audit for the
patients of their own practices only; nothing clinical is kept."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from pairs import Pair, start_pair
from sqlalchemy import text


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    pair = start_pair(tmp_path_factory.mktemp("audit"), "p2p-audit")
    yield pair
    pair.stop()


def _launch(site: Pair, patient: str) -> tuple[requests.Session, str]:
    browser = requests.Session()
    listing = browser.get(f"{site.ehr.url}/launch?patient={patient}", timeout=60)
    return browser, re.search(r"ctx=([\w-]+)", listing.url).group(1)  # type: ignore[union-attr]


def _audit(site: Pair, practitioner: str, **filters: str) -> str:
    site.sign_in_as(practitioner)
    browser = requests.Session()
    page = browser.get(f"{site.app.url}/launch", params={"iss": f"{site.ehr.url}/fhir"}, timeout=60)
    ctx = re.search(r"ctx=([\w-]+)", page.url).group(1)  # type: ignore[union-attr]
    audit = browser.get(f"{site.app.url}/audit", params={"ctx": ctx, **filters}, timeout=60)
    assert audit.status_code == 200 and "no-store" in audit.headers["Cache-Control"]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", audit.text))


def test_each_access_is_recorded_and_shown_to_the_practice(site: Pair) -> None:
    site.sign_in_as("demo-clinician")
    browser, ctx = _launch(site, "pat-lumbar-mri")
    assert browser.get(f"{site.app.url}/brief/cr-lumbar-mri-1", params={"ctx": ctx}, timeout=60).status_code == 200
    assert browser.get(f"{site.app.url}/brief/cr-lumbar-mri-1.pdf", params={"ctx": ctx}, timeout=60).status_code == 200
    case = browser.get(f"{site.app.url}/case/cr-lumbar-mri-1", params={"ctx": ctx}, timeout=60).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', case).group(1)  # type: ignore[union-attr]
    refused = browser.post(f"{site.app.url}/outcome/cr-lumbar-mri-1", data={"ctx": ctx, "csrf": csrf}, timeout=60)
    assert refused.status_code == 400  # a form sent back for correction records nothing
    saved = browser.post(f"{site.app.url}/outcome/cr-lumbar-mri-1", timeout=60, data={
        "ctx": ctx, "csrf": csrf, "call_date": "2026-11-23", "start_time": "10:00", "end_time": "10:12",
        "reviewer_name": "Dr. Audit", "specialty_match": "unknown", "disposition": "upheld",
        "reviewer_reasoning": "Conservative care not documented"})  # fmt: skip
    assert saved.status_code == 200 and "saved to the chart" in saved.text
    knee_browser, knee_ctx = _launch(site, "pat-knee-tka")  # another practice's patient
    knee_browser.get(f"{site.app.url}/brief/cr-knee-tka-1", params={"ctx": knee_ctx}, timeout=60)

    log = _audit(site, "demo-clinician", patient="pat-lumbar-mri")
    for shown in ("Opened the brief", "Downloaded the brief PDF", "Opened the call and follow-up page",
                  "Recorded a call note", "Call note written to the chart", "Practitioner/demo-clinician",
                  "ClaimResponse/cr-lumbar-mri-1", "DocumentReference/"):  # fmt: skip
        assert shown in log, shown
    assert log.count("call-note/") == 1  # the refused form was not counted
    rows = log.split("Filter", 1)[1]  # the table, newest first (the filter's options name every action too)
    assert rows.index("Call note written to the chart") < rows.index("Recorded a call note")  # recorded, then written
    for clinical in ("Quillfeather", "Conservative care", "radiculopathy", "1974", "Dr. Audit"):
        assert clinical not in log

    liaison = _audit(site, "demo-liaison-prairie")  # Prairie Family Medicine: the lumbar patient only
    assert "pat-lumbar-mri" in liaison and "pat-knee-tka" not in liaison
    assert "pat-knee-tka" in _audit(site, "demo-clinician")  # the group clinician sees both practices

    with site.app_flask.extensions["p2p_db"].engine.connect() as connection:
        stored = " ".join(str(v) for row in connection.execute(text("select * from audit_events")) for v in row)
    for clinical in ("Quillfeather", "Conservative care", "Dr. Audit", "Brightwater"):
        assert clinical not in stored
