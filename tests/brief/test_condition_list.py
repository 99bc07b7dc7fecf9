"""The brief's condition list shows what is true of the patient: a ruled-out or mistaken diagnosis is left out."""

from __future__ import annotations

from smart_app.brief.model import build_brief
from tests.criteria.chartkit import chart, condition

VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def _with(resource: dict, field: str, system: str, code: str) -> dict:
    resource[field] = {"coding": [{"system": system, "code": code}]}
    return resource


def test_refuted_and_entered_in_error_conditions_are_not_listed() -> None:
    confirmed = _with(condition("M54.16", "2026-08-01", text="Lumbar radiculopathy"), "clinicalStatus", CLINICAL_STATUS,
                      "active")  # fmt: skip
    refuted = _with(condition("G83.4", "2026-09-01", text="Cauda equina syndrome"), "verificationStatus", VER_STATUS,
                    "refuted")  # fmt: skip
    mistaken = _with(condition("C79.51", "2026-09-02", text="Bone metastasis"), "verificationStatus", VER_STATUS,
                     "entered-in-error")  # fmt: skip
    brief = build_brief(chart(confirmed, refuted, mistaken), [])
    assert [(c["name"], c["onset"], c["clinicalStatus"]) for c in brief["conditions"]] == [
        ("Lumbar radiculopathy", "2026-08-01", "active")
    ]


def test_a_status_given_only_in_words_or_with_an_empty_coding_is_read_without_failing() -> None:
    in_words = condition("M54.16", "2026-08-01", text="Lumbar radiculopathy")
    in_words["clinicalStatus"] = {"text": "resolved"}
    empty = condition("M51.26", "2026-07-01", text="Disc displacement")
    empty["clinicalStatus"] = {"coding": [], "text": "active"}
    brief = build_brief(chart(in_words, empty), [])
    assert [(c["name"], c["clinicalStatus"]) for c in brief["conditions"]] == [
        ("Lumbar radiculopathy", "resolved"),
        ("Disc displacement", "active"),
    ]
