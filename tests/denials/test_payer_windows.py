"""Payer recognition and the P2P window: every window in payers.yaml across a weekend, Thanksgiving and New
Year's Day, delegation (the stricter window wins), plan-type defaults, and routes a P2P cannot take."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import chart_of, claim, claim_response, coverage, organization

from smart_app.denials import payers as payers_module
from smart_app.denials.assess import Clock, assess
from smart_app.denials.deadlines import WindowRule, p2p_deadline
from smart_app.denials.pas import read_denial
from smart_app.denials.payers import recognise
from smart_app.rule_files import rule_file

ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)
ANCHORS = {  # decision times: a Friday before a weekend, the day before Thanksgiving, the day before New Year's Eve
    "weekend": datetime(2026, 11, 13, 10, 0, tzinfo=ZONE),
    "thanksgiving": datetime(2026, 11, 25, 10, 0, tzinfo=ZONE),
    "new-year": datetime(2026, 12, 30, 10, 0, tzinfo=ZONE),
}
# Counted by hand on a calendar (Thanksgiving 2026-11-26 and New Year's Day 2027-01-01 are federal holidays).
EXPECTED: dict[tuple[int, str], dict[str, Any]] = {
    (1, "business-days"): {
        "weekend": date(2026, 11, 16),
        "thanksgiving": date(2026, 11, 27),
        "new-year": date(2026, 12, 31),
    },
    (3, "business-days"): {
        "weekend": date(2026, 11, 18),
        "thanksgiving": date(2026, 12, 1),
        "new-year": date(2027, 1, 5),
    },
    (5, "business-days"): {
        "weekend": date(2026, 11, 20),
        "thanksgiving": date(2026, 12, 3),
        "new-year": date(2027, 1, 7),
    },
    (7, "calendar-days"): {
        "weekend": date(2026, 11, 20),
        "thanksgiving": date(2026, 12, 2),
        "new-year": date(2027, 1, 6),
    },
    (14, "calendar-days"): {
        "weekend": date(2026, 11, 27),
        "thanksgiving": date(2026, 12, 9),
        "new-year": date(2027, 1, 13),
    },
    (15, "calendar-days"): {
        "weekend": date(2026, 11, 28),
        "thanksgiving": date(2026, 12, 10),
        "new-year": date(2027, 1, 14),
    },
    (21, "calendar-days"): {
        "weekend": date(2026, 12, 4),
        "thanksgiving": date(2026, 12, 16),
        "new-year": date(2027, 1, 20),
    },
    (72, "hours"): {
        "weekend": datetime(2026, 11, 16, 10, 0, tzinfo=ZONE),
        "thanksgiving": datetime(2026, 11, 28, 10, 0, tzinfo=ZONE),
        "new-year": datetime(2027, 1, 2, 10, 0, tzinfo=ZONE),
    },
}


def _every_window() -> list[tuple[str, dict[str, Any]]]:
    data = rule_file("payers")
    found = [("fallback", data["fallback"]["window"])]
    for key, plan in data["planTypes"].items():
        found.append((f"default {key}", plan["default"]["window"]))
    for payer in data["payers"]:
        for facts_name, facts in [("p2p", payer["p2p"]), *payer.get("byPlanType", {}).items()]:
            if "window" in facts:
                found.append((f"{payer['key']} {facts_name}", facts["window"]))
            for setting, window in facts.get("windowBySetting", {}).items():
                found.append((f"{payer['key']} {setting}", window))
    return found


@pytest.mark.parametrize(("owner", "window"), _every_window(), ids=[o for o, _ in _every_window()])
@pytest.mark.parametrize("anchor", sorted(ANCHORS))
def test_every_payer_window_across_weekend_thanksgiving_and_new_year(owner: str, window: dict, anchor: str) -> None:
    expected = EXPECTED[(window["amount"], window["unit"])][anchor]
    closes = p2p_deadline(ANCHORS[anchor], WindowRule(window["amount"], window["unit"]), ZONE).closes_at
    if isinstance(expected, datetime):
        assert closes == expected
    else:
        assert (closes.date(), closes.hour, closes.minute) == (expected, 23, 59)


def _assess(*resources: dict[str, Any], response: dict[str, Any], state: str | None = "IL") -> dict[str, Any]:
    chart = chart_of(*resources, response, state=state)
    return assess(read_denial(response, chart.resolve), chart.patient, Clock(ZONE, NOW), None)


def test_evicore_delegated_cigna_denial_takes_the_stricter_window() -> None:
    response = claim_response(note="No documentation of 6 weeks of conservative treatment.")
    result = _assess(
        claim(),
        organization("payer", "eviCore healthcare"),
        organization("cigna", "Cigna Healthcare"),
        coverage("Organization/cigna", "512"),
        response=response,
    )
    window = result["p2pWindow"]
    assert result["payer"]["key"] == "cigna" and result["payer"]["delegate"] == "eviCore healthcare"
    assert window["deadline"] == "2026-11-23T15:42:00-06:00"  # 72 hours from Fri 15:42, not Cigna's 3 business days
    assert window["basis"].startswith("eviCore healthcare (reviewing for Cigna Healthcare): 72 hours")
    assert "Stricter than Cigna Healthcare: 3 business days" in window["basis"]
    assert "educational only" in window["considers"]["text"]
    assert "portal" in window["schedule"]["text"]
    assert window["urgent"] is True  # under 24 hours left at 09:00 on Monday


def test_cigna_imaging_reviewed_directly_still_names_the_evicore_route() -> None:
    response = claim_response(note="Not medically necessary.")
    result = _assess(claim(), organization("payer", "Cigna"), coverage("Organization/payer", "512"), response=response)
    assert result["payer"]["delegate"] == "eviCore healthcare"
    assert any("delegates review of this service to eviCore" in n for n in result["p2pWindow"]["notes"])
    assert len(result["p2pWindow"]["candidates"]) == 2


@pytest.mark.parametrize(
    ("sopt", "plan_type", "amount"),
    [
        ("111", "medicare-advantage", "1 business days"),
        ("21", "medicaid-managed-care", "3 business days"),
        ("512", "commercial", "3 business days"),
        ("522", "self-funded", "3 business days"),
        (None, None, "1 business days"),
    ],
)
def test_unknown_payer_falls_back_to_its_plan_type_default(
    sopt: str | None, plan_type: str | None, amount: str
) -> None:
    response = claim_response(note="No documentation of conservative treatment.")
    result = _assess(
        claim(), organization("payer", "Acme Regional Health"), coverage("Organization/payer", sopt), response=response
    )
    window = result["p2pWindow"]
    assert result["payer"]["key"] is None and result["planType"] == plan_type
    assert amount in window["basis"]
    assert "verify with the payer" in window["statusText"]
    assert any("not in criteria/payers.yaml" in n for n in window["notes"])
    if plan_type == "medicare-advantage":  # the sourced default: no P2P can change an MA decision once made
        assert window["closed"] and result["recommendation"] == "written-appeal"


def test_marketplace_plan_is_recognised_from_words() -> None:
    cov = coverage("Organization/payer", None)
    cov["class"] = [{"type": {"text": "plan"}, "value": "x", "name": "Silver Marketplace Plan"}]
    response = claim_response(note="Not medically necessary.")
    result = _assess(claim(), organization("payer", "Acme"), cov, response=response)
    assert result["planType"] == "marketplace"


def test_humana_medicare_advantage_has_no_p2p_after_denial_but_one_before_the_decision() -> None:
    payer, cov = organization("payer", "Humana"), coverage("Organization/payer", "111")
    denied = _assess(claim("27447"), payer, cov, response=claim_response(note="Criteria not met."), state="FL")
    assert denied["recommendation"] == "written-appeal"
    assert "only before a medical-necessity denial" in denied["recommendationReason"]
    assert "humana.com" in denied["p2pWindow"]["routeSource"]
    pended = _assess(
        claim("27447"), payer, cov, response=claim_response("A4", note="Pended for medical review."), state="FL"
    )
    assert pended["recommendation"] == "peer-to-peer" and "ask for the P2P now" in pended["recommendationReason"]


def test_uhc_inpatient_and_outpatient_windows_differ() -> None:
    payer, cov = organization("payer", "UnitedHealthcare"), coverage("Organization/payer", "512")
    note = "No documentation of conservative treatment."
    outpatient = _assess(claim(), payer, cov, response=claim_response(note=note))["p2pWindow"]
    inpatient = _assess(claim(place="21"), payer, cov, response=claim_response(note=note))["p2pWindow"]
    assert outpatient["deadline"].startswith("2026-12-11") and "(outpatient): 21 calendar days" in outpatient["basis"]
    assert inpatient["deadline"].startswith("2026-11-25") and "(inpatient): 3 business days" in inpatient["basis"]
    assert outpatient["status"] == "published" and outpatient["verify"] is False
    assert "uhcprovider.com" in outpatient["source"]


def test_a_past_window_is_closed_and_a_future_decision_date_is_a_warning() -> None:
    payer, cov = organization("payer", "UnitedHealthcare"), coverage("Organization/payer", "512")
    old = _assess(
        claim(),
        payer,
        cov,
        response=claim_response(note="Not medically necessary.", created="2026-10-01T10:00:00-05:00"),
    )
    assert old["p2pWindow"]["closed"] and old["p2pWindow"]["timeLeft"] == "closed"
    future = _assess(
        claim(),
        payer,
        cov,
        response=claim_response(note="Not medically necessary.", created="2026-12-01T10:00:00-06:00"),
    )
    assert any("is in the future" in w for w in future["warnings"])


def test_bluecard_routing_note() -> None:
    response = claim_response(note="Not medically necessary.")
    result = _assess(
        claim(),
        organization("payer", "Blue Cross Blue Shield of Texas"),
        coverage("Organization/payer", "6"),
        response=response,
    )
    assert result["payer"]["key"] == "bcbs"
    assert "Home plan" in result["p2pWindow"]["routing"]["text"]
    assert "72 hours" in result["p2pWindow"]["basis"]


def test_payer_recognised_by_payer_id_before_name(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [
        {
            "key": "a",
            "name": "Plan A",
            "kind": "payer",
            "match": {"names": ["Alpha"], "payerIds": ["11111"]},
            "p2p": {},
        },
        {"key": "b", "name": "Plan B", "kind": "payer", "match": {"names": ["Beta"], "payerIds": []}, "p2p": {}},
    ]
    monkeypatch.setattr(payers_module, "payers", lambda: entries)
    found = recognise(organization("x", "Beta Health", payer_id="11111"))
    assert found and found.key == "a" and found.matched_by == "payer ID 11111"
    assert recognise(organization("y", "Betamax Insurance")) is None  # whole words only


def test_every_source_id_and_delegate_in_payers_yaml_exists() -> None:
    data = rule_file("payers")

    def refs(value: Any) -> list[str]:
        if isinstance(value, dict):
            own = [v for k, v in value.items() if k in ("source", "offeredSource") and isinstance(v, str)]
            return own + [r for v in value.values() for r in refs(v)]
        if isinstance(value, list):
            return [r for v in value for r in refs(v)]
        return []

    used = set(refs({k: v for k, v in data.items() if k != "sources"}))
    assert used <= set(data["sources"])
    keys = {p["key"] for p in data["payers"]}
    groups = set(data["serviceGroups"])
    for payer in data["payers"]:
        for delegation in payer.get("delegations", []):
            assert delegation["to"] in keys and set(delegation["services"]) <= groups
    for source in data["sources"].values():
        assert source["url"] or source["title"].startswith(
            ("Windows the practice", "No rule on file", "The app's advice")
        )


def test_state_specific_routing_shows_only_in_its_state() -> None:
    payer, cov = organization("payer", "UnitedHealthcare"), coverage("Organization/payer", "512")
    note = "No documentation of conservative treatment."
    assert _assess(claim(), payer, cov, response=claim_response(note=note), state="IL")["p2pWindow"]["routing"] is None
    minnesota = _assess(claim(), payer, cov, response=claim_response(note=note), state="MN")["p2pWindow"]["routing"]
    assert minnesota and "Minnesota participating hospitals" in minnesota["text"]


def test_a_delegate_cannot_open_a_route_the_plan_closes() -> None:
    """eviCore reviewing for a UHC Medicare Advantage member: UHC's MA rule (no P2P after the decision) holds."""
    result = _assess(
        claim(),
        organization("payer", "eviCore healthcare"),
        organization("uhc", "UnitedHealthcare"),
        coverage("Organization/uhc", "111"),
        response=claim_response(note="Not medically necessary."),
    )
    assert result["p2pWindow"]["route"] == "closed"
    assert result["recommendation"] == "written-appeal"


def test_unknown_setting_takes_the_earliest_of_the_setting_windows() -> None:
    payer, cov = organization("payer", "UnitedHealthcare"), coverage("Organization/payer", "512")
    no_place = claim()
    del no_place["item"][0]["locationCodeableConcept"]
    window = _assess(no_place, payer, cov, response=claim_response(note="Not medically necessary."))["p2pWindow"]
    assert window["deadline"].startswith("2026-11-25")  # inpatient 3 business days beat outpatient 21 days
    assert "(inpatient)" in window["basis"] and "Stricter than" in window["basis"]


@pytest.mark.parametrize("name", ["BlueCross BlueShield of Tennessee", "Anthem Blue Cross", "Highmark Inc."])
def test_blue_plans_are_recognised_by_their_real_names(name: str) -> None:
    found = recognise(organization("x", name))
    assert found is not None and found.key == "bcbs"


def test_a_decision_date_without_a_time_starts_the_clock_at_midnight_where_the_practice_is() -> None:
    payer, cov = organization("payer", "UnitedHealthcare"), coverage("Organization/payer", "512")
    window = _assess(
        claim(), payer, cov, response=claim_response(note="Not medically necessary.", created="2026-11-20")
    )["p2pWindow"]
    assert window["deadline"] == "2026-12-11T23:59:59-06:00"
    assert any("date but no time" in n for n in window["notes"])


def test_hours_are_elapsed_hours_across_the_end_of_daylight_saving() -> None:
    decided = datetime(2026, 10, 31, 12, 0, tzinfo=ZONE)  # DST ends 2026-11-01 at 02:00 in Chicago
    closes = p2p_deadline(decided, WindowRule(72, "hours"), ZONE).closes_at
    assert closes.timestamp() - decided.timestamp() == 72 * 3600
    assert (closes.hour, closes.day) == (11, 3)  # 11:00 on the wall clock: one hour fell back
