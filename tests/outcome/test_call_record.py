"""The call form's checks and the note text filed in the chart: the record an appeal relies on."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from smart_app.outcome.call_note import NoteContext, call_note_text, parse_call_form, record_from_form

GOOD = {
    "call_date": "2026-11-23", "start_time": "10:05", "end_time": "10:19", "reviewer_name": "Dr. Dana Whitfield",
    "reviewer_credentials": "MD", "reviewer_specialty": "Radiology", "disposition": "upheld",
    "authorization_number": "", "notes": "Reviewer wants PT notes.",
}  # fmt: skip
CONTEXT = NoteContext(
    service="CPT 72148 MRI",
    payer="UnitedHealthcare",
    claim_response_ref="ClaimResponse/1",
    reference_number="A26",
    ordering_specialty="Family Medicine",
    criteria={"lbp-conservative-6wk": "At least 6 weeks of conservative therapy", "lbp-red-flag": "A red flag"},
)


def _form(**changes: str | list[str]) -> MultiDict:
    form = MultiDict(GOOD)
    for key, value in changes.items():
        if isinstance(value, list):
            form.setlist(key, value)
        else:
            form[key] = value
    return form


def test_note_text_has_every_fact() -> None:
    record, errors = parse_call_form(GOOD)
    assert errors == {} and record is not None
    text = call_note_text(record, CONTEXT)
    assert "Date: 2026-11-23, 10:05-10:19 (14 min)" in text
    assert "Reviewer: Dr. Dana Whitfield, MD" in text
    assert "Reviewer specialty: Radiology" in text
    assert "Ordering physician's specialty: Family Medicine" in text
    assert "Specialty match: Not established" in text
    assert "Same-specialty reviewer: Not requested" in text
    assert "Disposition: Upheld: denial stands" in text
    assert "Payer reference: A26 (ClaimResponse/1)" in text
    assert text.rstrip().endswith("Reviewer wants PT notes.")


def test_the_full_record_reads_back_in_the_note() -> None:
    form = _form(
        specialty_match="different",
        same_specialty_request="refused",
        criteria_discussed=["lbp-conservative-6wk", "lbp-red-flag"],
        reviewer_reasoning="Six weeks of PT were not documented within 3 months.",
        reviewer_claims="- No PT notes were submitted\nNSAIDs were tried for only 2 weeks\n\n",
        would_change="PT discharge summary showing failure.",
        objections=["non-specialty-reviewer", "refused-new-evidence"],
        objection_notes="Reviewer would not look at the PT notes faxed on 11-21.",
        urgent="on",
    )
    record, errors = parse_call_form(form, {"lbp-conservative-6wk", "lbp-red-flag"})
    assert errors == {} and record is not None
    assert record.reviewer_same_specialty is False
    assert record.reviewer_claims == ("No PT notes were submitted", "NSAIDs were tried for only 2 weeks")
    text = call_note_text(record, CONTEXT)
    assert "Specialty match: A different specialty" in text
    assert "Same-specialty reviewer: Requested and refused" in text
    discussed = "Criteria discussed:\n- At least 6 weeks of conservative therapy [lbp-conservative-6wk]\n- A red flag"
    assert discussed in text
    assert "Reviewer's stated reasoning:\nSix weeks of PT were not documented within 3 months." in text
    claims = "Factual claims the reviewer made:\n- No PT notes were submitted\n- NSAIDs were tried for only 2 weeks"
    assert claims in text
    assert '"what additional information would change this decision?":\nPT discharge summary showing failure.' in text
    assert "- The reviewer was not of the ordering physician's specialty" in text
    assert "- The reviewer refused to consider new evidence" in text
    assert "- Reviewer would not look at the PT notes faxed on 11-21." in text
    assert "Marked urgent" in text
    # The stored form reads back to the same record (a correction starts from it).
    assert record_from_form(record.as_form()) == record


def test_a_refused_same_specialty_request_is_an_objection_even_unticked() -> None:
    record, _ = parse_call_form(_form(same_specialty_request="refused"))
    assert record is not None
    assert "- A reviewer of the same specialty was requested and refused" in call_note_text(record, CONTEXT)


def test_nothing_recorded_says_so() -> None:
    record, _ = parse_call_form(GOOD)
    assert record is not None
    text = call_note_text(record, CONTEXT)
    assert "Criteria discussed:\n(none recorded)" in text
    assert "Procedural objections:\n(none recorded)" in text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"call_date": "23/11/2026"}, "call_date", "YYYY-MM-DD"),
        ({"end_time": "09:00"}, "end_time", "cannot end before it started"),
        ({"reviewer_name": " "}, "reviewer_name", "reviewer's name"),
        ({"disposition": "won"}, "disposition", "Choose how the call ended"),
        ({"disposition": "overturned"}, "authorization_number", "or tick 'none given'"),
        (
            {"disposition": "overturned", "authorization_number": "A1", "authorization_none_given": "on"},
            "authorization_number",
            "not both",
        ),
        ({"disposition": "pending-documentation"}, "documents_requested", "asked to be sent"),
        (
            {"disposition": "pending-documentation", "documents_requested": "PT notes", "documents_due": "2026-11-01"},
            "documents_due",
            "before the call",
        ),
        ({"specialty_match": "maybe"}, "specialty_match", "matches"),
        ({"objections": ["rude"]}, "objections", "from the list"),
        ({"criteria_discussed": ["not-a-criterion"]}, "criteria_discussed", "this denial's brief"),
        ({"notes": "x" * 10_001}, "notes", "under 10,000 characters"),
    ],
)
def test_form_errors_name_the_field(changes: dict, field: str, message: str) -> None:
    record, errors = parse_call_form(_form(**changes), {"lbp-red-flag"})
    assert record is None
    assert message in errors[field]


def test_overturned_needs_a_number_or_an_explicit_none_given() -> None:
    record, errors = parse_call_form(_form(disposition="overturned", authorization_none_given="on"))
    assert errors == {} and record is not None
    assert "Authorization number: none given by the reviewer" in call_note_text(record, CONTEXT)
    record, _ = parse_call_form(_form(disposition="overturned", authorization_number="AUTH-778812"))
    assert record is not None
    assert "Authorization number: AUTH-778812" in call_note_text(record, CONTEXT)


def test_pending_documentation_says_what_and_by_when() -> None:
    record, _ = parse_call_form(
        _form(
            disposition="pending-documentation", documents_requested="PT discharge summary", documents_due="2026-11-25"
        )
    )
    assert record is not None
    text = call_note_text(record, CONTEXT)
    assert "Documents requested: PT discharge summary\nDocuments due: 2026-11-25" in text


def test_a_correction_says_what_it_replaces_and_why() -> None:
    record, _ = parse_call_form(GOOD)
    assert record is not None
    context = NoteContext(
        service="CPT 72148 MRI",
        payer="UnitedHealthcare",
        claim_response_ref="ClaimResponse/1",
        reference_number="A26",
        corrects="the note of 2026-11-23 15:30 UTC (DocumentReference/9)",
        correction_reason="Wrong end time.",
    )
    text = call_note_text(record, context)
    assert text.startswith(
        "PEER-TO-PEER REVIEW CALL\nCORRECTION: this note replaces the note of 2026-11-23 15:30 UTC "
        "(DocumentReference/9).\nReason for the correction: Wrong end time.\n"
    )
