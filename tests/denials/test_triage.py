"""Triage: the category from reason codes first and text second, the recommendation, and the specific-reason flag."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from builders import chart_of, claim, claim_response, coverage, organization

from smart_app.denials.assess import Clock, assess
from smart_app.denials.pas import read_denial
from smart_app.denials.triage import categorise, is_generic_reason

CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
X12_901 = "https://codesystem.x12.org/005010/901"
ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)


def _denial(**kwargs):  # type: ignore[no-untyped-def]
    response = claim_response(**kwargs)
    payer = organization("payer", "UnitedHealthcare")
    chart = chart_of(claim(), response, payer, coverage("Organization/payer", "512"))
    return read_denial(response, chart.resolve), chart


@pytest.mark.parametrize(
    ("reasons", "category"),
    [
        ([(CARC, "50")], "medical-necessity"),
        ([(CARC, "16")], "administrative"),
        ([(CARC, "204")], "benefit-exclusion"),
        ([(CARC, "29")], "timely-filing"),
        ([(X12_901, "82")], "medical-necessity"),
        ([(X12_901, "72")], "administrative"),
        ([(CARC, "50"), (CARC, "29")], "timely-filing"),
    ],
)
def test_category_from_reason_codes(reasons: list, category: str) -> None:
    denial, _ = _denial(reasons=reasons, note="Your request is denied.")
    triage = categorise(denial)
    assert (triage.category, triage.signal) == (category, "reason-code")
    assert reasons[-1][1] in triage.basis


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("No documentation of 6 weeks of conservative treatment.", "medical-necessity"),
        ("Invalid NPI for the ordering provider on the request.", "administrative"),
        ("Not medically necessary. Reviewed by Dr. Smith, NPI 1234567890.", "medical-necessity"),
        ("Cosmetic procedures are not a covered benefit under the member's plan.", "benefit-exclusion"),
        ("The request was received after the filing limit for retrospective authorization.", "timely-filing"),
        ("Thank you.", "unknown"),
    ],
)
def test_category_from_text_alone(text: str, category: str) -> None:
    denial, _ = _denial(note=text)
    triage = categorise(denial)
    assert triage.category == category
    assert triage.signal == ("none" if category == "unknown" else "reason-text")


def test_exclusion_words_with_clinical_criteria_read_as_a_criteria_denial() -> None:
    denial, _ = _denial(
        note="Not covered for weight management. Covered for type 2 diabetes with documentation of a metformin trial."
    )
    triage = categorise(denial)
    assert triage.category == "medical-necessity"
    assert "also reads as an exclusion" in triage.basis


@pytest.mark.parametrize(
    ("note", "reasons", "recommendation"),
    [
        ("No documentation of 6 weeks of conservative treatment.", None, "peer-to-peer"),
        ("Invalid member ID on the request.", None, "corrected-resubmission"),
        ("Not a covered benefit under the plan.", None, "written-appeal"),
        ("Denied.", [(CARC, "29")], "written-appeal"),
    ],
)
def test_recommendation_follows_the_category(note: str, reasons: list | None, recommendation: str) -> None:
    denial, chart = _denial(note=note, reasons=reasons)
    result = assess(denial, chart.patient, Clock(ZONE, NOW), None)
    assert result["recommendation"] == recommendation
    assert result["recommendationReason"]


def test_certified_needs_nothing_and_a_closed_window_sends_to_appeal() -> None:
    denial, chart = _denial(code="A1")
    assert assess(denial, chart.patient, Clock(ZONE, NOW), None)["recommendation"] == "none"
    late, chart = _denial(note="No documentation of conservative treatment.", created="2026-09-01T10:00:00-05:00")
    result = assess(late, chart.patient, Clock(ZONE, NOW), None)
    assert result["recommendation"] == "written-appeal"
    assert result["p2pWindow"]["closed"] and "written appeal is next" in result["recommendationReason"]


@pytest.mark.parametrize(
    ("text", "generic"),
    [
        ("Not medically necessary.", True),
        ("Denied.", True),
        ("", True),
        ("No documentation of 6 weeks of conservative treatment.", False),
        ("Step therapy requires a trial of methotrexate.", False),
    ],
)
def test_generic_reason(text: str, generic: bool) -> None:
    denial, _ = _denial(note=text or None)
    assert is_generic_reason(denial) is generic


def test_specific_reason_flag_under_cms_0057_f() -> None:
    response = claim_response(note="Not medically necessary.")
    chart = chart_of(claim(), response, organization("payer", "Acme Health"), coverage("Organization/payer", "111"))
    denial = read_denial(response, chart.resolve)
    result = assess(denial, chart.patient, Clock(ZONE, NOW), None)
    assert result["planType"] == "medicare-advantage"
    assert result["specificReason"]["flagged"] is True
    assert "which specific criterion" in result["specificReason"]["text"]
    drug = claim(code="0169-4181-13", system="http://hl7.org/fhir/sid/ndc")
    chart = chart_of(drug, response, organization("payer", "Acme Health"), coverage("Organization/payer", "111"))
    result = assess(read_denial(response, chart.resolve), chart.patient, Clock(ZONE, NOW), None)
    assert result["specificReason"]["required"] is False  # drugs are outside the rule
    chart = chart_of(claim(), response, organization("payer", "Acme Health"), coverage("Organization/payer", "512"))
    assert assess(read_denial(response, chart.resolve), chart.patient, Clock(ZONE, NOW), None)["specificReason"] is None
