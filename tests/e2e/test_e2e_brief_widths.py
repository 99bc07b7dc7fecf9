"""The brief as a physician sees it: in the EHR's frame on a 1024 px screen and on a 390 px phone held during the
call. Screenshots go to ``P2P_SCREENSHOT_DIR`` (or a temp dir); nothing may scroll sideways."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("P2P_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _no_sideways_scroll(target: Any) -> None:
    target.wait_for_load_state("networkidle")  # stylesheets (the app's and the EHR's) applied before measuring
    width, scroll = target.evaluate("[document.documentElement.clientWidth, document.documentElement.scrollWidth]")
    assert scroll <= width + 1, f"the page scrolls sideways ({scroll} > {width})"


@pytest.mark.parametrize(("patient", "width"), [("pat-knee-tka", 1024), ("pat-glp1-t2dm", 390)])
def test_brief_reads_at_ehr_and_phone_widths(browser: Any, demo: Any, tmp_path: Path, patient: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{demo.ehr.url}/launch?patient={patient}")
    # the EHR asks for consent once per browser context; wait for whichever page comes first
    page.wait_for_selector("button:has-text('Allow'), h1:has-text('Prior-authorization denials')")
    allow = page.get_by_role("button", name="Allow")
    if allow.count():
        allow.click()
    page.get_by_role("heading", name="Prior-authorization denials").wait_for()
    _no_sideways_scroll(page)
    # the EHR's smart_style_url colours are applied (demo EHR background #f4f6f8, the app's own is #f5f7f9)
    page.wait_for_function("getComputedStyle(document.body).backgroundColor === 'rgb(244, 246, 248)'")
    # keyboard alone: tab to the first "Open brief" link and press Enter
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.textContent.trim()") == "Open brief":
            break
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Call script").wait_for()
    assert "/brief/" in page.url
    _no_sideways_scroll(page)
    assert page.locator(".appbar .banner").count() == 0  # an EHR launch (need_patient_banner false): no second banner
    body = page.locator("main").inner_text()
    for block in (
        "Clinical bottom line",
        "Payer criteria",
        "Prior treatments on record",
        "The reviewer",
        "Call script",
    ):
        assert block in body
    page.screenshot(path=str(_shots(tmp_path) / f"brief-{width}px.png"), full_page=True)
    context.close()
