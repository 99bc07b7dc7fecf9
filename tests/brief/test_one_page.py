"""The printed brief: exactly one US Letter page for every demo patient and for a crowded case, every block in
order with the patient's facts, no criterion dropped, no citation from outside guidelines.yaml; the call script
on its own page."""

from __future__ import annotations

import copy
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from smart_app.brief.render import render_pdf_fitted, render_script_pdf
from smart_app.cli import brief_clock, brief_from_bundle
from smart_app.content import content_dir
from smart_app.criteria.library import library

DEMO = content_dir("fhir") / "demo"
BUNDLES = ("lumbar-mri.json", "ra-tnf.json", "knee-tka.json", "glp1-t2dm.json")
BLOCKS = ("The denial, as written", "Bottom line", "Payer criteria", "Prior treatments", "Guideline support",
          "If upheld", "The reviewer")  # fmt: skip


def _brief(bundle: str) -> dict[str, Any]:
    brief = brief_from_bundle(DEMO / bundle, clock=brief_clock("2026-11-23", "America/New_York"))
    brief["asOf"] = "2026-11-23 09:00"
    return brief


def _text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), " ".join(" ".join(p.extract_text() for p in reader.pages).split())


@pytest.mark.parametrize("bundle", BUNDLES)
def test_every_demo_brief_is_one_page_with_every_block(bundle: str) -> None:
    brief = _brief(bundle)
    denial = brief["denials"][0]
    pdf, level = render_pdf_fitted(brief)
    pages, text = _text(pdf)
    assert pages == 1, f"{bundle} needed {pages} pages at fit level {level}"
    own = denial["policy"] is None or denial["policy"]["standIn"] is None
    blocks = [b if b != "Payer criteria" or own else f"Stand-in criteria (not {denial['payer']['name']}'s own)"
              for b in BLOCKS]  # fmt: skip
    positions = [text.index(block) for block in blocks]
    assert positions == sorted(positions)  # in the order the call raises them
    assert brief["patient"]["name"] in text and brief["patient"]["memberId"] in text
    assert denial["serviceText"] in text
    assert denial["reason"]["text"][:60] in text  # the payer's words, verbatim
    assert denial["bottomLine"][0][:50] in text
    for criterion in denial["criteria"]:
        assert criterion["text"][:40] in text  # never dropped
    if any(c["status"] == "not-documented" for c in denial["criteria"]):
        assert "not documented — confirm before the call" in text


def test_only_citations_from_guidelines_yaml_are_printed() -> None:
    known = [g["citation"] for g in library().guidelines.values()]
    for bundle in BUNDLES:
        brief = _brief(bundle)
        for guideline in brief["denials"][0]["guidelines"]:
            assert guideline["citation"] in known
        _, text = _text(render_pdf_fitted(brief)[0])
        printed = re.findall(r"doi:\S+", text)
        assert all(any(doi in citation for citation in known) for doi in printed)
    knee = _brief("knee-tka.json")  # no guideline on file: the block says so and leaves space
    assert "No guideline on file for this service. Write one in:" in _text(render_pdf_fitted(knee)[0])[1]


def test_a_crowded_brief_still_fits_one_page_without_dropping_a_criterion() -> None:
    brief = _brief("lumbar-mri.json")
    denial = brief["denials"][0]
    template = denial["criteria"][1]
    denial["criteria"] = [
        {**copy.deepcopy(template), "id": f"c{i}", "text": f"Criterion number {i:02d}: " + template["text"]}
        for i in range(10)
    ]
    course = denial["priorTreatments"][0]
    denial["priorTreatments"] = [
        {**course, "name": f"Treatment {i:02d}", "start": f"2025-{i + 1:02d}-01"} for i in range(12)
    ]
    pdf, level = render_pdf_fitted(brief)
    pages, text = _text(pdf)
    assert pages == 1 and level > 0
    for i in range(10):
        assert f"Criterion number {i:02d}" in text
    assert "Treatment 11" in text  # the newest treatments stay
    assert "earlier treatment(s) not shown — see the chart" in text  # older ones folded into a count, said so


@pytest.mark.parametrize("bundle", BUNDLES)
def test_call_script_prints_on_its_own_page(bundle: str) -> None:
    brief = _brief(bundle)
    pages, text = _text(render_script_pdf(brief))
    assert pages == 1
    for part in ("Open (60 seconds)", "Walk the criteria", "Engage the reviewer", "Close", "Ready phrases"):
        assert part in text
    assert "Which specific criterion was not met?" in text
    assert "What additional information would change this decision?" in text
    assert "May I have your name, your credentials and your specialty for my record?" in text
    assert brief["denials"][0]["reviewerAsk"][:40] in text  # the same-specialty request, with its rule when one applies


def test_cli_prints_the_script_part(tmp_path: Path) -> None:
    from smart_app.cli import main

    out = tmp_path / "script.pdf"
    assert main(["brief", str(DEMO / "ra-tnf.json"), "--format", "pdf", "--part", "script", "--out", str(out)]) == 0
    assert _text(out.read_bytes())[1].startswith("Call script — NDC 0074-0554-02")


def test_bottom_line_starts_with_the_requests_primary_diagnosis() -> None:
    lines = _brief("glp1-t2dm.json")["denials"][0]["bottomLine"]
    assert (
        lines[0]
        == "Type 2 diabetes mellitus, uncontrolled, documented since 2023-03-10, 3 years 8 months before the request."
    )
    assert lines[1].startswith("Tried: metformin 2023-03-14 to 2023-06-11")
    assert lines[2] == (
        "Under GLP-1 receptor agonists for type 2 diabetes, the chart documents what the policy asks for. "
        "ADA Standards of Care in Diabetes (2025), section 9 supports it."
    )


def test_an_alternative_route_is_not_asked_for_when_another_is_met() -> None:
    denial = _brief("lumbar-mri.json")["denials"][0]
    walk = {item["criterion"][:20]: item["say"] for item in denial["callScript"]["walk"]}
    assert walk["A red flag that need"].startswith("An alternative route; not needed")
    assert "the chart documents what the policy asks for" in denial["bottomLine"][2]


def test_script_lines_follow_the_data() -> None:
    from smart_app.brief.script import call_script

    brief = _brief("knee-tka.json")
    denial = brief["denials"][0]
    script = call_script(brief, denial, date(2026, 11, 23))
    assert "the pended request for CPT 27447" in script["opening"][0]
    phrases = script["phrases"]
    assert len(phrases) == len(set(phrases)) and sum("May I have your name" in p for p in phrases) == 1
    brief["patient"]["birthDate"] = "1958"  # a partial birth date: no guessed age, no crash
    assert "about a patient (member ID" in call_script(brief, denial, date(2026, 11, 23))["opening"][0]
    no_treatments = {**denial, "priorTreatments": []}
    assert not any(
        "First-line therapy" in line for line in call_script(brief, no_treatments, date(2026, 11, 23))["engage"]
    )


def test_a_brief_that_cannot_fit_is_refused_not_printed_on_two_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    from smart_app.brief import render

    monkeypatch.setattr(render, "_pdf", lambda html: (b"%PDF", 2))
    with pytest.raises(render.DoesNotFit, match="needs 2 pages"):
        render.render_pdf_fitted(_brief("ra-tnf.json"))
