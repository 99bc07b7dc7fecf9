"""The practice's pages as a manager reads them on a phone: the rates page at 390 px fits the screen, and its
stacked tables say what each number is."""

from __future__ import annotations

from typing import Any

import pytest
from pairs import arrive, open_brief

pytestmark = pytest.mark.browser


def _practice_sign_in(browser: Any, demo: Any) -> Any:
    """A phone-sized page on the practice's worklist, after a chart launch in another browser context put the
    lumbar denial on it (one context doing both at once can race its own session: see the note on issue 15)."""
    chart = browser.new_context().new_page()
    chart.goto(f"{demo.ehr.url}/launch?patient=pat-lumbar-mri")
    arrive(chart, "Prior-authorization denials")
    chart.context.close()
    page = browser.new_context(viewport={"width": 390, "height": 900}).new_page()
    page.goto(f"{demo.app.url}/launch?iss={demo.fhir_base}")  # the practice's sign-in
    arrive(page, "Practice worklist")
    page.wait_for_load_state("networkidle")  # the stylesheets applied before anything is measured
    return page


def test_the_rates_page_fits_390_px_and_labels_every_number(browser: Any, demo: Any) -> None:
    page = _practice_sign_in(browser, demo)
    page.get_by_role("link", name="Outcome rates").click()
    page.get_by_role("heading", name="Peer-to-peer outcomes").wait_for()
    page.wait_for_load_state("networkidle")
    width, scroll = page.evaluate("[document.documentElement.clientWidth, document.documentElement.scrollWidth]")
    assert scroll <= width + 1, f"the page scrolls sideways ({scroll} > {width})"
    charts = page.evaluate("[...document.querySelectorAll('svg.chart')].map((s) => getComputedStyle(s).display)")
    assert charts and set(charts) == {"none"}  # a bar chart scaled to 390 px is unreadable; the table says it all
    labels = page.evaluate("""[...document.querySelectorAll('table.rates tbody tr:first-child td')].map(
        (td) => getComputedStyle(td, '::before').content)""")
    assert '"Requested" ": "' in labels or any("Requested" in label for label in labels), labels
    assert any("Overturn rate" in label for label in labels), labels
    page.context.close()


def test_stacked_tables_at_390_px_say_what_each_value_is(browser: Any, demo: Any) -> None:
    """The prior treatments on the brief, the worklist and the audit log showed bare dates, doses and ids when
    stacked on a phone; each value now carries its column's name, and the audit page does not scroll sideways."""
    page = open_brief(browser, demo.ehr.url, "pat-lumbar-mri", width=390)
    labels = page.evaluate("""[...document.querySelectorAll('#tx-h ~ table tbody tr:first-child td')].map(
        (td) => getComputedStyle(td, '::before').content)""")
    assert any("Start" in label for label in labels) and any("Dose" in label for label in labels), labels
    page.context.close()
    page = _practice_sign_in(browser, demo)
    labels = page.evaluate("""[...document.querySelectorAll('table.worklist tbody tr:first-child td')].map(
        (td) => getComputedStyle(td, '::before').content)""")
    assert any("Payer" in label for label in labels) and any("Status" in label for label in labels), labels
    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("heading", name="Audit log").wait_for()
    page.wait_for_load_state("networkidle")
    width, scroll = page.evaluate("[document.documentElement.clientWidth, document.documentElement.scrollWidth]")
    assert scroll <= width + 1, f"the audit page scrolls sideways ({scroll} > {width})"
    page.context.close()
