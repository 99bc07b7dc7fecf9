"""Da Vinci CRD coverage-information on the order: the brief links the policy section the payer named when the
order was placed, and the letter of medical necessity cites it with its assertion id."""

from __future__ import annotations

import copy
import json
from datetime import date, time
from typing import Any

from smart_app.brief.render import render_print_html
from smart_app.cli import brief_clock, brief_from_bundle
from smart_app.content import content_dir
from smart_app.denials.coverage_info import COVERAGE_INFORMATION, assertions_on, coverage_assertions
from smart_app.denials.pas import read_denial
from smart_app.fhir.chart import chart_from_bundle
from smart_app.outcome.call_note import CallRecord
from smart_app.outcome.letter import letter_of_medical_necessity

KNEE = content_dir("fhir") / "demo" / "knee-tka.json"
POLICY_URL = "https://docslib.org/doc/10502429/total-knee-arthroplasty"
CLOCK = ("2026-11-23", "America/New_York")


def _knee_bundle() -> dict[str, Any]:
    return json.loads(KNEE.read_text())


def _order(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest")


def _claim(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Claim")


def _denial_and_chart(bundle: dict[str, Any]) -> tuple[Any, Any]:
    chart = chart_from_bundle(bundle)
    (response,) = chart.of_type("ClaimResponse")
    return read_denial(response, lambda ref: chart.resolve(ref, container=response)), chart


def test_the_knee_brief_links_the_policy_section_the_payer_named_at_ordering() -> None:
    brief = brief_from_bundle(KNEE, clock=brief_clock(*CLOCK))
    (assertion,) = brief["denials"][0]["coverageAssertions"]
    assert assertion["order"] == "ServiceRequest/sr-knee-tka"
    assert assertion["assertionId"] == "CRD-HUM-2611-0447" and assertion["date"] == "2026-11-04"
    assert assertion["paNeededText"] == "prior authorization needed"
    assert assertion["policyLinks"] == [
        {"url": POLICY_URL, "note": "Clinical Policy: Total Knee Arthroplasty (PA.CP.MP.OR.1002)"}
    ]
    printed = " ".join(render_print_html(brief).split())
    assert "Policy the payer named at ordering (CRD assertion CRD-HUM-2611-0447): Clinical Policy" in printed
    assert POLICY_URL in printed


def test_the_letter_of_medical_necessity_cites_the_payer_named_policy_with_its_assertion() -> None:
    brief = brief_from_bundle(KNEE, clock=brief_clock(*CLOCK))
    record = CallRecord(
        call_date=date(2026, 11, 21),
        start_time=time(10, 5),
        end_time=time(10, 19),
        reviewer_name="Dr. Dana Whitfield",
        reviewer_credentials="MD",
        reviewer_specialty="Family Medicine",
        disposition="upheld",
    )
    letter = letter_of_medical_necessity(brief, record, today=date(2026, 11, 23))
    text = " ".join(letter.text().split())
    assert (
        "When this order was placed, Humana named the policy that applies (coverage assertion CRD-HUM-2611-0447, "
        f"2026-11-04): Clinical Policy: Total Knee Arthroplasty (PA.CP.MP.OR.1002): {POLICY_URL}." in text
    )


def test_an_order_the_claim_does_not_name_is_found_by_the_denied_service_code() -> None:
    bundle = _knee_bundle()
    for item in _claim(bundle)["item"]:
        item["extension"] = [e for e in item["extension"] if not e["url"].endswith("requestedService")]
    denial, chart = _denial_and_chart(bundle)
    assert [a.assertion_id for a in coverage_assertions(denial, chart)] == ["CRD-HUM-2611-0447"]


def test_an_order_for_another_service_lends_the_denial_nothing() -> None:
    bundle = _knee_bundle()
    for item in _claim(bundle)["item"]:
        item["extension"] = [e for e in item["extension"] if not e["url"].endswith("requestedService")]
    _order(bundle)["code"]["coding"][0]["code"] = "29881"  # knee arthroscopy: not what was denied
    denial, chart = _denial_and_chart(bundle)
    assert coverage_assertions(denial, chart) == []


def test_only_web_links_are_offered_and_an_assertion_without_a_link_keeps_its_trace() -> None:
    order = copy.deepcopy(_order(_knee_bundle()))
    ext = next(e for e in order["extension"] if e["url"] == COVERAGE_INFORMATION)
    detail = next(s for s in ext["extension"] if s["url"] == "detail")
    value = next(s for s in detail["extension"] if s["url"] == "value")
    value["valueUrl"] = "javascript:alert(1)"
    (assertion,) = assertions_on(order)
    assert assertion.policy_links == () and assertion.assertion_id == "CRD-HUM-2611-0447"
    assert assertion.reasons == (
        "Total knee arthroplasty needs prior authorization; send the radiology report and the record of conservative "
        "care",
    )


def test_an_order_without_the_extension_has_no_assertion() -> None:
    order = copy.deepcopy(_order(_knee_bundle()))
    order["extension"] = []
    assert assertions_on(order) == []
