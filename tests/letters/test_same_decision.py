"""One decision seen on the payer's letter and as a FHIR answer is one denial: which pairs are the same decision,
the brief of the answer with its letter attached (both sources, the differences, the stricter window), and where
each brief field was read for every channel (ClaimResponse, PDex EOB, hand entry, letter)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from letter_files import LETTERS

from smart_app.brief.model import build_brief, denial_summary
from smart_app.content import content_dir
from smart_app.denials.assess import Clock
from smart_app.denials.hand_entry import denial_from_hand_entry
from smart_app.denials.pas import Denial
from smart_app.denials.pdex import all_answers
from smart_app.denials.same_decision import attach_letter, pair_letters, same_decision
from smart_app.fhir.chart import Chart, chart_from_bundle
from smart_app.fhir.systems import SYSTEMS
from smart_app.letters.denial import denial_from_letter
from smart_app.letters.model import Found, LetterFields, Service, Source, Window
from smart_app.letters.reading import read_letter

DEMO = content_dir("fhir") / "demo"
CLOCK = Clock(ZoneInfo("America/Chicago"), datetime(2026, 11, 21, 9, 0, tzinfo=ZoneInfo("America/Chicago")))
PROVENANCE_KEYS = {"decidedOn", "reason", "preAuthRef", "service", "p2pWindow", "reviewer", "payer"}


def _chart(name: str) -> Chart:
    return chart_from_bundle(json.loads((DEMO / f"{name}.json").read_text()))


def _answers(chart: Chart) -> list[Denial]:
    return all_answers(chart.of_type("ClaimResponse"), chart.of_type("ExplanationOfBenefit"), chart.resolve)[0]


def _mri(chart: Chart) -> Denial:
    return next(d for d in _answers(chart) if d.claim_response_id == "cr-lumbar-mri-1")


def _line(text: str) -> Source:
    return Source(1, text)


def _letter(*, reference: str | None, code: str = "72148", day: str = "2026-11-20", letter_id: str = "9") -> Denial:
    """A letter's denial for the lumbar patient: 14 calendar days for the P2P, as the letter words it."""
    fields = LetterFields(
        payer=Found("UnitedHealthcare", _line("UnitedHealthcare")),
        reference=Found(reference, _line(f"Reference number {reference}")) if reference else None,
        decided_at=Found(datetime.fromisoformat(f"{day}T15:42:00-06:00"), _line(f"Decision date {day}")),
        services=(Found(Service(SYSTEMS["cpt"], code, 1), _line(f"CPT {code}")),),
        reason_text=Found("Not medically necessary.", _line("Not medically necessary.")),
        p2p_window=Found(Window(14, "calendar-days", "within 14 calendar days"), _line("within 14 calendar days")),
        decision=Found("denied", _line("is not approved")),
    )
    return denial_from_letter(fields, letter_id=letter_id)


def test_a_letter_whose_reference_is_the_claimresponses_preauthref_is_that_decision_and_the_brief_shows_both() -> None:
    chart = _chart("lumbar-mri")
    letter = _letter(reference="A26-5903318")  # the letter prints it with a hyphen
    pairing = pair_letters([letter], _answers(chart))
    assert pairing.pairs == {"letter-9": "cr-lumbar-mri-1"} and pairing.warnings == []

    brief = build_brief(chart, [attach_letter(_mri(chart), letter)], clock=CLOCK)
    denial = brief["denials"][0]
    assert denial["sources"] == [
        {"channel": "pas-claimresponse", "id": "ClaimResponse/cr-lumbar-mri-1"},
        {"channel": "letter", "id": "letter-9"},
    ]
    window = next(d for d in denial["differences"] if d["field"] == "p2pWindow")
    assert [v["channel"] for v in window["values"]] == ["letter", "payer-rules"]
    assert window["values"][0]["value"] == "within 14 calendar days" and window["stricter"] == "letter"
    assert "21 calendar days" in window["values"][1]["value"]
    assert denial["p2pWindow"]["status"] == "letter"  # the stricter window is the one counted
    assert denial["p2pWindow"]["deadline"].startswith("2026-12-04")  # 14 calendar days from 2026-11-20
    assert denial["provenance"]["p2pWindow"] == "letter page 1: 'within 14 calendar days'"
    assert denial["provenance"]["decidedOn"] == "ClaimResponse.created"
    reason = next(d for d in denial["differences"] if d["field"] == "reason")
    assert reason["values"][0] == {"channel": "letter", "value": "Not medically necessary."}
    assert not [d for d in denial["differences"] if d["field"] in ("preAuthRef", "service", "decidedOn")]


def test_two_different_reference_numbers_are_two_decisions_even_for_the_same_service_and_day() -> None:
    chart = _chart("lumbar-mri")
    letter = _letter(reference="UHC-LTR-5521")
    assert not same_decision(letter, _mri(chart))
    assert pair_letters([letter], _answers(chart)).pairs == {}


def test_a_letter_without_a_number_matches_the_same_service_decided_within_a_day() -> None:
    chart = _chart("lumbar-mri")
    assert same_decision(_letter(reference=None, day="2026-11-21"), _mri(chart))  # dated the next morning
    assert not same_decision(_letter(reference=None, day="2026-11-23"), _mri(chart))  # three days on: another one


def test_a_letter_for_another_service_stays_its_own_case() -> None:
    chart = _chart("lumbar-mri")
    letter = _letter(reference=None, code="72158")  # MRI with and without contrast: not the request denied
    assert pair_letters([letter], _answers(chart)).pairs == {}


def test_a_letter_that_fits_two_answers_joins_neither_and_says_so() -> None:
    chart = _chart("lumbar-mri")
    mri = _mri(chart)
    assert mri.decided_at is not None
    later = mri.decided_at + timedelta(hours=3)  # a second request for the same MRI, answered the same day
    twin = replace(mri, claim_response_id="cr-lumbar-mri-2", claim_response_ref="ClaimResponse/cr-lumbar-mri-2",
                   pre_auth_ref="A26-0000001", identifiers=[], decided_at=later)  # fmt: skip
    pairing = pair_letters([_letter(reference=None)], [mri, twin])
    assert pairing.pairs == {}
    assert pairing.warnings == [
        "The payer's letter (letter-9) fits 2 denials on the list (ClaimResponse/cr-lumbar-mri-1, "
        "ClaimResponse/cr-lumbar-mri-2): it was not added to any; check its reference number."
    ]


def test_two_letters_that_fit_one_answer_neither_joins_it() -> None:
    chart = _chart("lumbar-mri")
    first, second = _letter(reference=None), _letter(reference=None, letter_id="10")
    pairing = pair_letters([first, second], _answers(chart))
    assert pairing.pairs == {} and "Several letters (letter-9, letter-10)" in pairing.warnings[0]


@pytest.fixture(scope="module")
def uhc_letter_denial() -> Denial:
    fields = read_letter((LETTERS / "uhc-lumbar-mri.pdf").read_bytes(), "uhc-lumbar-mri.pdf").fields
    return denial_from_letter(fields, letter_id="7")


def test_each_channel_says_where_each_field_was_read(uhc_letter_denial: Denial) -> None:
    lumbar, shoulder = _chart("lumbar-mri"), _chart("shoulder-eob")
    pas = denial_summary(_mri(lumbar), clock=CLOCK)["provenance"]
    assert set(pas) >= PROVENANCE_KEYS
    assert pas["reason"].startswith("ClaimResponse.item[0].adjudication[0].extension(reviewAction).reasonCode")
    assert pas["preAuthRef"] == "ClaimResponse.preAuthRef"
    assert pas["service"].startswith("Claim.item[0].productOrService")
    assert pas["reviewer"] == "ClaimResponse.extension(claimResponseReviewer)"

    eob = denial_summary(next(d for d in _answers(shoulder) if d.channel == "pdex-eob"), clock=CLOCK)["provenance"]
    assert set(eob) >= PROVENANCE_KEYS
    assert eob["reason"].startswith("ExplanationOfBenefit.item[0].adjudication(denialreason)")
    assert eob["service"] == "ExplanationOfBenefit.item[0].productOrService"
    assert eob["payer"] == "ExplanationOfBenefit.insurer"

    typed = {"payer": "Aetna", "service_system": "CPT", "service_code": "72148", "reason_text": "Not necessary.",
             "decided_at": "2026-11-20T09:00:00-06:00", "reference_number": "AET-1"}  # fmt: skip
    hand = denial_summary(denial_from_hand_entry(3, typed, "pat-1"), clock=CLOCK)["provenance"]
    assert set(hand) >= PROVENANCE_KEYS and hand["reason"] == hand["preAuthRef"] == "typed by hand"

    letter = denial_summary(uhc_letter_denial, clock=CLOCK)["provenance"]
    assert set(letter) >= PROVENANCE_KEYS
    assert letter["preAuthRef"] == "letter page 1: 'Reference number  A265903318'"
    assert letter["reviewer"] == "letter page 2: 'Marcus L. Whitfield, MD'"


def test_the_letters_reason_read_with_ocr_slips_is_no_difference_but_a_changed_word_is() -> None:
    chart = _chart("lumbar-mri")
    words = " ".join(_mri(chart).items[0].reason_text)  # the ClaimResponse's own words, as the letter prints them
    assert len(words) > 200
    slipped = words.replace("you or your", "you_or your").replace("lumbar", "Iumbar", 1)  # what OCR makes of a fax

    def reason_differs(text: str) -> bool:
        base = _letter(reference="A265903318")
        letter = replace(base, items=[replace(i, reason_text=[text]) for i in base.items])
        brief = build_brief(chart, [attach_letter(_mri(chart), letter)], clock=CLOCK)
        return any(d["field"] == "reason" for d in brief["denials"][0]["differences"])

    assert not reason_differs(slipped)
    assert reason_differs(words.replace("6 weeks", "12 weeks"))  # another number: the physician must see it
    assert reason_differs(words.replace("6 weeks", "6 consecutive weeks"))  # a word more
    assert reason_differs(words.replace("not approved", "approved"))  # a word less
