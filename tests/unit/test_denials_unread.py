"""A denial list whose payer answers were not all read says so: a failed ClaimResponse search, and also a failed
PDex ExplanationOfBenefit search (an EOB-only denial would otherwise be reported as absent)."""

from __future__ import annotations

import pytest

from smart_app.fhir.chart import Chart
from smart_app.web.loading import denials_unread


@pytest.mark.parametrize("kind", ["ClaimResponse", "ExplanationOfBenefit"])
def test_an_unread_kind_of_answer_is_never_read_as_no_denial(kind: str) -> None:
    chart = Chart(patient_id="p")
    chart.incomplete = {kind: f"{kind} search failed: HTTP 500"}
    said = denials_unread(chart)
    assert said is not None and said.endswith(f"{kind} search failed: HTTP 500.")


def test_a_chart_read_in_full_has_nothing_to_say() -> None:
    chart = Chart(patient_id="p")
    chart.incomplete = {"Procedure": "200 of 211 Procedures read"}
    assert denials_unread(chart) is None
