"""Back, then submit again, in headless Chromium inside the demo EHR's frame: the page comes back fetched afresh
(never cached) with what was typed put back by the browser; the second submit shows the note the first one saved
and the chart holds it once. A second call typed into the next form is a new note."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from pairs import case_in_chart_frame
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
PATIENT = "pat-glp1-t2dm"


def _notes_in_ehr(demo: Any) -> int:
    answer = requests.get(f"{demo.fhir_base}/DocumentReference", params={"patient": PATIENT},
                          headers={"Authorization": f"Bearer {demo.inspector}"}, timeout=10)  # fmt: skip
    return len(answer.json().get("entry", []))


def _fill(frame: Any, reviewer: str) -> None:
    frame.locator("#f-call_date").fill("2026-11-23")
    frame.locator("#f-start_time").fill("10:05")
    frame.locator("#f-end_time").fill("10:19")
    frame.locator("#f-reviewer_name").fill(reviewer)
    frame.get_by_label("Upheld: denial stands").check()


def test_back_and_submit_again_shows_the_first_note_and_writes_nothing(page: Any, demo: Any) -> None:
    frame = case_in_chart_frame(page, demo.ehr.url, PATIENT)
    frame.get_by_role("heading", name="Record the call").wait_for()
    before = _notes_in_ehr(demo)
    _fill(frame, "Dr. Back Button")
    frame.get_by_role("button", name="Save note to the chart").click()
    first = frame.locator(".confirm .ref").inner_text()

    page.evaluate("history.back()")  # the frame goes back to the form, typed values put back by the browser
    expect(frame.locator("#f-reviewer_name")).to_have_value("Dr. Back Button")
    frame.get_by_role("button", name="Save note to the chart").click()
    assert frame.locator(".confirm .ref").inner_text() == first
    assert _notes_in_ehr(demo) == before + 1
    assert frame.locator(".notes li").count() == 1

    _fill(frame, "Dr. Second Call")  # the next form, a new key: a second call is a second note
    frame.get_by_role("button", name="Save note to the chart").click()
    frame.locator(".notes li").nth(1).wait_for()
    assert frame.locator(".confirm .ref").inner_text() != first
    assert _notes_in_ehr(demo) == before + 2
