"""A chart built for one patient keeps only that patient's records, whatever form the reference to them takes."""

from __future__ import annotations

from typing import Any

import pytest

from smart_app.fhir.chart import build_chart, record_owner

ME = "pat-1"


def _condition(subject: Any, rid: str = "c1") -> dict[str, Any]:
    condition: dict[str, Any] = {"resourceType": "Condition", "id": rid, "code": {"text": "Low back pain"}}
    if subject is not None:
        condition["subject"] = subject
    return condition


@pytest.mark.parametrize(
    ("resource", "owner"),
    [
        (_condition({"reference": "Patient/pat-2"}), "Patient/pat-2"),
        (_condition({"reference": "https://ehr.example/fhir/Patient/pat-2/_history/3"}), "Patient/pat-2"),
        (_condition({"reference": "#p"}), None),  # contained: nothing to compare
        (_condition({"identifier": {"system": "urn:mrn", "value": "9"}}), None),  # logical only
        ({"resourceType": "Claim", "id": "cl", "patient": {"reference": "Patient/pat-1"}}, "Patient/pat-1"),
        (
            {
                "resourceType": "Coverage",
                "id": "cv",
                "beneficiary": {"reference": "Patient/pat-3"},
                "subscriber": {"reference": "Patient/parent"},
            },
            "Patient/pat-3",
        ),  # fmt: skip
        ({"resourceType": "Patient", "id": "pat-9"}, "Patient/pat-9"),
        ({"resourceType": "Practitioner", "id": "dr"}, None),
    ],
)
def test_record_owner(resource: dict[str, Any], owner: str | None) -> None:
    assert record_owner(resource) == owner


def test_another_patients_records_are_left_out_and_named_by_reference_only() -> None:
    chart = build_chart(
        [
            {"resourceType": "Patient", "id": ME},
            {"resourceType": "Patient", "id": "pat-2", "name": [{"family": "Otherperson"}]},
            _condition({"reference": f"Patient/{ME}"}, "mine"),
            _condition({"reference": "Patient/pat-2"}, "theirs"),
            _condition({"reference": "urn:uuid:abc"}, "by-full-url"),
        ],
        patient_id=ME,
        full_urls={"urn:uuid:abc": "Patient/pat-2"},
    )
    assert [c["id"] for c in chart.of_type("Condition")] == ["mine"]
    assert [p["id"] for p in chart.of_type("Patient")] == [ME]
    assert chart.warnings[0].startswith(
        "3 record(s) of another patient were left out: the EHR returned them for this patient's searches "
        "(Patient/pat-2, Condition/theirs, Condition/by-full-url)."
    )
    assert "Otherperson" not in " ".join(chart.warnings)


def test_without_a_patient_every_patients_records_are_kept() -> None:
    chart = build_chart([_condition({"reference": "Patient/pat-2"}), _condition({"reference": "Patient/pat-3"}, "c2")])
    assert len(chart.of_type("Condition")) == 2 and chart.warnings == []
