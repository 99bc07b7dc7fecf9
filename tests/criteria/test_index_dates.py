"""The criteria index reads every FHIR date form a chart may use for when something happened."""

from __future__ import annotations

from datetime import date

import pytest

from smart_app.criteria.index import index_chart
from smart_app.fhir.chart import build_chart

LOINC_A1C = {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}


@pytest.mark.parametrize(
    ("element", "value"),
    [
        ("effectiveDateTime", "2026-10-01T08:00:00-05:00"),
        ("effectiveInstant", "2026-10-01T13:00:00Z"),
        ("effectivePeriod", {"start": "2026-10-01", "end": "2026-10-01"}),
    ],
)
def test_an_observation_is_dated_whichever_form_the_chart_used(element: str, value: object) -> None:
    observation = {"resourceType": "Observation", "id": "o1", "status": "final", "code": LOINC_A1C,
                   "subject": {"reference": "Patient/p"}, element: value,
                   "valueQuantity": {"value": 8.1, "unit": "%", "code": "%"}}  # fmt: skip
    index = index_chart(build_chart([observation], patient_id="p"), {})
    (fact,) = index.by_kind["observation"]
    assert fact.start == date(2026, 10, 1)
