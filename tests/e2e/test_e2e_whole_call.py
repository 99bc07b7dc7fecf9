"""The whole call, as the liaison and the physician live it, in headless Chromium inside the demo EHR's frame:
schedule (two failed attempts raise the written demand), draft and send the P2P request, record an upheld call in
full, read the note back from the EHR, see the dated next steps, open the letter of medical necessity, and file a
correction that replaces the note."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from pairs import case_in_chart_frame
from playwright.sync_api import expect
from pypdf import PdfReader

pytestmark = pytest.mark.browser
PATIENT = "pat-lumbar-mri"


def _notes_in_ehr(demo: Any) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{demo.fhir_base}/DocumentReference",
        params={"patient": PATIENT},
        headers={"Authorization": f"Bearer {demo.inspector}"},
        timeout=10,
    )
    answer.raise_for_status()
    return [e["resource"] for e in answer.json().get("entry", [])]


def _log(
    frame: Any, rows: int, kind: str, at: str, said: str = "", who: str = "", ref: str = "", slot: str = ""
) -> None:
    frame.locator("#l-kind").select_option(kind)
    frame.locator("#l-at").fill(at)
    frame.locator("#l-channel").select_option("phone")
    frame.locator("#l-reference").fill(ref)
    frame.locator("#l-who").fill(who)
    frame.locator("#l-said").fill(said)
    frame.locator("#l-slot").fill(slot)
    frame.get_by_role("button", name="Add to the log").click()
    expect(frame.locator("table.schedule tbody tr")).to_have_count(rows, timeout=30_000)  # a save and reload


def test_schedule_record_and_follow_up_a_call(page: Any, demo: Any, tmp_path: Path) -> None:
    shots = Path(os.environ.get("P2P_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    frame = case_in_chart_frame(page, demo.ehr.url, PATIENT)
    frame.get_by_role("heading", name="Scheduling log").wait_for()
    assert frame.locator(".schedule-status").inner_text() == "Not requested yet."

    # Scheduling: a request, then two failed attempts — the written demand is due.
    _log(frame, 1, "requested", "2026-11-20T17:05", ref="P2P-55123", said="Asked for a P2P by phone")
    _log(frame, 2, "attempt-failed", "2026-11-21T09:10", said="Reviewer unavailable; call tomorrow", who="Nurse Kim")
    assert "Requested 2026-11-20 17:05" in frame.locator(".schedule-status").inner_text()
    _log(frame, 3, "attempt-failed", "2026-11-22T09:15", said="No answer on the scheduling line", who="voicemail")
    assert frame.locator(".schedule-status").inner_text() == "2 failed attempts: send the written demand."

    # The P2P request and the written demand, drafted, read and marked sent.
    frame.locator("#d-phone").fill("+1-217-555-0142")
    frame.get_by_role("button", name="Draft: P2P request").click()
    expect(frame.get_by_role("heading", level=1)).to_contain_text("request", ignore_case=True)
    text = frame.locator("pre.draft-text").inner_text()
    assert "72148" in text and "M54.16" in text and "+1-217-555-0142" in text
    assert "215 ILCS 200/35" in text  # the reviewer-rights rule on file, quoted rather than invented
    blanks = frame.locator("pre.draft-text mark.placeholder")  # highlighted on the page, as in the PDF
    assert blanks.count() > 0 and all(b.startswith("[") for b in blanks.all_inner_texts())
    made = frame.locator("p.signal").inner_text()  # when in the practice's zone, and who by name (not UTC, no id)
    assert re.search(r"generated \d{4}-\d\d-\d\d \d\d:\d\d E[SD]T by Dr\. Demo Clinician\.", made), made
    portal = page.context.request.get(
        demo.app.url + frame.get_by_role("link", name="Plain text (portal)").get_attribute("href")
    )
    assert portal.headers["content-type"] == "text/plain; charset=utf-8" and "72148" in portal.text()
    frame.get_by_role("button", name="Mark as sent").click()
    expect(frame.locator("p.signal")).to_contain_text("Marked sent")
    frame.get_by_role("link", name="Back to the case").click()
    frame.get_by_role("button", name="Draft: Written demand after failed attempts").click()
    expect(frame.locator("pre.draft-text")).to_contain_text("No answer on the scheduling line")
    demand = frame.locator("pre.draft-text").inner_text()
    assert "Reviewer unavailable; call tomorrow" in demand and "No answer on the scheduling line" in demand
    frame.get_by_role("link", name="Back to the case").click()
    expect(frame.locator("table.drafts tbody tr")).to_have_count(2)
    drafts = frame.locator("table.drafts").inner_text()
    assert "sent " in drafts and "not sent" in drafts

    # The call: upheld by a reviewer of another specialty who refused a same-specialty reviewer.
    frame.locator("#f-call_date").fill("2026-11-23")
    frame.locator("#f-start_time").fill("10:05")
    frame.locator("#f-end_time").fill("10:19")
    frame.locator("#f-reviewer_name").fill("Dr. Dana Whitfield")
    frame.locator("#f-reviewer_credentials").fill("MD")
    frame.locator("#f-reviewer_specialty").fill("Diagnostic Radiology")
    frame.get_by_label("A different specialty").check()
    frame.get_by_label("Requested and refused").check()
    frame.locator("input[name=criteria_discussed][value=lbp-conservative-6wk]").check()
    frame.locator("#f-reviewer_reasoning").fill("Six weeks of conservative therapy are not documented.")
    frame.locator("#f-reviewer_claims").fill("No PT notes were submitted\nNSAIDs for two weeks only")
    frame.locator("#f-would_change").fill("The PT discharge summary.")
    frame.get_by_label("Upheld: denial stands").check()
    frame.get_by_label("The reviewer was not of the ordering physician's specialty").check()
    before = len(_notes_in_ehr(demo))
    frame.get_by_role("button", name="Save note to the chart").click()
    reference = frame.locator(".confirm .ref").inner_text()
    page.screenshot(path=str(shots / "case-after-call.png"), full_page=True)

    (note,) = [n for n in _notes_in_ehr(demo) if f"DocumentReference/{n['id']}" == reference]
    assert len(_notes_in_ehr(demo)) == before + 1
    text = base64.b64decode(note["content"][0]["attachment"]["data"]).decode("utf-8")
    assert "Same-specialty reviewer: Requested and refused" in text
    assert "- No PT notes were submitted\n- NSAIDs for two weeks only" in text
    assert note["content"][1]["attachment"]["contentType"] == "application/pdf"  # the brief as printed

    header = frame.locator("section.head").inner_text()  # the window no longer reads "request by" after the call
    assert "the call was held on 2026-11-23" in header and "request by" not in header
    # Next steps, dated; the demo denial (UnitedHealthcare, commercial) was decided 2026-11-20.
    steps = frame.locator("table.steps").inner_text()
    assert "2026-11-24 23:59" in steps and "written rationale" in steps
    assert "2027-05-19 23:59" in steps and "internal appeal" in steps
    assert "not of the same specialty" in steps

    # The letter of medical necessity, as a PDF for the physician to edit and sign.
    href = frame.get_by_role("link", name="as PDF").get_attribute("href")
    pdf = page.context.request.get(f"{demo.app.url}{href}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf.body())
    letter = " ".join(p.extract_text() for p in PdfReader(str(path)).pages)
    assert "DRAFT" in letter and "No PT notes were submitted" in letter and "[response to this claim]" in letter

    # The letter as a page: its print stylesheet is inline (for the PDF) and allowed by hash, so blanks show.
    letter_page = page.context.new_page()
    letter_page.goto(
        demo.app.url + frame.get_by_role("link", name="Draft letter of medical necessity").get_attribute("href")
    )
    words = letter_page.locator("body").inner_text()
    assert "at +1-217-555-0142." in words and "+1-217-555-0100" not in words  # the direct line typed, not the desk
    assert "(Condition/" not in words and "problem list" in words  # records named by kind, not by id
    blank = letter_page.locator(".placeholder").first
    assert blank.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    letter_page.screenshot(path=str(shots / "letter-page.png"), full_page=True)
    letter_page.close()

    # A correction is a new note that replaces the first; the first is never edited.
    frame.get_by_role("link", name="Correct this note").click()
    frame.get_by_role("heading", name="Correct the call note").wait_for()
    assert frame.locator("#f-reviewer_name").input_value() == "Dr. Dana Whitfield"
    frame.locator("#f-end_time").fill("10:24")
    frame.get_by_label("What this correction changes, and why").fill("The call ended at 10:24.")
    frame.get_by_role("button", name="Save the correction to the chart").click()
    correction = frame.locator(".confirm .ref").inner_text()
    assert correction != reference
    (corrected,) = [n for n in _notes_in_ehr(demo) if f"DocumentReference/{n['id']}" == correction]
    assert corrected["relatesTo"] == [{"code": "replaces", "target": {"reference": reference}}]
    assert "replaced by the correction of" in frame.locator(".notes").inner_text()
