"""The demo charts are dated to the day the demo runs: on any day, years from now, the four denials have open P2P
windows, and every interval in the chart (age, the history before the request) is as written."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smart_app.cli import brief_from_bundle
from smart_app.content import content_dir
from smart_app.denials.assess import Clock
from smart_app.sandbox.demo_dates import dated_for, shift_dates
from smart_app.sandbox.sample_practice import TEMPLATES
from smart_app.sandbox.store import FhirStore

ZONE = ZoneInfo("America/New_York")
WRITTEN_FOR = date(2026, 11, 23)  # the timestamp of the four demo Bundles


def test_full_dates_move_and_nothing_else_does() -> None:
    resource = {
        "resourceType": "Condition",
        "id": "2026-11-20",
        "onsetDateTime": "2019-03-05T10:00:00-05:00",
        "recordedDate": "2026-11-20",
        "abatementString": "since 2026-11-20",
        "code": {"coding": [{"code": "2026-11-20"}]},
        "identifier": [{"value": "2026-11-20"}],
        "subject": {"reference": "Patient/p"},
        "note": [{"time": "2024-02-29T00:00:00Z"}],
        "extension": [{"valueDate": "2019"}, {"valueDate": "2019-05"}],
    }
    moved = shift_dates(resource, 366)
    assert moved["onsetDateTime"] == "2020-03-05T10:00:00-05:00"  # time of day and offset kept
    assert moved["recordedDate"] == "2027-11-21"
    assert moved["note"][0]["time"] == "2025-03-01T00:00:00Z"
    assert moved["id"] == moved["code"]["coding"][0]["code"] == moved["identifier"][0]["value"] == "2026-11-20"
    assert moved["abatementString"] == "since 2026-11-20"  # words are not dates
    assert moved["extension"] == [{"valueDate": "2019"}, {"valueDate": "2019-05"}]  # partial dates as written


def test_a_bundle_without_a_timestamp_is_loaded_as_written() -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"birthDate": "1960-01-01"}}]}
    assert dated_for(bundle, date(2031, 1, 1)) is bundle


def _patient_bundle(store: FhirStore, patient_id: str, tmp_path: Path) -> Path:
    resources = [r for kind in store.types() for r in store.all(kind)]
    path = tmp_path / f"{patient_id}.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"resource": r} for r in resources]}))  # fmt: skip
    return path


@pytest.mark.parametrize(
    "today",
    [
        datetime(2026, 12, 8, 9, 0, tzinfo=ZONE),  # two weeks after the charts were written
        datetime(2026, 12, 26, 18, 30, tzinfo=ZONE),  # a Saturday evening, the day after a federal holiday
        datetime(2027, 7, 5, 7, 0, tzinfo=ZONE),  # Monday, the observed Independence Day
        datetime(2031, 2, 28, 23, 50, tzinfo=ZONE),  # years on, late at night
    ],
    ids=str,
)
def test_every_demo_denial_has_an_open_window_on_any_day(today: datetime, tmp_path: Path) -> None:
    store = FhirStore()
    store.load_bundles(content_dir("fhir") / "demo", today=today.astimezone(UTC).date())
    briefs = {}
    for patient in TEMPLATES:
        path = _patient_bundle(store, patient, tmp_path)
        claim_response = next(r["id"] for r in store.all("ClaimResponse")
                              if r["patient"]["reference"] == f"Patient/{patient}" and r["id"].endswith("-1")
                              and "lumbar-pt" not in r["id"])  # fmt: skip
        (briefs[patient],) = brief_from_bundle(path, claim_response, clock=Clock(ZONE, today))["denials"]
    for patient, denial in briefs.items():
        window = denial["p2pWindow"]
        assert denial["recommendation"] == "peer-to-peer", patient
        assert not window["closed"], (patient, window["basis"])
        if window["deadline"]:
            assert window["hoursLeft"] > 12, (patient, window["timeLeft"])
    assert date.fromisoformat(briefs["pat-lumbar-mri"]["decidedOn"][:10]) < today.date()


def test_intervals_in_the_chart_are_as_written(tmp_path: Path) -> None:
    as_written, later = FhirStore(), FhirStore()
    as_written.load_bundles(content_dir("fhir") / "demo", today=WRITTEN_FOR)
    later.load_bundles(content_dir("fhir") / "demo", today=date(2029, 4, 2))
    assert as_written.get("ClaimResponse", "cr-lumbar-mri-1")["created"] == "2026-11-20T15:42:00-06:00"  # unmoved
    days = (date(2029, 4, 2) - WRITTEN_FOR).days
    assert later.get("ClaimResponse", "cr-lumbar-mri-1")["created"] == shift_dates("2026-11-20T15:42:00-06:00", days)

    def brief(store: FhirStore, now: datetime) -> dict:
        path = _patient_bundle(store, "pat-lumbar-mri", tmp_path)
        return brief_from_bundle(path, "cr-lumbar-mri-1", clock=Clock(ZONE, now))

    then = brief(as_written, datetime(2026, 11, 23, 9, tzinfo=ZONE))
    now = brief(later, datetime(2029, 4, 2, 9, tzinfo=ZONE))
    (a,), (b,) = then["denials"], now["denials"]
    assert [(c["id"], c["status"]) for c in a["criteria"]] == [(c["id"], c["status"]) for c in b["criteria"]]
    assert a["policyResult"] == b["policyResult"] == "meets"
    assert a["p2pWindow"]["timeLeft"] == b["p2pWindow"]["timeLeft"]
    assert len(a["priorTreatments"]) == len(b["priorTreatments"]) > 0
