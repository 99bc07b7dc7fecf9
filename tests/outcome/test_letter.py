"""The draft letter of medical necessity: what the physician reads, built only from the brief and the call record.

Met criteria cite their dated chart facts; what is not documented is a visible blank; guideline citations are the
brief's and no others; the reviewer's claims each wait for the physician's answer; the procedural paragraph appears
only when the record shows a procedural problem; the PDF and the HTML carry the draft banner and escape input."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import date, time
from functools import cache
from typing import Any

import pytest
from pypdf import PdfReader

from smart_app.cli import brief_clock, brief_from_bundle
from smart_app.content import content_dir
from smart_app.outcome.call_note import CallRecord
from smart_app.outcome.letter import (
    NOT_DOCUMENTED,
    NOT_MET,
    RECORD_KINDS,
    RESPONSE,
    Letter,
    LetterSection,
    letter_of_medical_necessity,
    placeholders_in,
    record_words,
    render_letter_html,
    render_letter_pdf,
)

DEMO = content_dir("fhir") / "demo"
BUNDLES = ("lumbar-mri.json", "knee-tka.json", "ra-tnf.json", "glp1-t2dm.json")
TODAY = date(2026, 11, 23)
RECORD = CallRecord(
    call_date=date(2026, 11, 21),
    start_time=time(10, 5),
    end_time=time(10, 19),
    reviewer_name="Dr. Dana Whitfield",
    reviewer_credentials="MD",
    reviewer_specialty="Family Medicine",
    disposition="upheld",
    specialty_match="same",
    criteria_discussed=("lbp-conservative-6wk",),
    reviewer_reasoning="The physical therapy notes do not show six weeks of supervised therapy.",
    reviewer_claims=("No PT notes were submitted with the request.", "Naproxen was only started in October."),
    would_change="A PT discharge summary showing 6 weeks of therapy.",
)
MISMATCH = replace(RECORD, reviewer_specialty="Radiology", specialty_match="different")


@cache
def _cached_brief(bundle: str) -> str:
    brief = brief_from_bundle(DEMO / bundle, clock=brief_clock("2026-11-23", "America/New_York"))
    return json.dumps(brief)


def _brief(bundle: str = "lumbar-mri.json") -> dict[str, Any]:
    return json.loads(_cached_brief(bundle))  # a fresh copy each time: tests may alter it


def _letter(bundle: str = "lumbar-mri.json", record: CallRecord = RECORD) -> Letter:
    return letter_of_medical_necessity(_brief(bundle), record, today=TODAY)


def _section(letter: Letter, heading: str) -> LetterSection:
    return next(s for s in letter.sections if s.heading == heading)


def _paragraph_about(section: LetterSection, text: str) -> str:
    return next(p for p in section.paragraphs if text in p)


def test_the_payers_reason_is_quoted_verbatim_with_the_denial_facts() -> None:
    brief = _brief()
    denial = brief["denials"][0]
    letter = _letter()
    request = _section(letter, "Request for reconsideration")
    assert f"“{denial['reason']['text']}”" in request.paragraphs[1]
    assert "2026-11-20" in request.paragraphs[0] and denial["preAuthRef"] in request.paragraphs[0]
    assert letter.re_lines == (
        "Patient: Raymond T. Quillfeather",
        "Date of birth: 1974-03-14",
        "Member ID: 984213657",
        "Service: CPT 72148 MRI lumbar spine without contrast",
        f"Payer reference: {denial['preAuthRef']}",
        "Denial date: 2026-11-20",
    )
    assert letter.signature_lines == (
        "[signature]",
        "Dr. Priya Nandakumar",
        "NPI 3214567893",
        "Specialty: Family Medicine",
        "Date: [date]",
    )


def test_each_met_criterion_cites_its_dated_evidence() -> None:
    criteria = _section(_letter(), "Coverage criteria")
    met = [c for c in _brief()["denials"][0]["criteria"] if c["status"] == "met"]
    assert len(met) == 2
    for criterion in met:
        paragraph = _paragraph_about(criteria, criterion["text"])
        assert paragraph.startswith(f"Met: {criterion['text']}")
        for evidence in criterion["evidence"]:
            assert f"documented {evidence['date']} ({record_words(evidence['reference'])})" in paragraph
    assert "(Discussed on the peer-to-peer call.)" in _paragraph_about(criteria, "conservative therapy")


def test_a_not_documented_criterion_is_a_visible_blank_never_met() -> None:
    criteria = _section(_letter(), "Coverage criteria")
    red_flag = _paragraph_about(criteria, "A red flag that needs no wait")
    assert "[not documented — confirm before sending]" in red_flag
    assert not red_flag.startswith("Met")
    assert NOT_DOCUMENTED in criteria.placeholders


def test_a_not_met_criterion_is_left_for_the_physician_and_never_claimed() -> None:
    brief = _brief()
    criterion = brief["denials"][0]["criteria"][1]
    criterion["status"], criterion["note"] = "not-met", "21 days documented (2026-09-02 to 2026-09-23)"
    letter = letter_of_medical_necessity(brief, RECORD, today=TODAY)
    paragraph = _paragraph_about(_section(letter, "Coverage criteria"), criterion["text"])
    assert paragraph.startswith(f"Not met on the chart: {criterion['text']} {NOT_MET}")
    assert "[chart check: 21 days documented (2026-09-02 to 2026-09-23)]" in paragraph
    assert "Met:" not in paragraph


def test_met_without_a_dated_fact_is_not_stated_as_met() -> None:
    brief = _brief()
    brief["denials"][0]["criteria"][0]["evidence"][0]["date"] = None
    letter = letter_of_medical_necessity(brief, RECORD, today=TODAY)
    paragraph = _paragraph_about(_section(letter, "Coverage criteria"), "Low back pain or lumbar radiculopathy")
    assert not paragraph.startswith("Met") and "no dated chart record to cite" in paragraph


@pytest.mark.parametrize("bundle", BUNDLES)
def test_every_met_paragraph_is_a_met_criterion_with_a_dated_reference(bundle: str) -> None:
    statuses = {c["text"]: c["status"] for c in _brief(bundle)["denials"][0]["criteria"]}
    paragraphs = _section(_letter(bundle), "Coverage criteria").paragraphs
    for paragraph in paragraphs:
        if paragraph.startswith("Met: "):
            text = next(t for t in statuses if paragraph.startswith(f"Met: {t}"))
            assert statuses[text] == "met"
            assert re.search(r"documented \d{4}-\d{2}-\d{2} \((" + "|".join(RECORD_KINDS.values()) + r")\)", paragraph)
    for text, status in statuses.items():
        assert any(text in p for p in paragraphs)  # no criterion dropped
        if status == "not-documented":
            assert NOT_DOCUMENTED in _paragraph_about(_section(_letter(bundle), "Coverage criteria"), text)


@pytest.mark.parametrize("bundle", BUNDLES)
def test_guideline_citations_are_the_briefs_and_no_others(bundle: str) -> None:
    citations = [g["citation"] for g in _brief(bundle)["denials"][0]["guidelines"]]
    section = _section(_letter(bundle), "Clinical guidelines")
    if citations:
        assert [p.split(" It supports:")[0] for p in section.paragraphs] == citations
    else:
        assert len(section.paragraphs) == 1 and section.placeholders == ("[add one from a verified source]",)


@pytest.mark.parametrize("bundle", BUNDLES)
def test_no_date_or_chart_reference_is_invented(bundle: str) -> None:
    brief = _brief(bundle)
    known = json.dumps(brief, ensure_ascii=False)
    text = _letter(bundle).text()
    for day in set(re.findall(r"\d{4}-\d{2}-\d{2}", text)):
        assert day in known or day == RECORD.call_date.isoformat(), day
    assert re.findall(r"\b[A-Z][A-Za-z]+/[a-z0-9][a-z0-9.-]+", text) == []  # no record's id in the EHR either


def test_relevant_diagnoses_are_dated_and_unrelated_ones_left_out() -> None:
    diagnoses = _section(_letter(), "Diagnoses")
    assert "Low back pain (M54.50): documented 2026-09-02 (problem list), active." in diagnoses.paragraphs
    assert any(p.startswith("Left L5 radiculopathy") and "(problem list)" in p for p in diagnoses.paragraphs)
    assert not any("Hypertension" in p for p in diagnoses.paragraphs)


def test_each_reviewer_claim_is_followed_by_a_blank_for_the_physicians_answer() -> None:
    letter = _letter()
    call = _section(letter, "The peer-to-peer review")
    for claim in RECORD.reviewer_claims:
        assert f"The reviewer stated: “{claim}” {RESPONSE}" in call.paragraphs
    assert f"“{RECORD.reviewer_reasoning}”" in _paragraph_about(call, "stated reasoning")
    assert f"“{RECORD.would_change}”" in _paragraph_about(call, "would change the decision")
    assert letter.text().count(RESPONSE) == len(RECORD.reviewer_claims)


@pytest.mark.parametrize(
    ("record", "present"),
    [
        (RECORD, False),
        (replace(RECORD, specialty_match="unknown"), False),
        (MISMATCH, True),
        (replace(RECORD, same_specialty_request="refused"), True),
        (replace(RECORD, objections=("refused-new-evidence",)), True),
    ],
)
def test_the_procedural_paragraph_appears_only_with_a_procedural_problem(record: CallRecord, present: bool) -> None:
    letter = _letter(record=record)
    assert ("Review procedure" in [s.heading for s in letter.sections]) is present
    assert ("215 ILCS 200/35" in letter.text()) is present


def test_the_procedural_paragraph_quotes_the_rule_or_only_states_the_facts() -> None:
    rights = _brief()["denials"][0]["reviewerRights"]
    procedure = _section(_letter(record=MISMATCH), "Review procedure")
    assert "(Radiology) is not that of the ordering physician (Family Medicine)" in procedure.paragraphs[0]
    assert f"{rights['citation']} provides: “{rights['text']}”" in procedure.paragraphs[1]
    assert f"[{rights['caveat']}]" in procedure.placeholders
    assert _brief("ra-tnf.json")["denials"][0]["reviewerRights"] is None
    without_rule = _section(_letter("ra-tnf.json", MISMATCH), "Review procedure")
    assert not any("provides" in p or "ILCS" in p or "law" in p for p in without_rule.paragraphs)


@pytest.mark.parametrize(
    "disposition", ["overturned", "pending-documentation", "deferred-same-specialty", "not-reached"]
)
def test_only_an_upheld_denial_gets_a_letter(disposition: str) -> None:
    with pytest.raises(ValueError, match="upheld"):
        _letter(record=replace(RECORD, disposition=disposition))


def test_the_plain_text_has_every_part_in_order() -> None:
    letter = _letter()
    text = letter.text()
    headings = [s.heading.upper() for s in letter.sections]
    assert [text.index(h) for h in headings] == sorted(text.index(h) for h in headings)
    assert text.index("Re:") < text.index(headings[0]) < text.index("Sincerely,") < text.index("[signature]")


def test_the_pdf_carries_the_draft_banner_and_the_criteria() -> None:
    brief = _brief()
    reader = PdfReader(io.BytesIO(render_letter_pdf(_letter())))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "DRAFT — for the physician to edit and sign" in text
    assert brief["denials"][0]["criteria"][0]["text"][:50] in text
    assert "[not documented — confirm before sending]" in text
    assert 1 < len(reader.pages) <= 4


def test_the_html_escapes_input_and_highlights_the_blanks() -> None:
    record = replace(RECORD, reviewer_reasoning="<script>alert('x')</script> not necessary")
    html = render_letter_html(_letter(record=record))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<span class="placeholder">[not documented — confirm before sending]</span>' in html
    assert html.count(f'<span class="placeholder">{RESPONSE}</span>') == len(RECORD.reviewer_claims)


def test_brackets_typed_by_the_reviewer_are_not_highlighted() -> None:
    brief = _brief()
    record = replace(RECORD, reviewer_claims=("The chart [sic] shows no PT.",))
    html = render_letter_html(letter_of_medical_necessity(brief, record, today=TODAY))
    assert "The chart [sic] shows no PT." in html
    assert '<span class="placeholder">[sic]</span>' not in html


def test_a_denial_with_nothing_on_file_is_all_blanks_not_guesses() -> None:
    letter = letter_of_medical_necessity({"patient": {}, "denials": [{}]}, RECORD, today=TODAY)
    assert all(line.endswith(NOT_DOCUMENTED) for line in letter.re_lines)
    for heading in ("Request for reconsideration", "Diagnoses", "Coverage criteria", "Prior treatments"):
        assert NOT_DOCUMENTED in _section(letter, heading).placeholders
    assert placeholders_in(letter)[-3:] == (
        "[signature]",
        "[date]",
        "[the payer's address for reconsideration requests]",
    )


@pytest.mark.parametrize("bundle", BUNDLES)
def test_each_sections_placeholders_are_the_blanks_in_its_paragraphs(bundle: str) -> None:
    for section in _letter(bundle, MISMATCH).sections:
        text = "\n".join(section.paragraphs)
        assert all(blank in text for blank in section.placeholders)
        assert (NOT_DOCUMENTED in text) is (NOT_DOCUMENTED in section.placeholders)


def test_another_payers_policy_and_the_front_desk_number_are_not_offered_as_the_payers_or_the_physicians() -> None:
    brief = _brief("lumbar-mri.json")
    front_desk = brief["denials"][0]["orderingProvider"]["phone"]
    letter = letter_of_medical_necessity(brief, RECORD, today=TODAY)
    criteria = _section(letter, "Coverage criteria").paragraphs[0]
    assert criteria.startswith("UnitedHealthcare's own coverage policy for this service is not on file")
    assert "[name the UnitedHealthcare policy the denial cites" in criteria
    assert not criteria.startswith("Policy: ")  # an Aetna bulletin was cited as the coverage policy
    closing = " ".join(_section(letter, "Request for approval").paragraphs)
    assert front_desk and front_desk not in letter.text()
    assert "at [direct callback number]." in closing
    direct = letter_of_medical_necessity(brief, RECORD, today=TODAY, callback_phone="+1-217-555-0142")
    assert "I am available to discuss this request at +1-217-555-0142." in direct.text()
