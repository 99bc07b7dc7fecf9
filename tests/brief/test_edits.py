"""The practice's edits: checked, laid over the brief without touching a chart fact, and marked as theirs."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from smart_app.brief.edits import apply_edits, parse_edit

DENIAL = {
    "bottomLine": ["From the chart, one.", "Two.", "Three."],
    "guidelines": [{"citation": "Shipped citation.", "source": "https://example.org", "short": "Shipped"}],
    "criteria": [{"id": "c1", "text": "A criterion.", "status": "not-documented", "evidence": [], "note": None}],
}


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"kind": "nonsense", "text": "x"}, "kind"),
        ({"kind": "talking-point", "text": "  "}, "text"),
        ({"kind": "attestation", "text": "seen", "criterion": "c9"}, "criterion"),
        ({"kind": "guideline", "text": "A citation", "source": "javascript:alert(1)"}, "source"),
        ({"kind": "talking-point", "text": "x" * 1201}, "text"),
    ],
)
def test_bad_edit_forms(form: dict[str, str], field: str) -> None:
    edit, errors = parse_edit(form, {"c1"})
    assert edit is None and field in errors


def test_edits_are_laid_over_the_brief_and_marked() -> None:
    forms = [
        {"kind": "bottom-line", "text": "Line A\nLine B"},
        {"kind": "guideline", "text": "Added citation 2024.", "source": "https://example.org/g"},
        {"kind": "attestation", "criterion": "c1", "text": "Red flags reviewed on exam 11/16: none."},
        {"kind": "talking-point", "text": "Mention the failed PT."},
    ]
    edits = []
    for form in forms:
        parsed, errors = parse_edit(form, {"c1"})
        assert parsed and not errors
        edits.append(
            {"kind": parsed[0], "payload": parsed[1], "author": "Practitioner/liaison-7", "at": "2026-11-23T10:05"}
        )
    edited = apply_edits(DENIAL, edits)
    assert edited["bottomLine"] == ["Line A", "Line B"]
    assert edited["bottomLineFromChart"] == DENIAL["bottomLine"]  # the app's version is kept beside it
    assert edited["bottomLineBy"] == "edited by Practitioner/liaison-7, 2026-11-23 10:05 UTC"
    assert edited["guidelines"][1]["addedBy"] == "added by the practice (Practitioner/liaison-7, 2026-11-23 10:05 UTC)"
    criterion = edited["criteria"][0]
    assert criterion["status"] == "not-documented"  # an attestation is never chart evidence
    assert criterion["attested"].startswith("confirmed by Practitioner/liaison-7, 2026-11-23 10:05 UTC: Red flags")
    assert edited["talkingPoints"] == [
        {"text": "Mention the failed PT.", "by": "Practitioner/liaison-7, 2026-11-23 10:05 UTC"}
    ]
    local = apply_edits(DENIAL, edits, ZoneInfo("America/Chicago"))
    assert local["bottomLineBy"] == "edited by Practitioner/liaison-7, 2026-11-23 04:05 CST"  # the practice's clock
    assert DENIAL["criteria"][0].get("attested") is None  # the input is not changed
