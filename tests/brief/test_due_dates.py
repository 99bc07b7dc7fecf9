"""The top of the brief dates what it asks for: the written appeal it recommends (from the appeal rules in
criteria/appeals.yaml) and the records a pended request waits for (from the period the payer's own words state),
each with its basis, on the screen and on the printed page. Dates counted by hand below."""

from __future__ import annotations

import copy
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from smart_app.brief.model import denial_summary
from smart_app.brief.render import environment, render_pdf_fitted
from smart_app.cli import brief_clock, brief_from_bundle
from smart_app.content import content_dir
from smart_app.denials.pas import open_denials
from smart_app.fhir.chart import chart_from_bundle

DEMO = content_dir("fhir") / "demo"
PAS = Path(__file__).parents[1] / "data" / "pas"
DENIED = {"system": "https://codesystem.x12.org/005010/306", "code": "A3", "display": "Not Certified"}


def _brief(path: Path) -> dict[str, Any]:
    brief = brief_from_bundle(path, clock=brief_clock("2026-11-23", "America/New_York"))
    brief["asOf"] = "2026-11-23 09:00"
    return brief


def _variant(tmp_path: Path, bundle: str, change: Any) -> Path:
    """The demo chart ``bundle`` with its ClaimResponse changed by ``change`` (a function of the resource)."""
    data = json.loads((DEMO / bundle).read_text(encoding="utf-8"))
    for entry in data["entry"]:
        if entry["resource"]["resourceType"] == "ClaimResponse":
            change(entry["resource"])
    path = tmp_path / bundle
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _knee_denied(claim_response: dict[str, Any]) -> None:
    """Humana decides the pended knee request: a Medicare Advantage denial, with no P2P after the decision."""
    action = claim_response["item"][0]["adjudication"][0]["extension"][0]["extension"]
    next(e for e in action if e["url"].endswith("reviewActionCode"))["valueCodeableConcept"] = {"coding": [DENIED]}
    claim_response["processNote"][0]["text"] = "The request is not approved: the documentation does not meet criteria."


def _top_box(denial: dict[str, Any]) -> str:
    """The words of the brief's top box as a person reads them (tags dropped)."""
    page = environment().get_template("_denial_action.html").render(denial=denial)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _printed(brief: dict[str, Any]) -> str:
    pdf, _ = render_pdf_fitted(brief)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_a_recommended_written_appeal_shows_its_due_date_basis_and_source(tmp_path: Path) -> None:
    brief = _brief(_variant(tmp_path, "knee-tka.json", _knee_denied))
    denial = brief["denials"][0]
    assert (denial["recommendation"], denial["planType"]) == ("written-appeal", "medicare-advantage")
    appeal = denial["appealDeadline"]
    assert appeal["deadline"] == "2027-01-22T23:59:59-05:00"  # 65 calendar days from 2026-11-18
    assert appeal["basis"].startswith(
        "Within 65 calendar days of the date of the notice of the organization determination: 42 CFR 422.582(b)"
    )
    assert "counted from the denial notice dated 2026-11-18" in appeal["basis"]
    assert appeal["source"].startswith("HHS guidance: Medicare managed care appeals and grievances")
    box = _top_box(denial)
    assert "File the written appeal by 2027-01-22 23:59 60 d 14 h left" in box
    assert "Source: HHS guidance: Medicare managed care appeals and grievances" in box
    printed = _printed(brief)
    assert "File a written appeal. File the written appeal by 2027-01-22 23:59 (60 d 14 h left)." in printed
    assert "Within 65 calendar days of the date of the notice" in printed


def test_an_unknown_plan_type_uses_the_shortest_appeal_deadline_and_says_so() -> None:
    denial = _brief(PAS / "Bundle-RejectionResponseBundleExample.json")["denials"][0]
    assert denial["recommendation"] == "written-appeal" and denial["planType"] is None
    appeal = denial["appealDeadline"]
    assert appeal["deadline"] == "2005-07-01T23:59:59-04:00"  # 60 days from 2005-05-02, Medicaid managed care
    assert "The shortest verified deadline on file (Medicaid or CHIP managed care) is used" in appeal["basis"]
    assert "The written appeal was due by" in _top_box(denial)


def test_no_notice_date_gives_no_appeal_date_and_says_where_to_find_it(tmp_path: Path) -> None:
    """A letter entered without its date: the chart's answer is read, then its decision date taken away."""
    chart = chart_from_bundle(json.loads(_variant(tmp_path, "knee-tka.json", _knee_denied).read_text()))
    (read,) = open_denials(chart.of_type("ClaimResponse"), chart.resolve)
    read.decided_at = None
    denial = denial_summary(read, patient=chart.patient, clock=brief_clock("2026-11-23", "America/New_York"))
    appeal = denial["appealDeadline"]
    assert appeal["deadline"] is None
    assert "the denial notice date is unknown, so no date is given" in appeal["basis"]
    assert "usually printed near the top of the letter" in appeal["basis"]
    box = _top_box(denial)
    assert "File the written appeal — no date can be given:" in box and " left" not in box


def test_no_appeal_date_where_no_written_appeal_is_recommended() -> None:
    for bundle in ("lumbar-mri.json", "ra-tnf.json", "glp1-t2dm.json"):
        denial = _brief(DEMO / bundle)["denials"][0]
        assert denial["recommendation"] == "peer-to-peer" and denial["appealDeadline"] is None


def test_the_pended_knee_request_dates_its_records_from_the_letters_14_calendar_days() -> None:
    brief = _brief(DEMO / "knee-tka.json")
    records = brief["denials"][0]["recordsDue"]
    assert records["deadline"] == "2026-12-02T23:59:59-05:00"  # 14 calendar days from 2026-11-18
    assert records["basis"] == "As the payer states: 14 calendar days from its answer (2026-11-18)."
    quote = "Please send the records within 14 calendar days of this notice, referencing the case number."
    assert records["quote"] == quote
    box = _top_box(brief["denials"][0])
    assert "Send the requested records by 2026-12-02 23:59 9 d 14 h left" in box
    assert f"From the payer's answer: “{quote}”" in box
    printed = _printed(brief)
    assert "Send the requested records by 2026-12-02 23:59 (9 d 14 h left)." in printed
    assert "within 14 calendar days of this notice" in printed


@pytest.mark.parametrize(
    ("sentence", "due", "basis"),
    [
        # Wed 11-18 + 10 business days, skipping the weekends and Thanksgiving (Thu 11-26)
        ("Send the records within ten (10) business days.", "2026-12-03", "10 business days from its answer"),
        ("Please respond within 30 days.", "2026-12-18", "counted as calendar days"),
        ("Records must be received by December 7, 2026.", "2026-12-07", "As the payer states: by 2026-12-07."),
        ("Send them no later than 12/04/2026 or a decision will be made.", "2026-12-04", "by 2026-12-04"),
        ("If approved, the service is valid within 2 days. Fax the notes within 5 days.", "2026-11-23", "5 calendar"),
    ],
)
def test_a_stated_period_or_date_is_read_from_the_payers_words(
    tmp_path: Path, sentence: str, due: str, basis: str
) -> None:
    def stated(claim_response: dict[str, Any]) -> None:
        claim_response["processNote"][0]["text"] = f"Pended for medical review. {sentence}"

    records = _brief(_variant(tmp_path, "knee-tka.json", stated))["denials"][0]["recordsDue"]
    assert records["deadline"] == f"{due}T23:59:59-05:00"
    assert basis in records["basis"] and records["quote"] == sentence.split(". ")[-1]


def test_a_pended_answer_with_no_stated_period_says_where_on_the_letter_to_look() -> None:
    denial = _brief(PAS / "Bundle-ReferralPendingAuthorizationResponseBundleExample.json")["denials"][0]
    records = denial["recordsDue"]
    assert records["deadline"] is None and records["quote"] is None
    assert records["basis"].startswith("The payer's answer states no due date for the records. Look on the denial")
    assert "usually in the paragraph that lists what to send" in _top_box(denial)


def test_how_to_ask_says_where_to_look_and_that_it_is_the_apps_advice() -> None:
    for bundle in ("knee-tka.json", "glp1-t2dm.json"):
        box = _top_box(_brief(DEMO / bundle)["denials"][0])
        assert "The number on the denial letter." not in box
        assert (
            "How to ask App's advice: the peer-to-peer or provider-services phone number on the letter, near the "
            "appeal rights." in box
        )


def test_a_decided_answer_has_no_records_due(tmp_path: Path) -> None:
    brief = _brief(_variant(tmp_path, "knee-tka.json", _knee_denied))
    assert brief["denials"][0]["recordsDue"] is None
    assert copy.deepcopy(brief)["denials"][0]["appealDeadline"] is not None
