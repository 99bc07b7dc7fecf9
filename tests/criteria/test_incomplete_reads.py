"""A chart the EHR did not give in full (a search that failed, ran out of time, or stopped short of its
``Bundle.total``): a criterion the missing records could answer is never ``not-met``, nor ``met`` on a count or a
latest value; it reads ``not-documented`` and says which records were not read. What the missing records cannot
change (a course already long enough, a criterion over another kind of record) is decided as before."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from chartkit import chart, condition, observation, procedure, statement

from smart_app.criteria.evaluate import evaluate_policy
from smart_app.criteria.index import index_chart
from smart_app.criteria.library import library

REQUEST = date(2026, 11, 16)
SHORT = "200 of 206 Procedures read: the EHR gave no link to the rest"


def ago(days: int) -> str:
    return (REQUEST - timedelta(days=days)).isoformat()


def run(policy_id: str, resources: list[dict[str, Any]], incomplete: dict[str, str]) -> dict[str, Any]:
    lib = library()
    policy = next(p for p in lib.policies if p.id == policy_id)
    read = chart(*resources)
    read.incomplete = incomplete
    result = evaluate_policy(policy, lib, index_chart(read, lib.ingredients), REQUEST)
    return {"result": result["policyResult"], **{c["id"]: c for c in result["criteria"]}}


# Both routes of conservative therapy on record and both too short: a contradiction, when every record was read.
TOO_SHORT = [statement("5640", ago(70), ago(50)), procedure("97110", ago(30)), procedure("97110", ago(25))]
PET_CANCER = condition("C34.90", ago(200))


@pytest.mark.parametrize(
    ("policy_id", "criterion", "resources", "unread", "complete", "partial"),
    [
        # the PT visits that make six weeks may be among the Procedures not read
        ("lumbar-spine-mri", "lbp-conservative-6wk", TOO_SHORT, {"Procedure": SHORT}, "not-met", "not-documented"),
        # the NSAID course may go on in a MedicationRequest that was not read
        ("lumbar-spine-mri", "lbp-conservative-6wk", TOO_SHORT,
         {"MedicationRequest": "MedicationRequest: the EHR did not answer in time, so it was not read"},
         "not-met", "not-documented"),
        # an older diagnosis may be among the Conditions not read
        ("lumbar-spine-mri", "lbp-duration-6wk", [condition("M54.16", ago(20))],
         {"Condition": "3 of 4 Conditions read"}, "not-met", "not-documented"),
        # two PET scans within the limit of three: a third or fourth may be among the Procedures not read
        ("oncologic-pet-ct", "pet-scan-count", [PET_CANCER, procedure("78815", ago(100)), procedure("78815", ago(40))],
         {"Procedure": SHORT}, "met", "not-documented"),
        # the latest A1C read may not be the latest on record
        ("glp1-type2-diabetes", "t2dm-diagnosis", [observation("4548-4", ago(30), 7.2)],
         {"Observation": "200 of 230 Observations read"}, "met", "not-documented"),
        # what the missing records cannot change: a course long enough is met however many visits were missed ...
        ("lumbar-spine-mri", "lbp-conservative-6wk", [statement("5640", ago(70), ago(20))], {"Procedure": SHORT},
         "met", "met"),
        # ... and a criterion over conditions does not care that Procedures were cut short
        ("lumbar-spine-mri", "lbp-duration-6wk", [condition("M54.16", ago(20))], {"Procedure": SHORT},
         "not-met", "not-met"),
    ],
)  # fmt: skip
def test_what_the_records_not_read_could_answer_is_never_decided(
    policy_id: str, criterion: str, resources: list[dict], unread: dict[str, str], complete: str, partial: str
) -> None:
    assert run(policy_id, resources, {})[criterion]["status"] == complete
    outcome = run(policy_id, resources, unread)[criterion]
    assert outcome["status"] == partial
    if partial != complete:
        (why,) = unread.values()
        assert outcome["note"] == f"{why}; the records not read may answer this: confirm it"
        assert outcome["evidence"]  # what was read is still shown


def test_a_policy_contradicted_only_by_a_partial_read_is_incomplete_not_failed() -> None:
    ten_days_of_metformin = [condition("E11.9", ago(400)), statement("6809", ago(100), ago(91))]
    assert run("glp1-type2-diabetes", ten_days_of_metformin, {})["result"] == "does-not-meet"
    unread = {"MedicationStatement": "200 of 212 MedicationStatements read: the EHR gave no link to the rest"}
    assert run("glp1-type2-diabetes", ten_days_of_metformin, unread)["result"] == "incomplete"
