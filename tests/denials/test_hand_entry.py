"""Checking the hand-entry form and turning an entry into a denial."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from smart_app.denials.hand_entry import denial_from_hand_entry, parse_hand_entry

ZONE = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)
GOOD = {
    "payer": "Cigna",
    "plan_type": "commercial",
    "state": "ca",
    "service_system": "CPT",
    "service_code": "73721",
    "decided_date": "2026-11-20",
    "decided_time": "10:00",
    "decided_zone": "",
    "reason_text": "Not medically necessary.",
}


def test_a_good_entry_in_the_practice_zone_and_in_the_letter_zone() -> None:
    entry, errors = parse_hand_entry(GOOD, ZONE, now=NOW)
    assert errors == {} and entry is not None
    assert entry.decided_at == datetime(2026, 11, 20, 10, 0, tzinfo=ZONE)
    assert entry.state == "CA"
    eastern, _ = parse_hand_entry({**GOOD, "decided_zone": "America/New_York"}, ZONE, now=NOW)
    assert eastern.decided_at.utcoffset().total_seconds() == -5 * 3600  # 10:00 Eastern, not 10:00 Pacific


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("decided_time", "10:00+00:00", "Enter the time as HH:MM"),
        ("decided_date", "1999-12-31", "The decision year must be 2000 or later"),
        ("decided_date", "2027-06-01", "The decision date 2027-06-01 10:00 is after today (2026-11-23 09:00)"),
        ("decided_date", "2026-02-30", "That is not a real date"),
        ("decided_zone", "Mars/Olympus", "Choose the time zone"),
        ("service_code", "7214", "Enter the CPT code"),
        ("state", "Texas", "two-letter state code"),
        ("payer", "", "Name the payer"),
        ("plan_type", "platinum", "Choose a plan type"),
        ("reason_text", "x" * 8001, "under 8000 characters"),
    ],
)
def test_each_bad_field_gets_its_own_message(field: str, value: str, message: str) -> None:
    entry, errors = parse_hand_entry({**GOOD, field: value}, ZONE, now=NOW)
    assert entry is None
    assert message in errors[field]


def test_an_entry_becomes_a_denial_marked_entered_by_hand() -> None:
    entry, _ = parse_hand_entry({**GOOD, "reference_number": "R-1", "ordering_physician": "Dr. A"}, ZONE, now=NOW)
    denial = denial_from_hand_entry(7, entry.as_fields(), "p1")  # type: ignore[union-attr]
    assert denial.claim_response_id == "hand-7" and denial.claim_response_ref is None
    assert denial.entered_by_hand and denial.decision == "denied"
    assert denial.items[0].service.code == "73721" and denial.items[0].reason_text == ["Not medically necessary."]
    assert denial.reference_number == "R-1" and denial.ordering_provider.name == "Dr. A"
    assert (denial.plan_type_hint, denial.state_hint) == ("commercial", "CA")
    assert any("Entered by hand" in w for w in denial.warnings)


def test_a_decision_later_today_than_now_is_refused_and_one_earlier_taken() -> None:
    later, errors = parse_hand_entry({**GOOD, "decided_date": "2026-11-23", "decided_time": "09:30"}, ZONE, now=NOW)
    assert later is None and "after today" in errors["decided_date"]
    earlier, errors = parse_hand_entry({**GOOD, "decided_date": "2026-11-23", "decided_time": "08:30"}, ZONE, now=NOW)
    assert errors == {} and earlier is not None


MINE = ["Organization/prairie", "Organization/front-range"]


@pytest.mark.parametrize(
    ("practices", "chosen", "stored", "message"),
    [
        (MINE, "Organization/front-range", "Organization/front-range", None),
        (MINE, "", None, "Choose the practice this denial belongs to"),
        (MINE, "Organization/elsewhere", None, "That practice is not one of yours"),
        (["Organization/prairie"], "", "Organization/prairie", None),  # the user's only practice
        (["Organization/prairie"], "Organization/elsewhere", None, "That practice is not one of yours"),
        ([], "", None, None),  # linked to no practice: the form says so, the entry names none
        (None, "", None, None),  # the EHR cannot tell: the form says so, the entry names none
        (None, "Organization/prairie", None, "could not be read from the EHR"),  # a choice nobody can check
    ],
)
def test_the_entry_names_one_of_the_users_practices(
    practices: list[str] | None, chosen: str, stored: str | None, message: str | None
) -> None:
    entry, errors = parse_hand_entry({**GOOD, "practice": chosen}, ZONE, now=NOW, practices=practices)
    if message:
        assert entry is None and message in errors["practice"]
    else:
        assert errors == {} and entry is not None and entry.practice == stored


def test_the_chosen_practice_is_the_denials_requesting_practice() -> None:
    entry, _ = parse_hand_entry({**GOOD, "practice": MINE[1]}, ZONE, now=NOW, practices=MINE)
    denial = denial_from_hand_entry(8, entry.as_fields(), "p1")  # type: ignore[union-attr]
    assert denial.ordering_provider is not None and denial.ordering_provider.organization == MINE[1]
    assert denial.ordering_provider.name is None  # no physician typed: none invented
