"""The liaison's review of a letter read: the form comes back prefilled with what was read, and submitted as it
came it confirms exactly what was read (same values, same source lines, nothing listed as corrected); a correction
is listed and keeps its line; what is typed where nothing was found has no line on the letter; codes and dates are
checked like a hand entry's; the stored JSON gives back the same fields; another patient's letter is told apart."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from smart_app.letters.model import Box, Found, LetterFields, Service, Source, Window
from smart_app.letters.review import TYPED, form_values, parse_review, patient_differs
from smart_app.letters.stored import fields_from_json, fields_json

PRACTICE = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=PRACTICE)
CENTRAL = timezone(timedelta(hours=-6))


def _at(text: str, row: int = 0) -> Source:
    return Source(1, text, Box(0.1, 0.1 + row / 50, 0.9, 0.12 + row / 50))


READ = LetterFields(
    payer=Found("UnitedHealthcare", _at("UnitedHealthcare")),
    member_id=Found("984213657", _at("Member ID: 984213657", 1)),
    patient_name=Found("Raymond T. Quillfeather", _at("Patient: Raymond T. Quillfeather", 2)),
    birth_date=Found(date(1974, 3, 14), _at("Date of birth: 03/14/1974", 3)),
    decided_at=Found(datetime(2026, 11, 20, 15, 42, tzinfo=CENTRAL), _at("Decision: 11/20/2026 3:42 PM CT", 4)),
    services=(Found(Service("http://www.ama-assn.org/go/cpt", "72148", 1), _at("CPT 72148 x1", 5)),),
    reason_text=Found("Not medically necessary.", _at("Not medically necessary.", 6)),
    p2p_window=Found(Window(2, "business-days", "within 2 business days"), _at("within 2 business days", 7)),
    decision=Found("denied", _at("is not approved", 8)),
)
PATIENT = {"resourceType": "Patient", "name": [{"family": "Quillfeather", "given": ["Raymond", "T."]}],
           "birthDate": "1974-03-14"}  # fmt: skip


def test_the_form_submitted_as_read_confirms_what_was_read() -> None:
    review, errors = parse_review(form_values(READ), READ, PRACTICE, now=NOW)
    assert errors == {} and review is not None
    assert review.corrected == ()
    assert review.fields.decided_at == READ.decided_at  # the letter's 15:42 Central, not 15:42 in the practice's zone
    assert review.fields == READ


def test_a_correction_is_listed_and_keeps_its_line_and_a_typed_value_has_none() -> None:
    form = form_values(READ) | {"member_id": "984213651", "reviewer_name": "Dr. Marcus Whitfield"}
    review, errors = parse_review(form, READ, PRACTICE, now=NOW)
    assert errors == {} and review is not None
    assert review.corrected == ("member_id", "reviewer_name")
    assert review.fields.member_id == Found("984213651", READ.member_id.source)  # type: ignore[union-attr]
    assert review.fields.reviewer_name == Found("Dr. Marcus Whitfield", TYPED)


def test_codes_and_dates_are_checked_like_a_hand_entry() -> None:
    form = form_values(READ) | {"service_code_0": "7214", "decided_date": "2026-11-30", "reason_text": "",
                                "p2p_window_amount": "two"}  # fmt: skip
    review, errors = parse_review(form, READ, PRACTICE, now=NOW)
    assert review is None
    assert errors["service_code_0"].startswith("Enter the CPT code from the letter")
    assert errors["decided_date"].startswith("The decision date 2026-11-30 15:42 is after today")
    assert errors["reason_text"] == "Copy the reason exactly as the letter words it."
    assert "p2p_window_amount" in errors


def test_a_review_that_drops_the_patient_cannot_be_checked() -> None:
    review, errors = parse_review(form_values(READ) | {"patient_name": "", "birth_date": ""}, READ, PRACTICE, now=NOW)
    assert review is None and "checked against the chart" in errors["patient_name"]


def test_the_stored_fields_give_back_the_same_fields() -> None:
    with_date_only = replace(READ, decided_at=Found(date(2026, 11, 20), _at("11/20/2026")), notes=("page 2 blank",))
    for fields in (READ, with_date_only):
        assert fields_from_json(fields_json(fields)) == fields


def test_another_patients_letter_is_told_apart() -> None:
    assert patient_differs(READ, PATIENT) is None
    assert patient_differs(replace(READ, patient_name=Found("QUILLFEATHER, RAYMOND", _at("x"))), PATIENT) is None
    other = replace(READ, patient_name=Found("Harold J. Brightwater", _at("x")),
                    birth_date=Found(date(1958, 4, 3), _at("y")))  # fmt: skip
    assert patient_differs(other, PATIENT) == {
        "letterName": "Harold J. Brightwater",
        "letterBirthDate": "1958-04-03",
        "chartName": "Raymond T. Quillfeather",
        "chartBirthDate": "1974-03-14",
        "differs": "name and birth date differ",
    }
    later = patient_differs(replace(READ, birth_date=Found(date(1974, 3, 15), _at("y"))), PATIENT)
    assert later is not None and later["differs"] == "birth date differs"
