"""The call form's checks and the note text filed in the chart."""

from __future__ import annotations

import pytest

from smart_app.outcome.call_note import call_note_text, parse_call_form

GOOD = {
    "call_date": "2026-11-23", "start_time": "10:05", "end_time": "10:19", "reviewer_name": "Dr. Dana Whitfield",
    "reviewer_credentials": "MD", "reviewer_specialty": "Radiology", "disposition": "upheld",
    "authorization_number": "", "notes": "Reviewer wants PT notes.",
}  # fmt: skip


def test_note_text_has_every_fact() -> None:
    record, errors = parse_call_form(GOOD)
    assert errors == {} and record is not None
    text = call_note_text(
        record,
        service="CPT 72148 MRI",
        payer="UnitedHealthcare",
        claim_response_ref="ClaimResponse/1",
        reference_number="A26",
    )
    assert "Date: 2026-11-23, 10:05-10:19 (14 min)" in text
    assert "Reviewer: Dr. Dana Whitfield, MD" in text
    assert "Reviewer specialty: Radiology" in text
    assert "Disposition: Upheld: denial stands" in text
    assert "Payer reference: A26 (ClaimResponse/1)" in text
    assert text.rstrip().endswith("Reviewer wants PT notes.")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"call_date": "23/11/2026"}, "call_date", "YYYY-MM-DD"),
        ({"end_time": "09:00"}, "end_time", "cannot end before it started"),
        ({"reviewer_name": " "}, "reviewer_name", "reviewer's name"),
        ({"disposition": "won"}, "disposition", "Choose how the call ended"),
        ({"disposition": "overturned"}, "authorization_number", "authorization number"),
        ({"notes": "x" * 10_001}, "notes", "under 10,000 characters"),
    ],
)
def test_form_errors_name_the_field(changes: dict, field: str, message: str) -> None:
    record, errors = parse_call_form({**GOOD, **changes})
    assert record is None
    assert message in errors[field]


def test_overturned_with_none_given_is_accepted() -> None:
    record, errors = parse_call_form({**GOOD, "disposition": "overturned", "authorization_number": "none given"})
    assert errors == {} and record is not None
