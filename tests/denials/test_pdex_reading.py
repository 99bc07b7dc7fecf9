"""Reading a payer's PDex prior-authorization ExplanationOfBenefit: the IG's example, the demo's EOB-only denial,
and one request answered both as a ClaimResponse and as an EOB."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from builders import chart_of, claim, claim_response

from smart_app.content import content_dir
from smart_app.denials.pdex import all_answers, answer_reference, eob_answers, open_denials_with_eobs, read_eob_denial
from smart_app.fhir.chart import as_collection, chart_from_bundle

PDEX_EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "pdex" / "ExplanationOfBenefit-PDexPriorAuth1.json"
DEMO = content_dir("fhir") / "demo" / "shoulder-eob.json"
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"


def _demo_eob() -> dict:
    bundle = json.loads(DEMO.read_text())
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ExplanationOfBenefit")


def test_the_pdex_example_is_read_as_the_ig_wrote_it() -> None:
    chart = chart_from_bundle(as_collection(json.loads(PDEX_EXAMPLE.read_text())))
    (denial,) = all_answers([], chart.of_type("ExplanationOfBenefit"), chart.resolve)[0]
    assert denial.claim_response_id == "eob-PDexPriorAuth1"
    assert denial.claim_response_ref == "ExplanationOfBenefit/PDexPriorAuth1"
    assert denial.decision == "approved"  # X12 306 A1 on item.adjudication's reviewAction
    assert denial.items[0].review_number == "AUTH0001"
    assert denial.payer_name == "Example Health Plan"
    assert denial.decided_at and denial.decided_at.isoformat().startswith("2024-07-23T17:26")  # adjudicationActionDate
    assert "Authorization period on the payer's record: 2021-10-01 to 2021-10-31." in denial.notes
    assert open_denials_with_eobs([], chart.of_type("ExplanationOfBenefit"), chart.resolve) == ([], [])


def test_the_demo_eob_only_denial_carries_its_carc_reason_in_words() -> None:
    chart = chart_from_bundle(json.loads(DEMO.read_text()))
    (denial,), skipped = open_denials_with_eobs([], chart.of_type("ExplanationOfBenefit"), chart.resolve)
    assert skipped == [] and denial.warnings == []
    assert denial.decision == "denied" and denial.pre_auth_ref == "A266120477"
    item = denial.items[0]
    assert item.service is not None
    assert (item.service.system, item.service.code) == ("http://www.ama-assn.org/go/cpt", "73221")
    (reason,) = item.reason_codes
    assert (reason.system, reason.code) == (CARC, "50")
    assert reason.display and "medical necessity" in reason.display  # words from fhir/codes, not from the EOB
    assert denial.payer_name == "UnitedHealthcare"
    assert denial.ordering_provider and denial.ordering_provider.organization == (
        "Organization/org-lumbar-prairie-family-med"
    )


def test_the_item_authorized_period_and_the_dates_of_service_are_in_the_notes_not_the_decision_date() -> None:
    eob = copy.deepcopy(_demo_eob())
    eob["item"][0]["preAuthPeriod"] = [{"start": "2026-11-20", "end": "2027-02-18"}]
    eob["billablePeriod"] = {"start": "2026-11-30"}
    denial = read_eob_denial(eob, lambda ref: None)
    assert "Item 1: authorized period on the payer's record: 2026-11-20 to 2027-02-18." in denial.notes
    assert "Dates of service on the payer's record: 2026-11-30 to not stated." in denial.notes
    assert denial.decided_at and denial.decided_at.isoformat().startswith("2026-11-20T11:05")


def test_a_missing_part_is_a_warning_and_a_malformed_eob_is_skipped_and_named() -> None:
    eob = {**_demo_eob(), "patient": {"reference": "Patient/p1"}}
    bare = copy.deepcopy(eob)
    bare["item"][0]["adjudication"] = bare["item"][0]["adjudication"][:1]  # the review action, no denial reason
    del bare["created"], bare["insurer"]
    bare["item"][0]["adjudication"][0]["extension"] = bare["item"][0]["adjudication"][0]["extension"][:1]
    broken = {**copy.deepcopy(eob), "id": "broken", "insurer": "Organization/org-uhc"}
    # records the chart's R4 validation would drop (insurer and created are 1..1), as a raw feed hands them over
    (denial,), skipped = eob_answers([broken, bare], chart_of().resolve)
    assert any("no denial reason code" in w for w in denial.warnings)
    assert any("no decision date" in w for w in denial.warnings)
    assert any("names no payer" in w for w in denial.warnings)
    assert skipped == ["ExplanationOfBenefit/broken could not be read and is left out (AttributeError)."]


def test_one_request_answered_by_a_claimresponse_and_an_eob_is_one_denial_the_pas_one() -> None:
    eob = {**_demo_eob(), "patient": {"reference": "Patient/p1"}, "claim": {"reference": "Claim/claim-1"}}
    chart = chart_of(claim(), claim_response("A3"), eob)
    (denial,), _ = open_denials_with_eobs(
        chart.of_type("ClaimResponse"), chart.of_type("ExplanationOfBenefit"), chart.resolve
    )
    assert denial.claim_response_id == "cr-1"
    assert any("ExplanationOfBenefit/pdex-shoulder-mri-1" in w for w in denial.warnings)


def test_an_eob_for_another_request_stays_a_denial_of_its_own() -> None:
    chart = chart_of(claim(), claim_response("A3"), {**_demo_eob(), "patient": {"reference": "Patient/p1"}})
    assert chart.of_type("ClaimResponse") and chart.of_type("ExplanationOfBenefit")
    denials, _ = open_denials_with_eobs(
        chart.of_type("ClaimResponse"), chart.of_type("ExplanationOfBenefit"), chart.resolve
    )
    assert sorted(d.claim_response_id for d in denials) == ["cr-1", "eob-pdex-shoulder-mri-1"]


def test_read_eob_denial_takes_the_header_review_action_when_items_carry_none() -> None:
    eob = copy.deepcopy(_demo_eob())
    eob["adjudication"] = [eob["item"][0]["adjudication"][0]]
    eob["item"][0]["adjudication"] = eob["item"][0]["adjudication"][1:]
    chart = chart_of({**eob, "patient": {"reference": "Patient/p1"}})
    denial = read_eob_denial(chart.of_type("ExplanationOfBenefit")[0], chart.resolve)
    assert denial.decision == "denied" and denial.items[0].reason_codes[0].code == "50"


def test_an_eob_denial_id_names_its_eob_and_any_other_id_a_claimresponse() -> None:
    assert answer_reference("eob-pdex-shoulder-mri-1") == "ExplanationOfBenefit/pdex-shoulder-mri-1"
    assert answer_reference("cr-lumbar-mri-1") == "ClaimResponse/cr-lumbar-mri-1"
    assert answer_reference("eob-") == "ClaimResponse/eob-"  # no EOB id after the prefix


def test_a_rarc_denial_reason_gets_its_words_from_the_shipped_table() -> None:
    eob = copy.deepcopy({**_demo_eob(), "patient": {"reference": "Patient/p1"}})
    rarc = {"system": "https://x12.org/codes/remittance-advice-remark-codes", "code": "M62"}
    eob["item"][0]["adjudication"][1]["reason"]["coding"] = [rarc]
    chart = chart_of(eob)
    denial = read_eob_denial(chart.of_type("ExplanationOfBenefit")[0], chart.resolve)
    (reason,) = denial.items[0].reason_codes
    assert reason.display == "Missing/incomplete/invalid treatment authorization code."
