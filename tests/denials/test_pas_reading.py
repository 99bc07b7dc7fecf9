"""Reading the payer's answer the way it was written: PAS examples, every review action, and real-feed traps."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from builders import PAS, chart_of, claim, claim_response, coverage, organization, review_action

from smart_app.denials.codes import review_action_table
from smart_app.denials.pas import open_denials, prior_auth_answers, read_denial
from smart_app.fhir.chart import as_collection, chart_from_bundle

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "pas"


def _answers(name: str) -> list:
    chart = chart_from_bundle(as_collection(json.loads((FIXTURES / name).read_text())))
    return prior_auth_answers(chart.of_type("ClaimResponse"), chart.resolve)


@pytest.mark.parametrize(
    ("name", "decision", "service", "extra"),
    [
        ("Bundle-RejectionResponseBundleExample.json", "denied", "3", {"npi": "8189991234"}),
        ("Bundle-ReferralPendingAuthorizationResponseBundleExample.json", "pended", None, {"reference": "PEND0001"}),
        ("ClaimResponse-ErrorResponseExample.json", "rejected", None, {"reasons": ["04", "T4"]}),
        ("ClaimResponse-PractitionerRequestorAdditionalContentResponseExample.json", "approved", None, {"items": 2}),
        ("Parameters-PASClaimInquiryOperationResponseExample.json", "approved", "3", {}),
    ],
)
def test_every_pas_example_is_read(name: str, decision: str, service: str | None, extra: dict) -> None:
    (denial,) = _answers(name)
    assert denial.decision == decision
    assert (denial.items[0].service.code if denial.items[0].service else None) == service
    if "npi" in extra:
        assert denial.ordering_provider and denial.ordering_provider.npi == extra["npi"]
    if "reference" in extra:
        assert denial.reference_number == extra["reference"]
    if "reasons" in extra:
        reasons = denial.items[0].reason_codes
        assert [c.code for c in reasons] == extra["reasons"]
        assert reasons[1].display == "Payer Name or Identifier Missing"  # from the shipped X12 901 table
    if "items" in extra:
        assert len(denial.items) == extra["items"]


def test_the_bare_claim_example_holds_no_answer() -> None:
    assert _answers("Claim-SurgicalAuthorizationRequestExample.json") == []


@pytest.mark.parametrize("code", sorted(review_action_table()["codes"]))
def test_each_review_action_code_gives_its_decision(code: str) -> None:
    chart = chart_of(claim(), claim_response(code))
    denial = read_denial(chart.index["ClaimResponse/cr-1"], chart.resolve)
    assert denial.decision == review_action_table()["codes"][code]["decision"]
    assert denial.items[0].review_action.code == code
    assert denial.items[0].service.code == "72148"  # joined from the Claim by item.sequence


def test_review_action_on_the_item_itself_and_in_http_form() -> None:
    response = claim_response(None)
    response["item"][0]["extension"] = [review_action("A3", system="http://codesystem.x12.org/005010/306")]
    chart = chart_of(claim(), response)
    assert read_denial(response, chart.resolve).decision == "denied"


def test_review_action_on_the_header_adjudication_only() -> None:
    response = claim_response(None)
    response["adjudication"] = [{"category": {"coding": [{"code": "submitted"}]}, "extension": [review_action("A4")]}]
    chart = chart_of(claim(), response)
    assert read_denial(response, chart.resolve).decision == "pended"


def test_outcome_complete_is_never_the_decision_and_disposition_is_a_labelled_fallback() -> None:
    response = claim_response(None, disposition="Denied")
    chart = chart_of(claim(), response)
    denial = read_denial(response, chart.resolve)
    assert denial.decision == "denied"
    assert any("decision was read from its disposition" in w for w in denial.warnings)
    queued = claim_response(None, outcome="queued")
    assert read_denial(queued, chart_of(claim(), queued).resolve).decision == "pended"


def test_contradictory_disposition_is_a_warning() -> None:
    response = claim_response("A3", disposition="Granted")
    denial = read_denial(response, chart_of(claim(), response).resolve)
    assert denial.decision == "denied"
    assert any("says 'Granted'" in w and "confirm with the payer" in w for w in denial.warnings)


def test_modified_item_shows_what_was_authorized_instead() -> None:
    response = claim_response("A6")
    response["addItem"] = [
        {
            "itemSequence": [1],
            "productOrService": {"coding": [{"code": "72100", "display": "X-ray lumbar spine"}]},
            "quantity": {"value": 1},
        }
    ]
    denial = read_denial(response, chart_of(claim(), response).resolve)
    assert denial.decision == "modified"
    assert denial.items[0].authorized_instead == ["X-ray lumbar spine × 1"]


def test_several_items_keep_their_own_outcomes() -> None:
    response = claim_response("A3")
    second = copy.deepcopy(response["item"][0])
    second["itemSequence"] = 2
    second["adjudication"][0]["extension"] = [review_action("A1")]
    response["item"].append(second)
    denial = read_denial(response, chart_of(claim(), response).resolve)
    assert [i.decision for i in denial.items] == ["denied", "approved"]
    assert denial.decision == "denied"


def test_reviewer_extension_and_ordering_provider_specialty() -> None:
    response = claim_response("A3")
    response["extension"] = [
        {
            "url": PAS + "extension-claimResponseReviewer",
            "extension": [
                {"url": "wasHumanReviewedFlag", "valueBoolean": True},
                {"url": "reviewerNPI", "valueIdentifier": {"value": "1234567893"}},
                {
                    "url": "reviewerSpecialty",
                    "valueCodeableConcept": {
                        "coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "207Q00000X"}]
                    },
                },
            ],
        }
    ]
    role = {
        "resourceType": "PractitionerRole",
        "id": "role-1",
        "practitioner": {"reference": "Practitioner/doc-1"},
        "specialty": [{"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "207X00000X"}]}],
    }
    doctor = {
        "resourceType": "Practitioner",
        "id": "doc-1",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "2765432192"}],
        "name": [{"prefix": ["Dr."], "given": ["Elena"], "family": "Vasquez"}],
    }
    chart = chart_of(claim(provider="PractitionerRole/role-1"), response, role, doctor)
    denial = read_denial(response, chart.resolve)
    assert denial.reviewer and denial.reviewer.human_reviewed and denial.reviewer.specialty.code == "207Q00000X"
    assert denial.ordering_provider.name == "Dr. Elena Vasquez"
    assert denial.ordering_provider.specialty.code == "207X00000X"


def test_the_requesting_practice_is_the_roles_organization_or_the_provider_itself() -> None:
    role = {
        "resourceType": "PractitionerRole",
        "id": "role-1",
        "practitioner": {"reference": "Practitioner/doc-1"},
        "organization": {"reference": "https://ehr.example/fhir/Organization/practice-9"},
    }
    response = claim_response("A3")
    chart = chart_of(claim(provider="PractitionerRole/role-1"), response, role)
    assert read_denial(response, chart.resolve).ordering_provider.organization == "Organization/practice-9"

    practice = organization("practice-7", "Lakeside Clinic")
    chart = chart_of(claim(provider="Organization/practice-7"), response, practice)
    assert read_denial(response, chart.resolve).ordering_provider.organization == "Organization/practice-7"

    doctor = {"resourceType": "Practitioner", "id": "doc-1", "name": [{"family": "Vasquez"}]}
    chart = chart_of(claim(provider="Practitioner/doc-1"), response, doctor)
    assert read_denial(response, chart.resolve).ordering_provider.organization is None  # a person names no practice


def test_a_pended_answer_followed_by_a_final_one_gives_the_newest() -> None:
    pended = claim_response("A4", cr_id="cr-pend", created="2026-11-10T09:00:00-05:00")
    final = claim_response("A3", cr_id="cr-final", created="2026-11-12T09:00:00-05:00")
    chart = chart_of(claim(), pended, final)
    (denial,) = open_denials([pended, final], chart.resolve)
    assert denial.claim_response_id == "cr-final"
    approved = claim_response("A1", cr_id="cr-ok", created="2026-11-13T09:00:00-05:00")
    assert open_denials([pended, final, approved], chart_of(claim(), pended, final, approved).resolve) == []


def test_claim_missing_from_the_bundle_and_claim_without_a_service_code() -> None:
    response = claim_response("A3")
    alone = read_denial(response, chart_of(response).resolve)
    assert any("is not in the chart" in w for w in alone.warnings)
    no_code = claim()
    del no_code["item"][0]["productOrService"]["coding"]
    no_code["item"][0]["productOrService"]["text"] = "imaging"
    denial = read_denial(response, chart_of(no_code, response).resolve)
    assert denial.items[0].service.code is None
    assert denial.items[0].service.display == "imaging"
    assert any("has no service code for an item" in w for w in denial.warnings)
    del no_code["item"][0]["productOrService"]  # required by R4: the Claim is malformed, and the chart says so
    chart = chart_of(no_code, response)
    assert chart.warnings == ["Claim/claim-1 could not be read and was left out (invalid item.productOrService)."]
    assert any("is not in the chart" in w for w in read_denial(response, chart.resolve).warnings)
    coded = read_denial(response, chart_of(claim(), response).resolve)
    assert not any("service code" in w for w in coded.warnings)


def test_plain_r4_denied_adjudication_with_a_carc_reason() -> None:
    response = claim_response(None)
    response["item"][0]["adjudication"] = [
        {
            "category": {"coding": [{"code": "denied"}]},
            "reason": {"coding": [{"system": "https://x12.org/codes/claim-adjustment-reason-codes", "code": "50"}]},
        }
    ]
    denial = read_denial(response, chart_of(claim(), response).resolve)
    assert denial.decision == "denied"
    assert "medical necessity" in denial.items[0].reason_codes[0].display


def test_payer_and_coverage_are_joined() -> None:
    response = claim_response("A3")
    chart = chart_of(
        claim(),
        response,
        organization("payer", "eviCore healthcare"),
        coverage("Organization/cigna", "512"),
        organization("cigna", "Cigna"),
    )
    denial = read_denial(response, chart.resolve)
    assert denial.payer_name == "eviCore healthcare"
    assert denial.plan_payer["name"] == "Cigna"
    assert denial.coverage["id"] == "cov-1"


def test_claim_found_by_its_identifier_and_item_authorization_number() -> None:
    request = claim()
    request["identifier"] = [{"system": "urn:trnorg:9012345678", "value": "TRN-1"}]
    response = claim_response("A6")
    response["request"] = {"type": "Claim", "identifier": {"system": "urn:trnorg:9012345678", "value": "TRN-1"}}
    response["item"][0]["extension"] = [
        {"url": PAS + "extension-authorizationNumber", "valueString": "AUTH-42"},
    ]
    denial = read_denial(response, chart_of(request, response).resolve)
    assert denial.items[0].service.code == "72148"  # joined through the logical reference
    assert denial.reference_number == "AUTH-42"
    assert denial.request_key == "urn:trnorg:9012345678|TRN-1"


def test_an_unrecognised_code_is_never_hidden_by_a_certified_item() -> None:
    response = claim_response("A1")
    second = copy.deepcopy(response["item"][0])
    second["itemSequence"] = 2
    second["adjudication"][0]["extension"] = [review_action("ZZ")]
    response["item"].append(second)
    (listed,) = open_denials([response], chart_of(claim(), response).resolve)
    assert listed.decision == "unknown"
    assert not any("no review action the app recognises" in w for w in listed.warnings)  # one item was read


def test_answers_decided_at_the_same_time_prefer_the_later_update_then_the_final_one() -> None:
    pended = claim_response("A4", cr_id="cr-pend", created="2026-11-12T09:00:00-05:00")
    final = claim_response("A3", cr_id="cr-final", created="2026-11-12T09:00:00-05:00")
    for order in ([pended, final], [final, pended]):
        (kept,) = open_denials(order, chart_of(claim(), *order).resolve)
        assert kept.claim_response_id == "cr-final"
    pended["meta"] = {"lastUpdated": "2026-11-12T15:00:00Z"}
    final["meta"] = {"lastUpdated": "2026-11-12T14:00:00Z"}
    (kept,) = open_denials([final, pended], chart_of(claim(), final, pended).resolve)
    assert kept.claim_response_id == "cr-pend"
