"""The liaison's whole path with a faxed letter, in headless Chromium through the demo EHR: upload the scanned
UnitedHealthcare letter on the patient's page, see each page beside the fields read (focusing a field highlights
its line on the page), confirm, and read the brief of the denial it is the payer's letter for. A screenshot of the
review is kept (``P2P_SCREENSHOT_DIR``, else the test's tmp folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pairs import arrive

SCAN = Path(__file__).parent.parent / "data" / "letters" / "uhc-lumbar-mri-scan.pdf"
PRAIRIE = "Organization/org-lumbar-prairie-family-med"

pytestmark = pytest.mark.browser


def test_a_scanned_letter_becomes_a_brief(demo: Any, browser: Any, tmp_path: Path) -> None:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{demo.ehr.url}/launch?patient=pat-lumbar-mri")
    arrive(page, "Prior-authorization denials")
    shots = Path(os.environ.get("P2P_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "letter-upload.png"), full_page=True)
    page.set_input_files("#f-letter", str(SCAN))
    page.get_by_role("button", name="Upload and read the letter").click()
    page.get_by_role("heading", name="Review the letter").wait_for(timeout=120_000)
    page.wait_for_load_state("networkidle")

    assert page.input_value("#f-member_id") == "984213657"
    assert page.input_value("#f-service_code_0") == "72148"
    assert "page 1: ‘" in page.inner_text("#s-member_id") and "984213657" in page.inner_text("#s-member_id")
    assert page.locator(".letter-page img").first.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "read by OCR, confidence" in page.inner_text(".letter-page figcaption")
    box = page.locator("#box-member-id")
    assert box.is_visible() and "active" not in (box.get_attribute("class") or "")
    page.focus("#f-member_id")
    assert "active" in (box.get_attribute("class") or "")
    field_box, image_box = box.bounding_box(), page.locator(".letter-page img").first.bounding_box()
    assert field_box and image_box and image_box["x"] <= field_box["x"] < image_box["x"] + image_box["width"]

    page.screenshot(path=str(shots / "letter-review.png"), full_page=False)
    page.screenshot(path=str(shots / "letter-review-full.png"), full_page=True)

    expected = json.loads(SCAN.with_name("uhc-lumbar-mri.expected.json").read_text())
    page.select_option("#f-practice", PRAIRIE)
    page.fill("#f-reference", expected["reference"])  # the liaison copies what the reader missed or misread
    page.fill("#f-reason_text", expected["reasonText"])
    page.get_by_role("button", name="Confirm and open the brief").click()
    # The letter's reference is the demo ClaimResponse's preAuthRef: it joins that denial's case, not a second one.
    joined = page.locator("#joined")
    joined.wait_for(timeout=60_000)
    assert "This letter is the payer's letter for the denial already on the list (decided 2026-11-20)" in (
        joined.inner_text()
    )
    joined.get_by_role("link", name="Open the brief").click()
    page.get_by_role("heading", name="Call script").wait_for(timeout=60_000)
    assert "/brief/cr-lumbar-mri-1" in page.url
    text = page.inner_text("main")
    assert "added to this case" in text and "see the letter and its fields" in text
    assert "no documentation of 6 weeks of conservative treatment" in text
    assert "the letter says" in text  # its 2 business days beat UnitedHealthcare's 21 calendar days
    assert "Reference: ClaimResponse (EHR) · letter page 1" in page.inner_text("#where-from")
    page.screenshot(path=str(shots / "letter-brief.png"), full_page=False)
    page.context.close()
