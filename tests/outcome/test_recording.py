"""The call-recording use case, called as the web view calls it but with no Flask and no HTTP: the typed note is
saved before the chart is read, completed from the brief when it can be read, kept when it cannot, discarded when the
denial is not the patient's, and a second submit of the same form writes nothing."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from smart_app.cli import brief_from_bundle
from smart_app.errors import NotFound
from smart_app.fhir.write_profiles import PROFILES
from smart_app.outcome.outbox import outbox_rows
from smart_app.outcome.recording import CallSubmission, record_call
from smart_app.store.db import Database
from smart_app.store.models import CallNote

ROOT = Path(__file__).resolve().parents[2]
FORM = {
    "call_date": "2026-11-23", "start_time": "10:05", "end_time": "10:19", "reviewer_name": "Dr. Dana Whitfield",
    "disposition": "upheld", "notes": "Reviewer wants the PT discharge summary.",
}  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    database.upgrade()
    return database


@pytest.fixture(scope="module")
def brief() -> dict[str, Any]:
    return brief_from_bundle(ROOT / "fhir" / "demo" / "lumbar-mri.json", "cr-lumbar-mri-1")


def _call(**changes: Any) -> CallSubmission:
    fields: dict[str, Any] = {"iss": "https://ehr/fhir", "patient_id": "pat-lumbar-mri", "denial_id": "cr-lumbar-mri-1",
                              "form": FORM, "zone": ZoneInfo("America/Chicago"), "form_key": "k" * 22,
                              "author": "Practitioner/dr-1"}  # fmt: skip
    return CallSubmission(**{**fields, **changes})


class Chart:
    """A fake EHR: the brief it reads (None: down), what the store held when it was first asked, what it took."""

    def __init__(self, db: Database, brief: dict[str, Any] | None, *, not_found: bool = False) -> None:
        self.db, self.brief, self.not_found = db, brief, not_found
        self.saved_before_read: list[dict[str, Any]] | None = None
        self.written: list[dict[str, Any]] = []

    def read_brief(self) -> dict[str, Any] | None:
        self.saved_before_read = outbox_rows(self.db)
        if self.not_found:
            raise NotFound("This denial is not in the launched patient's chart.")
        return self.brief

    def write(self, resource: dict[str, Any]) -> str:
        self.written.append(resource)
        return f"DocumentReference/{len(self.written)}"


def _record(db: Database, chart: Chart, call: CallSubmission | None = None) -> Any:
    return record_call(db, call or _call(), read_brief=chart.read_brief, profile=PROFILES["epic"], write=chart.write)


def _text(resource: dict[str, Any]) -> str:
    return base64.b64decode(resource["content"][0]["attachment"]["data"]).decode("utf-8")


def test_the_note_is_saved_before_the_chart_is_read_then_completed_from_it(db: Database, brief: dict[str, Any]) -> None:
    chart = Chart(db, brief)
    recorded = _record(db, chart)
    assert chart.saved_before_read and chart.saved_before_read[0]["id"] == recorded.note_id
    assert recorded.status == "written" and recorded.brief is brief
    note_text = _text(chart.written[0])
    assert "Payer: UnitedHealthcare" in note_text and "Reviewer: Dr. Dana Whitfield" in note_text
    assert _text(chart.written[1]).startswith("PEER-TO-PEER BRIEF")  # Epic: the brief's text as its own document


def test_with_the_ehr_down_the_typed_note_is_kept_and_sent_as_typed(db: Database) -> None:
    chart = Chart(db, None)
    recorded = _record(db, chart)
    assert recorded.brief is None and recorded.note_id
    (sent,) = chart.written
    assert "Reviewer wants the PT discharge summary." in _text(sent)
    assert {"reference": "ClaimResponse/cr-lumbar-mri-1"} in sent["context"]["related"]


def test_a_denial_that_is_not_the_patients_keeps_nothing(db: Database, brief: dict[str, Any]) -> None:
    chart = Chart(db, brief, not_found=True)
    with pytest.raises(NotFound):
        _record(db, chart)
    assert chart.saved_before_read and not chart.written
    assert outbox_rows(db) == []


def test_the_same_form_twice_records_one_note(db: Database, brief: dict[str, Any]) -> None:
    chart = Chart(db, brief)
    first = _record(db, chart)
    again = _record(db, chart)
    assert again.repeated and again.note_id == first.note_id
    assert len(chart.written) == 2  # the note and the brief, once
    with db.session() as session:
        assert session.query(CallNote).count() == 1


def test_a_form_with_errors_saves_nothing_and_reads_nothing(db: Database) -> None:
    chart = Chart(db, None)
    recorded = _record(db, chart, _call(form={**FORM, "reviewer_name": ""}))
    assert recorded.note_id is None and "reviewer_name" in recorded.errors
    assert chart.saved_before_read is None and outbox_rows(db) == []


def test_a_ticked_criterion_the_brief_does_not_have_is_refused_and_nothing_is_kept(
    db: Database, brief: dict[str, Any]
) -> None:
    """A stale or forged form ticks a criterion id the brief does not list: refused as the form always was (the
    merge of save-first dropped the check, and the unknown id went into the chart note)."""
    chart = Chart(db, brief)
    recorded = _record(db, chart, _call(form={**FORM, "criteria_discussed": ["no-such-criterion"]}))
    assert recorded.note_id is None and "criteria_discussed" in recorded.errors
    assert chart.written == [] and outbox_rows(db) == []
    known = brief["denials"][0]["criteria"][0]["id"]
    kept = _record(db, Chart(db, brief), _call(form={**FORM, "criteria_discussed": [known]}, form_key="m" * 22))
    assert kept.note_id is not None and kept.status == "written"
