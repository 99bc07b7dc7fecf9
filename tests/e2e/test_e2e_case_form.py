"""The call form after a refused submit, as the liaison meets it: the errors listed at the top, each a link to its
field, and the first field in error focused (it was about 2,000 px below, with the page back at its top)."""

from __future__ import annotations

from typing import Any

import pytest
from pairs import open_brief

pytestmark = pytest.mark.browser


def test_a_refused_submit_lists_the_errors_on_top_and_focuses_the_first(browser: Any, demo: Any) -> None:
    page = open_brief(browser, demo.ehr.url, "pat-ra-tnf")
    page.locator(".appnav").get_by_role("link", name="Call and follow-up").click()
    page.locator("#f-call_date").fill("2026-11-23")
    page.locator("#f-start_time").fill("10:05")
    page.locator("#f-end_time").fill("10:19")
    page.locator("#f-reviewer_reasoning").fill("Step therapy not shown.")  # typed, then the form is refused
    page.get_by_role("button", name="Save note to the chart").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "The call note was not saved" in summary.inner_text()
    links = summary.get_by_role("link").all_inner_texts()
    assert links[:2] == ["Reviewer name", "Disposition"], links  # in the form's order
    # the page focuses the first field in error once its script runs (after the summary is on screen)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'f-reviewer_name'")
    top = page.evaluate("document.querySelector('.error-summary').getBoundingClientRect().top + window.scrollY")
    form = page.evaluate("document.querySelector('#f-call_date').getBoundingClientRect().top + window.scrollY")
    assert top < form and top < 400, (top, form)  # on top of the page, before the form
    assert page.locator("#f-reviewer_reasoning").input_value() == "Step therapy not shown."  # nothing lost
    summary.get_by_role("link", name="Disposition").click()
    assert page.url.endswith("#f-disposition")
    page.context.close()
