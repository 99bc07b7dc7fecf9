"""What the physician reads names nothing of ours: no issue number, test or source file, in the brief, its printed
page or the call script, for every demo chart."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from smart_app.brief.render import render_print_html, render_script_html
from smart_app.brief.script import span_in_words
from smart_app.cli import brief_clock, brief_from_bundle
from smart_app.content import content_dir
from smart_app.fhir.quantities import quantity_words

DEMO = content_dir("fhir") / "demo"
OURS = re.compile(r"issue #?\d|p2p-brief issue|\btests?/|\w+\.py\b|\bpytest\b", re.IGNORECASE)


@pytest.mark.parametrize("bundle", ["lumbar-mri.json", "ra-tnf.json", "knee-tka.json", "glp1-t2dm.json"])
def test_nothing_a_user_reads_names_an_issue_a_test_or_a_file(bundle: str) -> None:
    brief = brief_from_bundle(DEMO / bundle, clock=brief_clock("2026-11-23", "America/New_York"))
    brief["asOf"] = "2026-11-23 09:00"
    for shown in (json.dumps(brief, ensure_ascii=False), render_print_html(brief), render_script_html(brief)):
        assert OURS.findall(shown) == []


def test_a_reason_code_without_words_says_where_its_words_are() -> None:
    brief = brief_from_bundle(DEMO / "ra-tnf.json", clock=brief_clock("2026-11-23", "America/New_York"))
    brief["asOf"] = "2026-11-23 09:00"
    (denial,) = brief["denials"]
    assert {"code": "0J", "display": None, "codeSet": "X12 886"}.items() <= denial["reason"]["codes"][1].items()
    printed = " ".join(render_print_html(brief).split())
    assert "A3 Not Certified · 0J (X12 886: words on the letter)" in printed


@pytest.mark.parametrize(
    ("since", "until", "words"),
    [
        ("2023-05-20", "2026-11-20", "3 years 6 months"),  # was "183 weeks"
        ("2025-11-20", "2026-11-20", "1 year"),
        ("2025-11-21", "2026-11-20", "11 months"),
        ("2026-06-30", "2026-09-29", "2 months"),
        ("2026-09-01", "2026-10-30", "8 weeks"),
        ("2026-11-06", "2026-11-20", "2 weeks"),
        ("2026-11-19", "2026-11-20", "1 day"),
        ("2024-02-29", "2025-02-28", "11 months"),
    ],
)
def test_spans_read_as_a_person_says_them(since: str, until: str, words: str) -> None:
    assert span_in_words(date.fromisoformat(since), date.fromisoformat(until)) == words


@pytest.mark.parametrize(
    ("value", "unit", "name", "words"),
    [
        (8, "{score}", "Pain severity - 0-10 verbal numeric rating [Score] - Reported", "8 on a 0–10 scale"),
        (42, "{score}", "KOOS, JR. interval score (0–100)", "42 (score)"),
        (130, "mm[Hg]", "Systolic blood pressure", "130 mmHg"),
        (36.4, "kg/m2", "Body mass index", "36.4 kg/m2"),
        (7.9, "%", "Hemoglobin A1c", "7.9 %"),
        (3, None, "Swollen joint count", "3"),
    ],
)
def test_a_measured_value_reads_as_a_person_says_it(value: float, unit: str | None, name: str, words: str) -> None:
    assert quantity_words(value, unit, name) == words


def test_the_knee_brief_says_the_pain_scale_not_the_ucum_annotation() -> None:
    brief = brief_from_bundle(DEMO / "knee-tka.json", clock=brief_clock("2026-11-23", "America/New_York"))
    shown = json.dumps(brief, ensure_ascii=False)
    assert "{score}" not in shown
    assert "Reported 8 on a 0–10 scale, 2026-11-04" in shown


def test_another_payers_policy_is_named_as_a_stand_in() -> None:
    brief = brief_from_bundle(DEMO / "lumbar-mri.json", clock=brief_clock("2026-11-23", "America/New_York"))
    brief["asOf"] = "2026-11-23 09:00"
    (denial,) = brief["denials"]
    assert denial["payer"]["name"] == "UnitedHealthcare" and "Aetna" in denial["policy"]["publisher"]
    assert denial["policy"]["standIn"].startswith("UnitedHealthcare's own policy for this service is not on file.")
    assert "Aetna (Clinical Policy Bulletin 0236)" in denial["policy"]["standIn"]
    printed = " ".join(render_print_html(brief).split())
    assert "Stand-in criteria (not UnitedHealthcare's own)" in printed and "3 · Payer criteria" not in printed


def test_text_is_cut_at_a_word_and_only_when_the_page_needs_the_room() -> None:
    brief = brief_from_bundle(DEMO / "lumbar-mri.json", clock=brief_clock("2026-11-23", "America/New_York"))
    brief["asOf"] = "2026-11-23 09:00"
    tried = brief["denials"][0]["bottomLine"][1]
    assert "persistent left leg symptoms with prolonged sitting)" in tried and "…" not in tried  # was "with prolo…"
    whole = " ".join(render_print_html(brief, level=0).split())  # level 0: the page has room, nothing is cut
    doses = [t["dose"] for t in brief["denials"][0]["priorTreatments"] if t.get("dose") and len(t["dose"]) > 50]
    assert doses and all(dose in whole for dose in doses)
    assert brief["denials"][0]["p2pWindow"]["schedule"]["text"] in whole


def test_evidence_reads_as_a_sentence_without_doubled_stops() -> None:
    brief = brief_from_bundle(DEMO / "ra-tnf.json", clock=brief_clock("2026-11-23", "America/New_York"))
    said = [e["summary"] for c in brief["denials"][0]["criteria"] for e in c["evidence"]]
    assert said and not [s for s in said if ".)" in s], said  # was "(Escalated … 20 mg weekly.)."
    assert brief["denials"][0]["bottomLine"][0].startswith(
        "Seropositive rheumatoid arthritis, polyarticular, documented"
    )
