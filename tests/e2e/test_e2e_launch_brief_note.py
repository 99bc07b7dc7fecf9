"""The spine end to end, as a person uses it: chart -> SMART launch in the iframe -> brief -> call note in the EHR."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.browser


def _open_app_in_chart(page: Any, demo: Any, patient_id: str) -> Any:
    """Open the patient's chart in the EHR, approve the app in its frame, and return the app's frame."""
    page.goto(f"{demo.ehr.url}/")
    page.click(f"a[href='/chart/{patient_id}']")
    frame = page.frame_locator("iframe")
    frame.get_by_role("button", name="Allow").click()
    frame.get_by_role("heading", name="Prior-authorization denials").wait_for()
    return frame


def _notes_in_ehr(demo: Any, patient_id: str) -> list[dict[str, Any]]:
    response = requests.get(
        f"{demo.fhir_base}/DocumentReference",
        params={"patient": patient_id},
        headers={"Authorization": f"Bearer {demo.inspector}", "Accept": "application/fhir+json"},
        timeout=10,
    )
    response.raise_for_status()
    return [entry["resource"] for entry in response.json().get("entry", [])]


def _fill_call_form(
    frame: Any, *, reviewer: str, disposition_label: str, auth_number: str = "", notes: str = ""
) -> None:
    frame.locator("#f-call_date").fill("2026-11-23")
    frame.locator("#f-start_time").fill("10:05")
    frame.locator("#f-end_time").fill("10:19")
    frame.locator("#f-reviewer_name").fill(reviewer)
    frame.get_by_label("Credentials (MD, DO…)").fill("MD")
    frame.get_by_label("Reviewer specialty").fill("Physical medicine and rehabilitation")
    frame.get_by_label(disposition_label).check()
    if auth_number:
        frame.get_by_label("Authorization number (if overturned)").fill(auth_number)
    frame.get_by_label("Other notes").fill(notes)


def test_launch_from_chart_brief_and_call_note_written_back(page: Any, demo: Any, tmp_path: Path) -> None:
    frame = _open_app_in_chart(page, demo, "pat-lumbar-mri")
    # Only the denied MRI is listed: the approved physical-therapy authorization is not a denial.
    rows = frame.locator("table.list tbody tr")
    assert rows.count() == 1
    assert "CPT 72148 MRI lumbar spine without contrast" in rows.first.inner_text()
    assert "UnitedHealthcare" in rows.first.inner_text()

    assert frame.locator(".appbar .banner").count() == 0  # the chart shows its own banner: no duplicate
    frame.get_by_role("link", name="Open brief").click()
    frame.get_by_role("heading", name="Clinical bottom line").wait_for()
    brief = frame.locator("main").inner_text()
    assert "M54.16" in brief and "Radiculopathy, lumbar region" in brief
    reason = frame.locator("blockquote.verbatim").inner_text()
    assert reason.startswith("The request for MRI lumbar spine without contrast (72148) is not approved.")
    assert "there is no documentation of 6 weeks of conservative treatment" in reason
    assert "A3 Not Certified" in frame.locator("p.codes").inner_text()
    action = frame.locator("section.action")
    assert action.locator("h2").inner_text() == "Request a peer-to-peer review"
    assert "Request the P2P by 2026-12-11 23:59" in action.inner_text()
    assert "UnitedHealthcare (outpatient): 21 calendar days from the decision (2026-11-20)" in action.inner_text()
    countdown = action.locator(".countdown")
    assert countdown.get_attribute("data-deadline") == "2026-12-11T23:59:59-05:00"
    assert countdown.inner_text().endswith(" left")  # kept current by countdown.js (the CSP allows only 'self')
    rights = frame.locator("section.rights").inner_text()
    assert "215 ILCS 200/35" in rights and "experience treating and managing patients" in rights
    treatments = frame.locator("#tx-h + table").inner_text()
    # records of one drug or one therapy family are merged into courses
    assert "Physical therapy (evaluation and therapeutic exercise) (8 records)\t2026-09-14\t2026-10-23" in treatments
    assert "ibuprofen (2 records)\t2026-09-02\t2026-10-06" in treatments
    criteria = frame.locator("table.criteria-table").inner_text()
    assert "At least 6 weeks of conservative therapy" in criteria and "64 days documented" in criteria
    screenshots = Path(os.environ.get("P2P_SCREENSHOT_DIR") or tmp_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / "brief-in-ehr-frame.png"), full_page=True)

    frame.get_by_role("link", name="Call and follow-up").first.click()
    frame.get_by_role("heading", name="Record the call").wait_for()
    _fill_call_form(
        frame,
        reviewer="Dr. Dana Whitfield",
        disposition_label="Overturned: authorization approved",
        auth_number="AUTH-778812",
        notes="Reviewer accepted the 8 PT visits as conservative therapy.",
    )
    frame.get_by_role("button", name="Save note to the chart").click()
    confirmation = frame.locator(".confirm")
    confirmation.wait_for()
    reference = confirmation.locator(".ref").inner_text()
    assert reference.startswith("DocumentReference/")

    notes = _notes_in_ehr(demo, "pat-lumbar-mri")
    written = [n for n in notes if f"DocumentReference/{n['id']}" == reference]
    assert len(written) == 1
    note = written[0]
    assert note["subject"] == {"reference": "Patient/pat-lumbar-mri"}
    assert note["type"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "34748-4",
        "display": "Telephone encounter Note",
    }
    assert {"reference": "Claim/claim-lumbar-mri-1"} in note["context"]["related"]
    assert {"reference": "ClaimResponse/cr-lumbar-mri-1"} in note["context"]["related"]
    text = base64.b64decode(note["content"][0]["attachment"]["data"]).decode("utf-8")
    assert "Reviewer: Dr. Dana Whitfield, MD" in text
    assert "Authorization number: AUTH-778812" in text
    assert "Reviewer accepted the 8 PT visits as conservative therapy." in text


def test_refused_write_is_explained_and_the_note_is_kept(page: Any, demo: Any) -> None:
    frame = _open_app_in_chart(page, demo, "pat-glp1-t2dm")
    # The deliberately malformed Observation is reported, not fatal.
    frame.get_by_role("link", name="Open brief").click()
    frame.get_by_role("heading", name="Clinical bottom line").wait_for()
    assert "Observation/obs-glp1-malformed could not be read" in frame.locator(".warnings").inner_text()
    frame.get_by_role("link", name="Call and follow-up").first.click()
    frame.get_by_role("heading", name="Record the call").wait_for()

    before = len(_notes_in_ehr(demo, "pat-glp1-t2dm"))
    demo.ehr_app.extensions["demo_ehr"].faults.fail_next_writes(422)
    _fill_call_form(
        frame,
        reviewer="Dr. Lee Park",
        disposition_label="Upheld: denial stands",
        notes="Upheld; asked for rationale in writing.",
    )
    frame.get_by_role("button", name="Save note to the chart").click()
    alert = frame.locator(".alert")
    alert.wait_for()
    assert "The EHR did not accept the call note" in alert.inner_text()
    assert "Nothing you typed was lost" in alert.inner_text()
    assert len(_notes_in_ehr(demo, "pat-glp1-t2dm")) == before
    # The typed note is on the page, and a retry lands it once.
    assert "Upheld; asked for rationale in writing." in frame.locator(".notes").inner_text()
    frame.get_by_role("button", name="Retry now").click()
    frame.locator(".confirm").wait_for()
    assert len(_notes_in_ehr(demo, "pat-glp1-t2dm")) == before + 1
    health = requests.get(f"{demo.app.url}/health", timeout=5).json()
    assert health == {"status": "ok", "outbox": 0}
