"""Property-based tests: malformed and adversarial FHIR (wrong types, missing required elements, huge strings, deep
nesting, unknown resource types, references that loop) fed to chart parsing, the denial reader and the criteria
engine. Never an exception; what is left out is said in a warning; and the clinical-safety rule holds whatever the
input: a criterion reads "met" only with a dated fact from the chart.

Bounded for CI: each property runs a fixed number of examples (``P2P_HYPOTHESIS_EXAMPLES``, default 60).
"""

from __future__ import annotations

import copy
import json
import os
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smart_app.brief.model import build_brief
from smart_app.content import content_dir
from smart_app.denials.assess import Clock
from smart_app.denials.pas import open_denials, prior_auth_answers
from smart_app.fhir.chart import as_collection, build_chart, chart_from_bundle
from smart_app.fhir.facts import conditions, treatments_in_date_order

EXAMPLES = int(os.environ.get("P2P_HYPOTHESIS_EXAMPLES", "60"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written to the checkout; a failure prints its seed to reproduce
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
ZONE = ZoneInfo("America/New_York")
CLOCK = Clock(ZONE, datetime(2026, 11, 23, 9, 0, tzinfo=ZONE))
CHARTS = {
    slug: [e["resource"] for e in json.loads((content_dir("fhir") / "demo" / f"{slug}.json").read_text())["entry"]]
    for slug in ("lumbar-mri", "ra-tnf", "knee-tka", "glp1-t2dm")
}
FHIR_KEYS = ("resourceType", "id", "status", "code", "subject", "patient", "request", "reference", "coding",
             "system", "display", "text", "item", "adjudication", "extension", "url", "valueCodeableConcept",
             "onsetDateTime", "effectiveDateTime", "created", "insurance", "coverage", "provider", "valueQuantity",
             "value", "performedPeriod", "start", "end", "medicationCodeableConcept", "contained")  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "2026-11-20",
            "2026-13-45",
            "not a date",
            "",
            "Patient/pat-lumbar-mri",
            "#x",
            "urn:uuid:1",
            "ClaimResponse/cr-lumbar-mri-1",
            "A3",
            "72148",
            "http://loinc.org",
        ]
    ),  # fmt: skip
    st.tuples(st.sampled_from("x\u00e9<&\x00 \U0001f600"), st.integers(10_000, 100_000)).map(lambda t: t[0] * t[1]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FHIR_KEYS), st.text(max_size=12)), inner, max_size=5),
    ),
    max_leaves=25,
)


def _deep(depth: int) -> Any:
    value: Any = {"reference": "Patient/pat-lumbar-mri"}
    for _ in range(depth):
        value = {"extension": [{"url": "x", "valueReference": value}]}
    return value


@st.composite
def mutated_chart(draw: st.DrawFn) -> list[Any]:
    """A real demo chart with some resources broken in one of the ways real feeds break them."""
    chart = copy.deepcopy(CHARTS[draw(st.sampled_from(sorted(CHARTS)))])
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        index = draw(st.integers(min_value=0, max_value=len(chart) - 1))
        target = chart[index]
        how = draw(st.sampled_from(["replace", "drop", "wrong-type", "unknown-type", "loop", "deep", "not-a-dict",
                                    "duplicate", "huge"]))  # fmt: skip
        keys = sorted(k for k in target if k != "resourceType") if isinstance(target, dict) else []
        if how == "replace" and keys:
            target[draw(st.sampled_from(keys))] = draw(json_values)
        elif how == "drop" and keys:
            target.pop(draw(st.sampled_from(keys)))
        elif how == "wrong-type" and keys:
            key = draw(st.sampled_from(keys))
            target[key] = [target[key]] if not isinstance(target[key], list) else {"0": target[key]}
        elif how == "unknown-type" and isinstance(target, dict):
            target["resourceType"] = draw(st.sampled_from(["Spaceship", "claimresponse", "", "Basic", 7]))
        elif how == "loop" and isinstance(target, dict):
            # A reference that points back at itself or round a cycle (Claim -> ClaimResponse -> Claim ...).
            own = f"{target.get('resourceType')}/{target.get('id')}"
            for key in ("request", "related", "practitioner", "coverage", "patient", "subject", "partOf"):
                target[key] = {"reference": own}
        elif how == "deep" and isinstance(target, dict):
            target["extension"] = [{"url": "x", "valueReference": _deep(draw(st.integers(50, 400)))}]
        elif how == "not-a-dict":
            chart[index] = draw(json_values)
        elif how == "duplicate" and isinstance(target, dict):
            twin = dict(target)  # shallow: a deep-nested twin would overflow copy.deepcopy in the test itself
            if keys:
                twin[draw(st.sampled_from(keys))] = draw(json_values)
            chart.append(twin)
        elif how == "huge" and isinstance(target, dict):
            target["text"] = {"status": "generated", "div": "<div>" + "x" * 200_000 + "</div>"}
    return chart


def _pipeline(resources: list[Any]) -> tuple[Any, list[Any], dict[str, Any]]:
    chart = build_chart(resources)
    answers = prior_auth_answers(chart.of_type("ClaimResponse"), chart.resolve)
    denials = open_denials(chart.of_type("ClaimResponse"), chart.resolve)
    assert len(denials) <= len(answers)
    brief = build_brief(chart, denials, clock=CLOCK)
    json.dumps(brief)  # the brief is plain data: it serializes whatever came in
    return chart, denials, brief


def _assert_safe(brief: dict[str, Any]) -> None:
    for denial in brief["denials"]:
        for criterion in denial.get("criteria") or []:
            if criterion["status"] == "met":
                assert criterion["evidence"], criterion["id"]
                assert all(e.get("reference") and e.get("date") for e in criterion["evidence"]), criterion


@BOUNDED
@given(mutated_chart())
def test_a_broken_chart_never_raises_and_says_what_it_left_out(resources: list[Any]) -> None:
    chart, _, brief = _pipeline(resources)
    dropped = [r for r in resources if not isinstance(r, dict) or f"{r.get('resourceType')}/{r.get('id')}"
               not in chart.index]  # fmt: skip
    if any(not isinstance(r, dict) or not isinstance(r.get("resourceType"), str) for r in dropped):
        assert chart.warnings  # a record that is not a FHIR resource is named as skipped
    _assert_safe(brief)
    conditions(chart)
    treatments_in_date_order(chart)


@BOUNDED
@given(st.lists(json_values, max_size=8))
def test_arbitrary_json_as_a_chart_never_raises(resources: list[Any]) -> None:
    chart, denials, brief = _pipeline(resources)
    assert denials == [] or brief["denials"]
    if any(not isinstance(r, dict) for r in resources):
        assert chart.warnings


@BOUNDED
@given(json_values)
def test_any_json_document_as_a_bundle_never_raises(document: Any) -> None:
    if not isinstance(document, dict):
        document = {"resourceType": "Bundle", "entry": document}
    chart = chart_from_bundle(as_collection(document))
    prior_auth_answers(chart.of_type("ClaimResponse"), chart.resolve)


@BOUNDED
@given(st.integers(min_value=1, max_value=3), st.data())
def test_claim_responses_whose_references_loop_are_read_once(cycle: int, data: st.DataObject) -> None:
    """ClaimResponse -> Claim -> (related) Claim -> ... -> the first Claim, and a ClaimResponse that is its own
    request: the reader resolves each link once and never spins."""
    chart = copy.deepcopy(CHARTS["lumbar-mri"])
    response = next(r for r in chart if r["id"] == "cr-lumbar-mri-1")
    claim = next(r for r in chart if r["id"] == "claim-lumbar-mri-1")
    claims = [claim] + [dict(copy.deepcopy(claim), id=f"claim-loop-{n}") for n in range(cycle)]
    for n, item in enumerate(claims):
        item["related"] = [{"claim": {"reference": f"Claim/{claims[(n + 1) % len(claims)]['id']}"}}]
        item["prescription"] = {"reference": f"Claim/{claims[(n + 1) % len(claims)]['id']}"}
    if data.draw(st.booleans()):
        response["request"] = {"reference": "ClaimResponse/cr-lumbar-mri-1"}
    _, denials, brief = _pipeline(chart + claims[1:])
    _assert_safe(brief)
    assert len(denials) <= 1
