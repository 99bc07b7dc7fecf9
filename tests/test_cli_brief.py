"""``p2p-brief brief``: the whole pipeline on Bundle files, its JSON contract and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from smart_app.cli import main
from smart_app.content import content_dir

DEMO = content_dir("fhir") / "demo"
FIXTURES = Path(__file__).resolve().parent / "data" / "pas"
CONTRACT_KEYS = {
    "claimResponse", "claim", "payer", "service", "diagnoses", "decidedOn", "preAuthRef", "reason", "category",
    "recommendation", "p2pWindow", "reviewerRights", "policy", "policyResult", "criteria", "priorTreatments",
    "guidelines", "warnings",
}  # fmt: skip


def _brief(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["brief", *args]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("bundle", "claim_response", "decision", "service_code", "first_dx"),
    [
        ("lumbar-mri.json", "ClaimResponse/cr-lumbar-mri-1", "denied", "72148", "M54.16"),
        ("ra-tnf.json", "ClaimResponse/cr-ra-adalimumab-1", "denied", "0074-0554-02", "M05.79"),
        ("knee-tka.json", "ClaimResponse/cr-knee-tka-1", "pended", "27447", "M17.11"),
        ("glp1-t2dm.json", "ClaimResponse/cr-glp1-semaglutide-1", "denied", "0169-4181-13", "E11.65"),
    ],
)
def test_demo_patient_brief(
    capsys: pytest.CaptureFixture[str],
    bundle: str,
    claim_response: str,
    decision: str,
    service_code: str,
    first_dx: str,
) -> None:
    brief = _brief(capsys, str(DEMO / bundle))
    assert len(brief["denials"]) == 1  # approved answers (the lumbar patient's PT) are not denials
    denial = brief["denials"][0]
    assert CONTRACT_KEYS <= denial.keys()
    assert denial["claimResponse"] == claim_response
    assert denial["decision"] == decision
    assert denial["service"]["code"] == service_code
    assert denial["diagnoses"][0]["code"] == first_dx
    assert denial["reason"]["text"]
    assert brief["patient"]["name"] and brief["patient"]["birthDate"] and brief["patient"]["memberId"]
    assert all(t["start"] for t in brief["priorTreatments"][:3])
    starts = [t["start"] for t in brief["priorTreatments"] if t["start"]]
    assert starts == sorted(starts)


def test_malformed_resource_is_a_warning_not_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    brief = _brief(capsys, str(DEMO / "glp1-t2dm.json"))
    warning = next(w for w in brief["warnings"] if "obs-glp1-malformed" in w)
    assert warning.startswith("Observation/obs-glp1-malformed could not be read")
    assert "high" not in warning  # the bad value itself is never echoed


def test_pas_rejection_example(capsys: pytest.CaptureFixture[str]) -> None:
    brief = _brief(capsys, str(FIXTURES / "Bundle-RejectionResponseBundleExample.json"))
    denial = brief["denials"][0]
    assert denial["decision"] == "denied"
    assert denial["reason"]["codes"][0]["code"] == "A3"
    assert denial["diagnoses"][0]["code"] == "G89.4"


def test_pas_pended_example_without_its_claim(capsys: pytest.CaptureFixture[str]) -> None:
    brief = _brief(capsys, str(FIXTURES / "Bundle-ReferralPendingAuthorizationResponseBundleExample.json"))
    denial = brief["denials"][0]
    assert denial["decision"] == "pended"
    assert any("is not in the chart" in w for w in brief["warnings"])


def test_pdf_output_carries_the_brief(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "brief.pdf"
    with caplog.at_level("WARNING", logger="weasyprint"):
        assert main(["brief", str(DEMO / "lumbar-mri.json"), "--format", "pdf", "--out", str(out)]) == 0
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []  # the stylesheet applies
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())  # PDF lines wrap
    assert "CPT 72148 MRI lumbar spine without contrast" in text
    assert "not documented — confirm before the call" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON (line 1"),
        ("[1, 2]", "expected a FHIR Bundle (or a resource), found list"),
        ('{"id": "x"}', "found an object with no resourceType"),
        ('{"resourceType": "Patient"}', "holds no ClaimResponse"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": []}', "holds no ClaimResponse"),
    ],
)
def test_bad_input_exits_1_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "input.json"
    path.write_text(content)
    assert main(["brief", str(path)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and message in err


def test_unknown_claim_response_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["brief", str(DEMO / "lumbar-mri.json"), "--claim-response", "nope"]) == 1
    assert "no ClaimResponse with id 'nope'" in capsys.readouterr().err


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["brief"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize(
    ("bundle", "category", "recommendation", "deadline", "basis", "rights"),
    [
        (
            "lumbar-mri.json",
            "medical-necessity",
            "peer-to-peer",
            "2026-12-11T23:59:59-05:00",
            "UnitedHealthcare (outpatient): 21 calendar days from the decision (2026-11-20)",
            "215 ILCS 200/35 (Illinois Prior Authorization Reform Act)",
        ),
        (
            "ra-tnf.json",
            "medical-necessity",
            "peer-to-peer",
            "2026-11-27T23:59:59-05:00",  # Thanksgiving (11-26) is skipped
            "Aetna: 5 business days from the decision (2026-11-19)",
            None,
        ),
        (
            "knee-tka.json",
            "medical-necessity",
            "peer-to-peer",
            None,  # pended at a payer that hears a P2P only before deciding: no post-denial clock applies
            "Ask before the payer decides",
            "42 CFR § 422.590 (who must reconsider an adverse organization determination)",
        ),
        (
            "glp1-t2dm.json",
            "medical-necessity",
            "peer-to-peer",
            "2026-11-25T23:59:59-05:00",
            "Cigna Healthcare: 3 business days from the decision (2026-11-21)",
            None,
        ),
    ],
)
def test_demo_patient_triage_deadline_and_reviewer_rights(
    capsys: pytest.CaptureFixture[str],
    bundle: str,
    category: str,
    recommendation: str,
    deadline: str,
    basis: str,
    rights: str | None,
) -> None:
    (denial,) = _brief(capsys, str(DEMO / bundle), "--today", "2026-11-23")["denials"]
    assert (denial["category"], denial["recommendation"]) == (category, recommendation)
    assert denial["categoryBasis"] and denial["recommendationReason"]
    window = denial["p2pWindow"]
    assert window["deadline"] == deadline
    assert window["basis"].startswith(basis)
    assert window["source"] or window["routeSource"]
    assert (denial["reviewerRights"] or {}).get("citation") == rights
    assert denial["reviewerAsk"]  # with or without a rule, the script asks for the reviewer's specialty


def test_decision_time_is_shown_in_the_practice_zone(capsys: pytest.CaptureFixture[str]) -> None:
    (denial,) = _brief(capsys, str(DEMO / "lumbar-mri.json"), "--today", "2026-11-23")["denials"]
    assert denial["decidedOn"] == "2026-11-20T15:42:00-06:00"  # as the payer wrote it
    assert denial["decidedLocal"] == "2026-11-20 16:42 EST"  # as the practice (P2P_TIMEZONE) reads it


@pytest.mark.parametrize(
    ("name", "decision", "category", "recommendation"),
    [
        ("Bundle-RejectionResponseBundleExample.json", "denied", "unknown", "written-appeal"),
        (
            "Bundle-ReferralPendingAuthorizationResponseBundleExample.json",
            "pended",
            "unknown",
            "corrected-resubmission",
        ),
        ("ClaimResponse-ErrorResponseExample.json", "rejected", "administrative", "corrected-resubmission"),
        ("ClaimResponse-PractitionerRequestorAdditionalContentResponseExample.json", "approved", "unknown", "none"),
        ("Parameters-PASClaimInquiryOperationResponseExample.json", "approved", "unknown", "none"),
    ],
)
def test_pas_examples_triage(
    capsys: pytest.CaptureFixture[str], name: str, decision: str, category: str, recommendation: str
) -> None:
    (denial,) = _brief(capsys, str(FIXTURES / name), "--today", "2026-11-23")["denials"]
    assert (denial["decision"], denial["category"], denial["recommendation"]) == (decision, category, recommendation)
    assert denial["p2pWindow"]["basis"]


def test_bad_today_is_a_usage_error_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["brief", str(DEMO / "lumbar-mri.json"), "--today", "23/11/2026"]) == 1
    assert "--today '23/11/2026': expected YYYY-MM-DD" in capsys.readouterr().err


def test_bad_parts_are_specific_warnings_and_the_rest_still_renders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No Claim, an unknown payer, a future decision date, a contradictory disposition and a non-FHIR entry."""
    response = json.loads((FIXTURES / "Bundle-RejectionResponseBundleExample.json").read_text())
    claim_response = next(e["resource"] for e in response["entry"] if e["resource"]["resourceType"] == "ClaimResponse")
    claim_response["created"] = "2027-03-01T10:00:00-05:00"
    claim_response["disposition"] = "Granted"
    claim_response["request"] = {"reference": "Claim/not-here"}
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": claim_response}, {"resource": {"resourceType": "NotAType", "id": "x"}}, {"resource": 7}],
    }
    path = tmp_path / "messy.json"
    path.write_text(json.dumps(bundle))
    brief = _brief(capsys, str(path), "--today", "2026-11-23")
    warnings = "\n".join(brief["warnings"])
    assert "(Claim) for ClaimResponse/RejectionResponseExample is not in the chart" in warnings
    assert "Unknown payer (not named): the P2P window is a default." in warnings
    assert "is in the future" in warnings
    assert "says 'Granted' in its disposition but its review action says denied" in warnings
    assert "A record that is not a FHIR resource was skipped." in warnings
    assert "A record whose resourceType is not a FHIR R4 type was skipped." in warnings
    (denial,) = brief["denials"]
    assert denial["decision"] == "denied" and denial["p2pWindow"]["basis"]


@pytest.mark.parametrize(
    ("bundle", "policy", "result", "statuses"),
    [
        (
            "lumbar-mri.json",
            "lumbar-spine-mri",
            "meets",
            {"lbp-duration-6wk": "met", "lbp-conservative-6wk": "met", "lbp-red-flag": "not-documented"},
        ),
        (
            "ra-tnf.json",
            "tnf-inhibitor-ra",
            "meets",
            {"ra-diagnosis": "met", "ra-csdmard-trial": "met", "ra-tb-screen-12mo": "met"},
        ),
        (
            "knee-tka.json",
            "total-knee-arthroplasty",
            "incomplete",
            {
                "tka-oa-radiographic": "not-documented",
                "tka-nonoperative-3mo": "met",
                "tka-function-limiting-pain": "not-documented",
            },
        ),
        (
            "glp1-t2dm.json",
            "glp1-type2-diabetes",
            "meets",
            {"t2dm-diagnosis": "met", "t2dm-metformin-trial": "met", "t2dm-not-weight-loss-only": "met"},
        ),
    ],
)
def test_demo_patient_criteria(
    capsys: pytest.CaptureFixture[str], bundle: str, policy: str, result: str, statuses: dict[str, str]
) -> None:
    (denial,) = _brief(capsys, str(DEMO / bundle), "--today", "2026-11-23")["denials"]
    assert denial["policy"]["id"] == policy and denial["policy"]["source"].startswith("http")
    assert denial["policyResult"] == result
    assert {c["id"]: c["status"] for c in denial["criteria"]} == statuses
    for criterion in denial["criteria"]:
        if criterion["status"] == "met":  # met only with dated evidence to cite
            assert criterion["evidence"] and all(e["date"] and e["reference"] for e in criterion["evidence"])
    assert denial["guidelines"] or policy == "total-knee-arthroplasty"
    assert all(t["start"] for t in denial["priorTreatments"])


def test_pas_example_without_a_policy_gets_the_generic_outline(capsys: pytest.CaptureFixture[str]) -> None:
    (denial,) = _brief(capsys, str(FIXTURES / "Bundle-RejectionResponseBundleExample.json"))["denials"]
    assert denial["policy"] is None and denial["criteria"] == []
    assert denial["noPolicy"].startswith("No policy on file for")
    assert denial["genericOutline"]


@pytest.mark.parametrize("chosen", [(), ("--claim-response", "eob-pdex-shoulder-mri-1")])
def test_a_bundle_whose_denial_is_only_a_pdex_eob_is_briefed(capsys: pytest.CaptureFixture[str], chosen) -> None:
    brief = _brief(capsys, str(DEMO / "shoulder-eob.json"), "--today", "2026-11-23", *chosen)
    (denial,) = brief["denials"]
    assert denial["claimResponse"] == "ExplanationOfBenefit/pdex-shoulder-mri-1"
    assert denial["decision"] == "denied" and denial["preAuthRef"] == "A266120477"
    assert denial["service"]["code"] == "73221"
    carc = [c for c in denial["reason"]["codes"] if c["codeSet"] == "CARC"]
    assert [c["code"] for c in carc] == ["50"] and "medical necessity" in carc[0]["display"]
