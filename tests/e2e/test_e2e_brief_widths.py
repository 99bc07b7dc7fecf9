"""The brief as a physician sees it: in the EHR's frame on a 1024 px screen and on a 390 px phone held during the
call. Screenshots go to ``P2P_SCREENSHOT_DIR`` (or a temp dir); nothing may scroll sideways."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pairs import open_brief

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
        "Criteria standing in for the payer's",  # neither demo payer's own policy is on file
        "Prior treatments on record",
        "The reviewer",
        "Call script",
    ):
        assert block in body
    page.screenshot(path=str(_shots(tmp_path) / f"brief-{width}px.png"), full_page=True)
    context.close()


#: For each element, the number of lines each of its words is laid out on; a word on two lines was cut mid-word.
WORDS_ON_LINES = """(selector) => [...document.querySelectorAll(selector)].flatMap((element) => {
  const text = element.firstChild && element.firstChild.nodeType === 3 ? element.firstChild : null;
  if (!text) return [];
  const found = [];
  for (const match of text.data.matchAll(/\\S+/g)) {
    const range = document.createRange();
    range.setStart(text, match.index);
    range.setEnd(text, match.index + match[0].length);
    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    found.push([match[0], tops.size]);
  }
  return found;
})"""


@pytest.mark.parametrize("patient", ["pat-ra-tnf", "pat-glp1-t2dm"])
def test_table_headers_and_badges_keep_their_words_whole(browser: Any, demo: Any, patient: str) -> None:
    page = open_brief(browser, demo.ehr.url, patient)
    words = page.evaluate(WORDS_ON_LINES, ".criteria-table th, .criteria-table .badge")
    assert ["Status", 1] in words and any(w[0] in ("met", "not-met", "not") for w in words), words
    assert [w for w in words if w[1] > 1] == [], "cut mid-word"
    shown = page.locator("main").inner_text()  # codes in words: "medical-necessity" and "not-documented" were shown
    assert "Medical necessity" in shown and "medical-necessity" not in shown and "not-documented" not in shown
    codes = " ".join(page.locator(".codes").first.inner_text().split())  # a code the table lacks says so
    assert "X12 886 code not in the app's code table: its words are on the denial letter" in codes, codes
    page.context.close()


def test_at_390_px_the_criterion_takes_the_whole_row(browser: Any, demo: Any) -> None:
    page = open_brief(browser, demo.ehr.url, "pat-ra-tnf", width=390)
    widths = page.evaluate("""[...document.querySelectorAll('.criteria-table tbody tr')].map(
        (row) => [row.firstElementChild.getBoundingClientRect().width, row.getBoundingClientRect().width])""")
    assert widths and all(cell >= 0.9 * row for cell, row in widths), widths
    page.context.close()


def test_the_call_script_is_a_page_of_the_app_with_its_pdf_and_a_way_back(browser: Any, demo: Any) -> None:
    page = open_brief(browser, demo.ehr.url, "pat-lumbar-mri")
    page.locator(".appnav").get_by_role("link", name="Call script").click()
    page.get_by_role("heading", name="Call script — CPT 72148 MRI lumbar spine").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.locator(".appbar").count() == 1  # the app's own page, styled, not a bare print page
    pdf = page.context.request.get(demo.app.url + page.get_by_role("link", name="Script PDF").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    # "Walk the criteria": each highlighted answer sits below its criterion, not over its last line
    overlaps = page.evaluate("""[...document.querySelectorAll('.script li strong')].map((strong) => {
        const say = strong.parentElement.querySelector('.say');
        return say ? say.getBoundingClientRect().top - strong.getBoundingClientRect().bottom : 0; })""")
    assert overlaps and min(overlaps) >= 0, overlaps
    page.get_by_role("link", name="Back to the brief").click()
    page.get_by_role("heading", name="Call script").wait_for()
    assert "/brief/" in page.url and "/script" not in page.url
    page.context.close()


def test_conditions_show_the_icd_10_code_not_a_snomed_id_beside_it(browser: Any, demo: Any) -> None:
    page = open_brief(browser, demo.ehr.url, "pat-lumbar-mri")
    conditions = page.locator("ul.conditions").inner_text()
    assert "M54.50" in conditions and "279039007" not in conditions, conditions  # was "M54.50 279039007"
    page.context.close()
