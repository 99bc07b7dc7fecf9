"""The drafted requests, confirmations, demands and patient summaries, read as the person who sends them would."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from smart_app.cli import brief_clock, brief_from_bundle
from smart_app.content import content_dir
from smart_app.outcome.call_note import DISPOSITIONS, NONE_GIVEN, CallRecord
from smart_app.outcome.drafts import (
    confirmation,
    p2p_request,
    patient_summary,
    proposed_blocks,
    written_demand,
)
from smart_app.outcome.next_steps import next_steps
from smart_app.outcome.scheduling import SchedulingEvent
from smart_app.rule_files import rule_file

CHICAGO = ZoneInfo("America/Chicago")
DAILY = [(time(17, 0), time(17, 30)), (time(12, 15), time(12, 45))]  # out of order on purpose
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=CHICAGO)  # Wednesday before Thanksgiving (Thursday 2026-11-26)
BLANK_PHONE = "[direct callback number — fill in before sending]"
IL_CITATION = "215 ILCS 200/35 (Illinois Prior Authorization Reform Act)"


@cache
def _brief(bundle: str) -> dict[str, Any]:
    return brief_from_bundle(content_dir("fhir") / "demo" / bundle, clock=brief_clock("2026-11-23", "America/Chicago"))


def _case(bundle: str) -> tuple[dict[str, Any], dict[str, Any]]:
    brief = copy.deepcopy(_brief(bundle))
    return brief["denials"][0], brief["patient"]


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CHICAGO)


def _request(bundle: str = "lumbar-mri.json", **changes: Any) -> str:
    denial, patient = _case(bundle)
    options = {"blocks": proposed_blocks(NOW, DAILY), "callback_phone": None, "practice": None, "today": NOW.date()}
    return p2p_request(denial, patient, **{**options, **changes}).text


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (NOW, [_at(25, 12, 15), _at(25, 17), _at(27, 12, 15)]),  # Thanksgiving skipped
        (_at(25, 12, 20), [_at(25, 17), _at(27, 12, 15), _at(27, 17)]),  # the begun 12:15 block is skipped
        (_at(25, 18), [_at(27, 12, 15), _at(27, 17), _at(30, 12, 15)]),  # nothing left today: Friday and Monday
        (_at(28, 9), [_at(30, 12, 15), _at(30, 17), datetime(2026, 12, 1, 12, 15, tzinfo=CHICAGO)]),  # a Saturday
    ],
)
def test_proposed_blocks_skip_weekends_holidays_and_begun_blocks(now: datetime, expected: list[datetime]) -> None:
    blocks = proposed_blocks(now, DAILY)
    assert [start for start, _ in blocks] == expected
    assert all(end - start == timedelta(minutes=30) for start, end in blocks)


def test_proposed_blocks_need_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        proposed_blocks(datetime(2026, 11, 25, 10, 0), DAILY)


def test_request_names_the_case_the_codes_the_times_and_the_rule() -> None:
    denial, _ = _case("lumbar-mri.json")
    text = _request(practice="Prairie Family Medicine")
    assert text.startswith("REQUEST FOR PEER-TO-PEER REVIEW\nTo: UnitedHealthcare\n")
    assert "From: Prairie Family Medicine, for Dr. Priya Nandakumar" in text
    for line in (
        "Patient: Raymond T. Quillfeather",
        "Date of birth: March 14, 1974",
        "Member ID: 984213657",
        "Payer reference: A265903318",
        "Date of the decision: November 20, 2026",
        "Service: CPT 72148 MRI lumbar spine without contrast",
        "Diagnoses: ICD-10-CM M54.16 Radiculopathy, lumbar region; ICD-10-CM M54.50 Low back pain, unspecified",
        "NPI: 3214567893",
        "Specialty: Family Medicine",
        f"Direct callback number: {BLANK_PHONE}",
        "1. Wednesday, November 25, 2026, 12:15–12:45 PM CST",
        "2. Wednesday, November 25, 2026, 5:00–5:30 PM CST",
        "3. Friday, November 27, 2026, 12:15–12:45 PM CST",
    ):
        assert line in text.splitlines()
    assert "within the peer-to-peer request window, which closes Friday, December 11, 2026, 11:59 PM CST" in text
    assert f"{IL_CITATION}, which provides: “{denial['reviewerRights']['text']}”" in text
    assert "[Check before sending: Applies only if the plan is state-regulated" in text  # the rule's own caveat
    assert "+1-217-555-0100" not in text  # the chart's number is not the physician's direct line


def test_request_without_a_rule_asks_and_claims_no_right() -> None:
    text = _request("ra-tnf.json", callback_phone="717-555-0199")
    assert "To: Aetna" in text and "Direct callback number: 717-555-0199" in text and BLANK_PHONE not in text
    assert "Service: NDC 0074-0554-02 Humira (adalimumab) 40 mg/0.4 mL pen, 2 pens" in text
    assert (
        "a physician of the same specialty as the ordering physician (Rheumatology). This is our request; "
        "we do not claim that a rule requires it." in text
    )
    assert not any(word in text for word in ("ILCS", "CFR", "§", "required by"))
    assert "[Check before sending: this window is practice-reported" in text


def test_request_cites_a_same_specialty_rule_as_a_requirement() -> None:
    denial, patient = _case("lumbar-mri.json")
    rule = next(r for r in rule_file("reviewer-rights")["rules"] if r["sameSpecialty"])
    denial["reviewerRights"] = {**denial["reviewerRights"], **rule, "caveat": None}
    text = p2p_request(denial, patient, blocks=[], callback_phone=None, practice=None, today=NOW.date()).text
    assert f"as required by {rule['citation']}, which provides: “{rule['text'].strip()}”" in text
    assert "[proposed times — fill in before sending]" in text


def test_request_says_when_the_case_is_pended_or_the_window_has_closed() -> None:
    pended = _request("knee-tka.json")
    assert "review of the prior-authorization request below, which the payer has pended" in pended
    assert "Date of the payer's answer: November 18, 2026" in pended
    assert "[Check before sending: Since 2018-08-01 Humana Medicare Advantage offers the P2P only before" in pended
    late = _request(today=date(2026, 12, 14))
    assert "[Check before sending: the request window closed Friday, December 11, 2026, 11:59 PM CST" in late
    assert "made within the peer-to-peer request window" not in late


def test_request_goes_to_the_delegate_that_reviews() -> None:
    denial, patient = _case("glp1-t2dm.json")
    denial["payer"]["delegate"] = "eviCore healthcare"
    text = p2p_request(denial, patient, blocks=[], callback_phone=None, practice=None, today=NOW.date()).text
    assert "To: eviCore healthcare, reviewing for Cigna Healthcare" in text


def test_confirmation_states_slot_reviewer_reference_and_request() -> None:
    denial, patient = _case("lumbar-mri.json")
    event = SchedulingEvent("scheduled", _at(25, 9, 30), "phone", reference="P2P-5521", slot=_at(27, 12, 15))
    draft = confirmation(denial, patient, event=event, callback_phone="217-555-0199", practice=None, today=NOW.date())
    assert (draft.kind, draft.title) == ("confirmation", "Confirmation of scheduled peer-to-peer review")
    text = draft.text
    assert text.startswith("CONFIRMATION OF SCHEDULED PEER-TO-PEER REVIEW\n")
    assert "Scheduled call: Friday, November 27, 2026, 12:15 PM CST" in text
    assert "Reviewer: not named" in text and "Your reference for this call: P2P-5521" in text
    assert "Direct callback number: 217-555-0199" in text and IL_CITATION in text
    named = confirmation(
        denial,
        patient,
        event=SchedulingEvent("scheduled", _at(25, 9, 30), "portal", slot=_at(27, 12, 15), reviewer="Dr. A. Lee"),
        callback_phone=None,
        practice=None,
        today=NOW.date(),
    ).text
    assert "Reviewer: Dr. A. Lee" in named and "by payer portal" in named and BLANK_PHONE in named
    with pytest.raises(ValueError, match="scheduled"):
        confirmation(
            denial, patient, event=SchedulingEvent("requested", NOW, "fax"), callback_phone=None, practice=None,
            today=NOW.date(),
        )  # fmt: skip


FAILURES = [
    SchedulingEvent("attempt-failed", _at(24, 9, 10), "phone", who_answered="Provider services (Kim)",
                    said="No medical director available this week; call back."),
    SchedulingEvent("attempt-failed", _at(25, 14, 0), "fax", reference="FX-88", said="No reply to the faxed request."),
]  # fmt: skip


def test_written_demand_needs_two_failed_attempts() -> None:
    denial, patient = _case("lumbar-mri.json")
    one = [FAILURES[0], SchedulingEvent("requested", _at(23, 9, 0), "fax")]
    with pytest.raises(ValueError, match="at least 2 failed attempts.*1 given"):
        written_demand(denial, patient, attempts=one, callback_phone=None, practice=None, today=NOW.date())


def test_written_demand_lists_attempts_and_cites_only_what_is_on_file() -> None:
    denial, patient = _case("lumbar-mri.json")
    text = written_demand(
        denial, patient, attempts=FAILURES[::-1], callback_phone=None, practice="Prairie Family Medicine",
        today=NOW.date(),
    ).text  # fmt: skip
    assert text.startswith("WRITTEN DEMAND FOR A PEER-TO-PEER REVIEW\n")
    assert (
        "1. Tuesday, November 24, 2026, 9:10 AM CST, Phone. Answered by: Provider services (Kim). "
        "What was said: “No medical director available this week; call back.”" in text
    )
    assert (
        "2. Wednesday, November 25, 2026, 2:00 PM CST, Fax. Answered by: not recorded. "
        "What was said: “No reply to the faxed request.”. Reference: FX-88" in text
    )
    window = denial["p2pWindow"]
    assert f"Request window: {window['basis']}. Deadline: Friday, December 11, 2026, 11:59 PM CST." in text
    assert f"Source: {window['source']}" in text and f"Scheduling: {window['schedule']['text']}" in text
    assert f"{IL_CITATION}, which provides: “{denial['reviewerRights']['text']}”" in text
    assert "before the request window closes Friday, December 11, 2026, 11:59 PM CST" in text
    assert "no peer-to-peer review was made available despite the attempts listed above" in text
    assert BLANK_PHONE in text


def test_written_demand_flags_a_practice_reported_window() -> None:
    denial, patient = _case("glp1-t2dm.json")
    draft = written_demand(denial, patient, attempts=FAILURES, callback_phone=None, practice=None, today=NOW.date())
    assert draft.kind == "written-demand"
    text = draft.text
    assert "[Check before sending: this window is practice-reported" in text
    assert "[Check before sending: this is not from a published payer source" in text  # "the number on the letter"
    assert "a physician of the same specialty as the ordering physician (Internal Medicine)" in text


def test_written_demand_cites_the_letters_window_as_the_letter() -> None:
    letter = content_dir("fhir").parent / "tests" / "data" / "letters" / "uhc-lumbar-mri.pdf"
    if not letter.exists():  # an installed wheel has no tests folder
        pytest.skip("needs the repository's shipped letters")
    brief = brief_from_bundle(
        content_dir("fhir") / "demo" / "lumbar-mri.json",
        clock=brief_clock("2026-11-23", "America/Chicago"),
        letter=letter,
    )
    denial, patient = brief["denials"][0], brief["patient"]
    text = written_demand(denial, patient, attempts=FAILURES, callback_phone=None, practice=None, today=NOW.date()).text
    assert "Request window: the letter says “within 2 business days”: 2 business days from the decision" in text
    assert "Source: the payer's letter, page 1: “within 2 business days”" in text
    assert "this window is stated in the payer's letter" not in text  # the payer's own words need no check flag


@dataclass(frozen=True)
class Step:
    action: str
    due: datetime | None
    basis: str = ""
    source: str | None = None
    kind: str = "task"


STEPS = [
    Step("Get the authorization confirmed in writing", _at(30, 17, 0), kind="confirm-authorization"),
    Step("Check that the claim pays", None, kind="check-claim"),
    Step("A step the patient has no words for yet", None, kind="something-new"),
]


def _record(disposition: str, **changes: Any) -> CallRecord:
    return CallRecord(
        call_date=date(2026, 11, 27), start_time=time(12, 15), end_time=time(12, 31), disposition=disposition,
        reviewer_name="Dr. Dana Whitfield", reviewer_credentials="MD", reviewer_specialty="Radiology",
        objection_notes="Reviewer refused to read the PT notes.", **changes,
    )  # fmt: skip


def test_patient_summary_is_plain_and_keeps_the_reviewer_out() -> None:
    denial, patient = _case("lumbar-mri.json")
    record = _record("overturned", authorization_number="UHC-AUTH-7731")
    text = patient_summary(denial, patient, record=record, steps=STEPS, practice="Prairie Family Medicine").text
    assert "Dr. Priya Nandakumar asked UnitedHealthcare to approve MRI lumbar spine without contrast." in text
    assert "This call is called a peer-to-peer review." in text
    assert "On November 27, 2026, Dr. Priya Nandakumar talked with a doctor at UnitedHealthcare." in text
    assert "Your approval number is UHC-AUTH-7731." in text
    assert "- Monday, November 30, 2026: We will get the approval in writing from the insurance company." in text
    assert "- We will check that the insurance company pays for the care." in text
    assert "A step the patient has no words for" not in text  # never the practice's words
    assert "Please call Prairie Family Medicine" in text
    for hidden in ("Whitfield", "Radiology", "refused", "72148", "M54", "ICD", "CPT", "P2P", "NPI"):
        assert hidden not in text


@pytest.mark.parametrize("disposition", sorted(DISPOSITIONS))
def test_patient_summary_says_every_outcome_in_plain_words(disposition: str) -> None:
    denial, patient = _case("ra-tnf.json")
    changes = {"authorization_number": NONE_GIVEN} if disposition == "overturned" else {}
    text = patient_summary(denial, patient, record=_record(disposition, **changes), steps=[], practice=None).text
    assert "Humira (adalimumab)" in text and "Aetna" in text and "your doctor's office" in text
    assert "We will call you when there is news." in text
    assert "{" not in text and "Whitfield" not in text
    if disposition == "overturned":
        assert "We will send it to you when we get it." in text and NONE_GIVEN not in text


def test_patient_summary_of_a_pended_request_does_not_say_no() -> None:
    denial, patient = _case("knee-tka.json")
    text = patient_summary(denial, patient, record=_record("upheld"), steps=STEPS[:1], practice=None).text
    assert "On November 18, 2026, Humana had not decided yet." in text and "Humana said no" not in text
    assert "- Monday, November 30, 2026: We will get the approval in writing" in text


def test_patient_summary_puts_the_real_next_steps_in_the_patients_words() -> None:
    """The steps come from next_steps (practice words): the patient reads plain words, never the appeal tactics."""
    denial, patient = _case("lumbar-mri.json")
    record = _record("upheld", specialty_match="different")
    steps = next_steps(
        disposition="upheld",
        call_end=datetime(2026, 11, 27, 12, 31, tzinfo=ZoneInfo("America/Chicago")),
        denial_notice=datetime(2026, 11, 20, tzinfo=ZoneInfo("America/Chicago")),
        plan_type="commercial",
        urgent=False,
        reviewer_same_specialty=False,
    )
    assert "procedural-defect" in {s.kind for s in steps}
    text = patient_summary(denial, patient, record=record, steps=steps, practice=None).text
    assert "- Monday, November 30, 2026: We will ask the insurance company to explain its decision in writing." in text
    assert "- Wednesday, May 19, 2027: The last day to ask the insurance company to look at its decision again" in text
    assert "- If the appeal is also turned down, you can ask for a review by experts" in text
    for hidden in ("specialty", "rationale", "payer", "IRO", "CFR"):
        assert hidden not in text
