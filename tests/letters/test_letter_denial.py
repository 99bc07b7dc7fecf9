"""A letter's fields as the pipeline's Denial, its JSON contract, and the window it states against the payer's."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from letter_files import LETTERS

from smart_app.brief.model import build_brief
from smart_app.brief.render import environment, render_print_html
from smart_app.cli import brief_clock
from smart_app.content import content_dir
from smart_app.fhir.chart import chart_from_bundle
from smart_app.letters.contract import letter_json
from smart_app.letters.denial import denial_from_letter
from smart_app.letters.model import Found, LetterFields, Window
from smart_app.letters.patient import patient_mismatch
from smart_app.letters.reading import read_letter

DEMO = content_dir("fhir") / "demo"
LEAVES = {"payer", "delegate", "memberId", "patientName", "birthDate", "reference", "decidedAt", "reasonText"}


@pytest.fixture(scope="module")
def uhc_fields() -> LetterFields:
    return read_letter((LETTERS / "uhc-lumbar-mri.pdf").read_bytes(), "uhc-lumbar-mri.pdf").fields


def test_contract_shape_each_leaf_value_and_source_or_null() -> None:
    reading = read_letter((LETTERS / "cigna-evicore-nuclear-stress.pdf").read_bytes(), "x.pdf")
    contract = json.loads(json.dumps(letter_json(reading)))  # plain JSON all the way down
    assert set(contract) == LEAVES | {
        "services", "policyCited", "p2p", "reviewer", "appealDeadline", "decision", "ocr", "pages", "notes",
    }  # fmt: skip
    assert contract["delegate"] == {
        "value": "eviCore healthcare",
        "source": {"page": 1, "text": contract["delegate"]["source"]["text"]},
    }
    assert contract["decidedAt"]["value"] == "2026-11-17T13:26:00-05:00"
    assert contract["services"] == [
        {
            "value": {"system": "http://www.ama-assn.org/go/cpt", "code": "78452", "units": 1},
            "source": {"page": 1, "text": contract["services"][0]["source"]["text"]},
        }
    ]
    assert contract["p2p"]["window"]["value"] == {
        "amount": 14,
        "unit": "calendar-days",
        "text": "within 14 calendar days",
    }
    assert contract["p2p"]["fax"] is None
    assert set(contract["policyCited"]) == {"title", "id", "section"}
    assert set(contract["reviewer"]) == {"name", "credentials", "specialty"}
    assert contract["ocr"] == {"used": False, "confidence": None}
    assert contract["pages"] == [{"page": 1, "ocr": False, "confidence": None, "note": None, "rotation": 0}]


def test_denial_from_letter_is_marked_and_carries_the_letters_facts(uhc_fields: LetterFields) -> None:
    denial = denial_from_letter(uhc_fields, letter_id="7")
    assert denial.claim_response_id == "letter-7" and denial.from_letter and not denial.entered_by_hand
    assert denial.payer_name == "UnitedHealthcare" and denial.pre_auth_ref == "A265903318"
    assert denial.decided_at is not None and denial.decided_at.isoformat() == "2026-11-20T15:42:00-06:00"
    assert denial.decision == "denied"
    (item,) = denial.items
    assert item.service is not None and (item.service.code, item.quantity) == ("72148", "1")
    assert item.reason_text[0].startswith("The request for MRI lumbar spine without contrast (72148) is not approved.")
    assert denial.letter_window is not None and denial.letter_window.words == "within 2 business days"
    assert denial.reviewer is not None and denial.reviewer.specialty is not None
    assert denial.reviewer.specialty.display == "Physical Medicine & Rehabilitation"


def _window(fields: LetterFields) -> dict:
    chart = chart_from_bundle(json.loads((DEMO / "lumbar-mri.json").read_text()))
    chart.patient_id = "pat-lumbar-mri"
    denial = denial_from_letter(fields, letter_id="uhc")
    denial.patient_ref = "Patient/pat-lumbar-mri"
    brief = build_brief(chart, [denial], clock=brief_clock("2026-11-20T16:00", "America/Chicago"))
    (summary,) = brief["denials"]
    assert summary["fromLetter"] is True
    return summary["p2pWindow"]


def test_a_stricter_window_in_the_letter_wins_and_the_brief_says_the_letter_says(uhc_fields: LetterFields) -> None:
    window = _window(uhc_fields)  # 2 business days, against UnitedHealthcare's 3 business days (inpatient) and 21 days
    assert window["deadline"] == "2026-11-24T23:59:59-06:00"
    assert window["basis"].startswith("the letter says “within 2 business days”: 2 business days from the decision")
    assert window["status"] == "letter" and window["verify"] is False
    assert window["source"] == "the payer's letter, page 1: “within 2 business days”"


def test_a_looser_window_in_the_letter_does_not_win(uhc_fields: LetterFields) -> None:
    loose = replace(
        uhc_fields,
        p2p_window=Found(Window(30, "calendar-days", "within 30 calendar days"), uhc_fields.p2p_window.source),  # type: ignore[union-attr]
    )
    window = _window(loose)
    assert window["deadline"] == "2026-11-25T23:59:59-06:00"  # UnitedHealthcare's 3 business days (inpatient)
    assert window["basis"].startswith("UnitedHealthcare (inpatient): 3 business days")
    assert "the letter says “within 30 calendar days”" in window["basis"]  # named as the looser one


def test_patient_mismatch_says_which_field_differs(uhc_fields: LetterFields) -> None:
    patient = json.loads((DEMO / "lumbar-mri.json").read_text())["entry"][0]["resource"]
    assert patient["resourceType"] == "Patient"
    assert patient_mismatch(uhc_fields, patient) is None
    other = {**patient, "birthDate": "1974-03-15"}
    assert patient_mismatch(uhc_fields, other) == "the letter's birth date 1974-03-14 is not 1974-03-15"
    renamed = {**patient, "name": [{"family": "Quillfeather", "given": ["Rachel"]}]}
    assert patient_mismatch(uhc_fields, renamed) == (
        "the letter's patient name “Raymond T. Quillfeather” is not Rachel Quillfeather"
    )


def test_the_brief_says_how_the_letter_says_to_ask_before_the_payers_general_numbers(uhc_fields: LetterFields) -> None:
    chart = chart_from_bundle(json.loads((DEMO / "lumbar-mri.json").read_text()))
    denial = denial_from_letter(uhc_fields, letter_id="uhc")
    brief = build_brief(chart, [denial], clock=brief_clock("2026-11-20T16:00", "America/Chicago"))
    (summary,) = brief["denials"]
    assert summary["letterContact"] == {
        "phone": "1-800-555-0142",
        "fax": None,
        "portal": "https://uhcprovider.example.com/peer-to-peer",
        "page": 1,
    }
    brief["asOf"] = "2026-11-20 16:00"
    printed = " ".join(render_print_html(brief).split())
    assert "The letter says: call 1-800-555-0142." in printed
    page = " ".join(environment().get_template("_denial_action.html").render(denial=summary, brief=brief).split())
    assert "The letter (page 1) says: call 1-800-555-0142; online at" in page
    assert 'href="https://uhcprovider.example.com/peer-to-peer"' in page
    assert "On file: " in page  # the payer's general numbers follow, marked as the rules on file


def test_a_portal_the_letter_prints_without_a_scheme_is_linked_as_https_and_anything_else_is_not(
    uhc_fields: LetterFields,
) -> None:
    source = uhc_fields.p2p_phone.source  # type: ignore[union-attr]
    bare = replace(uhc_fields, p2p_portal=Found("uhcprovider.example.com/p2p", source))
    assert denial_from_letter(bare, letter_id="u").letter_contact.portal == "https://uhcprovider.example.com/p2p"  # type: ignore[union-attr]
    script = replace(uhc_fields, p2p_portal=Found("javascript:alert(1)", source))
    assert denial_from_letter(script, letter_id="u").letter_contact.portal is None  # type: ignore[union-attr]
