"""The field finder on letters written line by line here: labels that vary by payer, OCR's noise, and fields the
letter does not state (None, never guessed)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from smart_app.fhir.systems import SYSTEMS
from smart_app.letters.fields import find_fields
from smart_app.letters.model import Box, LetterFields, LetterText, Line, Page, Service, Window

CPT, HCPCS, NDC = SYSTEMS["cpt"], SYSTEMS["hcpcs"], SYSTEMS["ndc"]


def letter(*rows: str) -> LetterText:
    """One page of lines as a reader gives them; an empty row is a blank line (a paragraph break)."""
    lines, top = [], 0.05
    for row in rows:
        if row:
            lines.append(Line(1, row, Box(0.1, top, 0.9, top + 0.012)))
        top += 0.017
    return LetterText((Page(1, tuple(lines)),))


def fields(*rows: str) -> LetterFields:
    return find_fields(letter(*rows))


def test_labelled_identity_fields_with_their_source_lines() -> None:
    found = fields(
        "UnitedHealthcare",
        "Date: November 12, 2026 4:35 PM ET",
        "Member name: Maria Lopez",
        "Member ID: W123456789",
        "Date of birth: 03/14/1961",
        "Reference #: A1B2C3D4E5",
    )
    assert found.payer and found.payer.value == "UnitedHealthcare"
    assert found.member_id and found.member_id.value == "W123456789"
    assert found.member_id.source.text == "Member ID: W123456789" and found.member_id.source.page == 1
    assert found.patient_name and found.patient_name.value == "Maria Lopez"
    assert found.birth_date and found.birth_date.value == date(1961, 3, 14)
    assert found.reference and found.reference.value == "A1B2C3D4E5"
    assert found.decided_at and found.decided_at.value == datetime(
        2026, 11, 12, 16, 35, tzinfo=ZoneInfo("America/New_York")
    )


@pytest.mark.parametrize(
    ("row", "member_id"),
    [
        ("Subscriber ID: XKQ771234501", "XKQ771234501"),
        ("Customer ID  U61847209  Group  3340917", "U61847209"),
        ("Medicaid ID (RIN): 742018365", "742018365"),
        ("Humana ID: H48213377", "H48213377"),
        ("Aetna ID!' W271844309", "W271844309"),  # OCR read the colon as "!'"
        ('"Member ID  984213657  :  :', "984213657"),  # a speck before the label, table rules after
    ],
)
def test_member_id_labels_vary_by_payer_and_survive_ocr_noise(row: str, member_id: str) -> None:
    found = fields(row)
    assert found.member_id and found.member_id.value == member_id


def test_a_label_word_inside_a_sentence_is_no_label() -> None:
    found = fields("Call Member Services at 1-800-555-0100 with the member ID card in hand.")
    assert found.patient_name is None and found.member_id is None


def test_ocr_confusions_in_dates_and_codes_are_corrected() -> None:
    found = fields(
        "Date of birth: O3/l4/1961",
        "Service requested: CPT 72l48, 1 unit",
        "Drug: NDC 0169-4181-13 quantity 1",
        "HCPCS J0l35  units: 2",
    )
    assert found.birth_date and found.birth_date.value == date(1961, 3, 14)
    assert [s.value for s in found.services] == [
        Service(CPT, "72148", 1),
        Service(NDC, "0169-4181-13", 1),
        Service(HCPCS, "J0135", 2),
    ]


def test_a_zip_code_or_a_phone_number_is_no_service() -> None:
    found = fields("UnitedHealthcare, P.O. Box 30555, Salt Lake City, UT 84130", "Call 1-800-555-0142")
    assert found.services == ()


def test_reason_is_verbatim_joined_across_lines_with_its_first_line_as_source() -> None:
    found = fields(
        "Reason for denial: The records do not show six weeks of physical therapy. This",
        "service is not medically necessary under the peer-to-",
        "peer reviewed criteria.",
        "",
        "You may appeal within 180 days.",
    )
    assert found.reason_text and found.reason_text.value == (
        "The records do not show six weeks of physical therapy. This service is not medically necessary under "
        "the peer-to-peer reviewed criteria."
    )
    assert found.reason_text.source.text.startswith("Reason for denial:")


def test_reason_under_a_heading_skips_the_lead_in() -> None:
    found = fields(
        "Why did we deny your request?",
        "We denied the services listed above because:",
        "",
        "Your X-rays already show advanced arthritis. An MRI would not change your treatment.",
    )
    assert found.reason_text and found.reason_text.value == (
        "Your X-rays already show advanced arthritis. An MRI would not change your treatment."
    )


def test_p2p_instructions_come_from_the_p2p_paragraph_only() -> None:
    found = fields(
        "Member Services: 1-800-555-0100",
        "",
        "The prescriber may ask for a peer-to-peer discussion with the physician who reviewed this",
        "request. Call 1-888-555-0117 (option 3), or fax a request to 1-860-555-0193, within 5 business",
        "days of the letter date. See https://providers.example.com/p2p.",
        "",
        "You may appeal within 180 calendar days. Fax appeals to 1-859-555-0140.",
    )
    assert found.p2p_phone and found.p2p_phone.value == "1-888-555-0117"
    assert found.p2p_fax and found.p2p_fax.value == "1-860-555-0193"
    assert found.p2p_portal and found.p2p_portal.value == "https://providers.example.com/p2p"
    assert found.p2p_window and found.p2p_window.value == Window(5, "business-days", "within 5 business days")
    assert found.p2p_window.source.text.startswith("request. Call")


def test_appeal_deadline_counts_calendar_or_business_days_from_the_letter_date() -> None:
    calendar = fields("Date: 11/19/2026", "", "You must file the appeal within 180 calendar days of this letter.")
    assert calendar.appeal_deadline and calendar.appeal_deadline.value == date(2027, 5, 18)
    # 10 business days from Wednesday 2026-11-18 skip Thanksgiving (11-26) and two weekends
    business = fields("Date: 11/18/2026", "", "An appeal must be filed within 10 business days of this notice.")
    assert business.appeal_deadline and business.appeal_deadline.value == date(2026, 12, 3)
    printed = fields("Date: 11/19/2026", "", "Your appeal must be received by May 18, 2027.")
    assert printed.appeal_deadline and printed.appeal_deadline.value == date(2027, 5, 18)


def test_reviewer_from_a_label_or_a_signature() -> None:
    labelled = fields("Reviewer: Alison M. Tarrant, MD (Endocrinology, Diabetes & Metabolism)")
    assert labelled.reviewer_name and labelled.reviewer_name.value == "Alison M. Tarrant"
    assert labelled.reviewer_credentials and labelled.reviewer_credentials.value == "MD"
    assert labelled.reviewer_specialty and labelled.reviewer_specialty.value == "Endocrinology, Diabetes & Metabolism"
    signed = fields(
        "Priya Nandakumar, MD",  # the addressee, above the salutation: not the reviewer
        "Dear Dr. Nandakumar:",
        "We cannot approve the request.",
        "Sincerely,",
        "Gregory K. Madaki, MD",
        "Medical Director (Cardiovascular Disease), eviCore healthcare",
    )
    assert signed.reviewer_name and signed.reviewer_name.value == "Gregory K. Madaki"
    assert signed.reviewer_specialty and signed.reviewer_specialty.value == "Cardiovascular Disease"
    assert signed.delegate and signed.delegate.value == "eviCore healthcare"


def test_policy_citation_title_number_and_delegate_section() -> None:
    found = fields("Guideline: eviCore Musculoskeletal Guidelines, Spine Imaging (SP-2026-1), section MSK-1.1.")
    assert found.policy_title and found.policy_title.value == "Spine Imaging"
    assert found.policy_id and found.policy_id.value == "SP-2026-1"
    assert found.policy_section and found.policy_section.value == "MSK-1.1"


@pytest.mark.parametrize(
    ("rows", "decision"),
    [
        (("Decision: Not approved",), "denied"),
        (("Status: Pended for medical review",), "pended"),
        (("95810 Attended polysomnography 1 Not approved", "95806 Home sleep apnea test 1 Approved"), "partial"),
    ],
)
def test_decision(rows: tuple[str, ...], decision: str) -> None:
    found = fields(*rows)
    assert found.decision and found.decision.value == decision


def test_what_the_letter_does_not_say_is_none() -> None:
    found = fields("Dear Dr. Nandakumar:", "", "Thank you for your request. We are reviewing it.")
    assert found == LetterFields(patient_name=None)


def test_the_fax_machines_line_is_not_the_letters() -> None:
    found = fields(
        "NOV-13-2026 09:12 FROM: UHC PA DEPT 8665550108 TO: 2175550161 P.001/002",
        "UnitedHealthcare",
        "Date: November 13, 2026",
        "NOV-13-2026 09:12 FROM: UHC PA DEPT 8665550108 TO: 2175550161 P.002/002",
        "UHC Appeals, P.O. Box 30555",
    )
    assert found.payer and found.payer.value == "UnitedHealthcare"
    assert found.decided_at and found.decided_at.value == date(2026, 11, 13)
