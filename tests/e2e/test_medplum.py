"""The app against a FHIR server nobody here wrote: Medplum's FHIR router with its in-memory repository
(``tests/medplum``). The four demo charts are loaded into it; every chart is read and every demo brief built
through the app's own FhirClient and reader, and must say what the same file says through ``p2p-brief brief``;
a call note is written, read back, and written again without a second copy.

What Medplum does that the demo EHR does not, and the app copes with: a reference search matches only
``Patient/<id>`` (a bare id finds nothing); ``_count`` cuts a search short with the true ``total`` and no ``next``
link; ``/metadata`` answers a Bundle, not a CapabilityStatement; ``_include`` is ignored.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import medplum
import pytest
import requests

from smart_app.brief.model import build_brief
from smart_app.cli import brief_clock, brief_from_bundle
from smart_app.config import load_settings
from smart_app.denials.assess import Clock
from smart_app.denials.pas import open_denials, read_denial
from smart_app.fhir.chart import Chart, chart_from_bundle
from smart_app.fhir.client import FhirClient
from smart_app.fhir.membership import user_organizations
from smart_app.fhir.reader import PATIENT_SEARCHES, REFERENCED_TYPES, fetch_chart
from smart_app.fhir.writeback import build_document_reference, document_writer
from smart_app.outcome.outbox import deliver, save_note
from smart_app.practice.sync import sync
from smart_app.smart.launch import LaunchContext
from smart_app.store.db import Database
from smart_app.web import create_app
from smart_app.web.context import sealed_launch

DEMO = Path(__file__).resolve().parents[2] / "fhir" / "demo"
CHARTS = {
    "glp1-t2dm.json": "pat-glp1-t2dm",
    "knee-tka.json": "pat-knee-tka",
    "lumbar-mri.json": "pat-lumbar-mri",
    "ra-tnf.json": "pat-ra-tnf",
}
TODAY = "2026-11-23"


@pytest.fixture(scope="module")
def server() -> Iterator[medplum.Medplum]:
    medplum.require()
    running = medplum.start()
    try:
        running.load(medplum.bundle_resources(DEMO / "practice-staff.json"))
        for name in CHARTS:
            running.load(medplum.bundle_resources(DEMO / name))
        yield running
    finally:
        running.stop()


def _bundle(name: str) -> dict[str, Any]:
    return dict(json.loads((DEMO / name).read_text(encoding="utf-8")))


def _client(server: medplum.Medplum) -> FhirClient:
    return FhirClient(server.base, medplum.TOKEN)


def _clock() -> Clock:
    return brief_clock(TODAY, load_settings()["TIMEZONE"])


def _keys(chart: Chart) -> set[str]:
    """``Type/id`` of every record of a type the reader asks the EHR for."""
    read = {*PATIENT_SEARCHES, *REFERENCED_TYPES}
    return {key for key in chart.index if key.count("/") == 1 and key.split("/")[0] in read}


@pytest.mark.parametrize(("name", "patient_id"), CHARTS.items())
def test_every_demo_chart_reads_from_medplum_as_its_file_holds_it(
    server: medplum.Medplum, name: str, patient_id: str
) -> None:
    chart = fetch_chart(_client(server), patient_id)
    from_file = chart_from_bundle(_bundle(name), patient_id=patient_id)

    assert chart.patient is not None and chart.patient["id"] == patient_id
    assert _keys(chart) == _keys(from_file)  # every record, and the Organization/Practitioner they cite
    assert chart.warnings == from_file.warnings  # the same invalid record skipped, nothing else
    assert not chart.incomplete


def _demo_denials() -> list[tuple[str, str, str]]:
    found = []
    for name, patient_id in CHARTS.items():
        chart = chart_from_bundle(_bundle(name))
        for denial in open_denials(chart.of_type("ClaimResponse"), chart.resolve):
            found.append((name, patient_id, denial.claim_response_id))
    return found


@pytest.mark.parametrize(("name", "patient_id", "claim_response_id"), _demo_denials())
def test_every_demo_brief_from_medplum_says_what_the_cli_says(
    server: medplum.Medplum, name: str, patient_id: str, claim_response_id: str
) -> None:
    chart = fetch_chart(_client(server), patient_id)  # as web/loading.py load_denial reads it
    denial = read_denial(chart.index[f"ClaimResponse/{claim_response_id}"], chart.resolve)
    from_medplum = build_brief(chart, [denial], clock=_clock(), practice_state=load_settings().get("PRACTICE_STATE"))
    from_cli = brief_from_bundle(DEMO / name, claim_response_id, clock=_clock())

    (read, expected) = from_medplum["denials"][0], from_cli["denials"][0]
    # What the physician reads first: the policy's answer, each criterion and its evidence, the denial's reason
    assert read["policyResult"] == expected["policyResult"] and read["policyResult"] is not None
    assert [(c["id"], c["status"], c["note"]) for c in read["criteria"]] == [
        (c["id"], c["status"], c["note"]) for c in expected["criteria"]
    ]
    assert read["reason"] == expected["reason"] and read["reason"]["text"]
    assert (read["category"], read["recommendation"]) == (expected["category"], expected["recommendation"])
    assert from_medplum["warnings"] == from_cli["warnings"]
    assert from_medplum == from_cli  # and everything else on the page


def _note(patient_id: str) -> tuple[str, dict[str, Any]]:
    note_id = str(uuid.uuid4())
    start = datetime.fromisoformat(f"{TODAY}T10:00:00-05:00")
    resource = build_document_reference(
        note_id=note_id,
        patient_id=patient_id,
        note_text="Peer-to-peer call: the reviewer overturned the denial. Reference 4471.",
        written_at=start + timedelta(minutes=20),
        call_start=start,
        call_end=start + timedelta(minutes=12),
        claim_ref="Claim/claim-lumbar-mri-1",
        claim_response_ref="ClaimResponse/cr-lumbar-mri-1",
        author_ref="Practitioner/demo-clinician",
    )
    return note_id, resource


def _save(db: Database, note_id: str, resource: dict[str, Any], server: medplum.Medplum) -> None:
    """Keep the note in the outbox, as the call form does before anything is sent."""
    save_note(db, note_id=note_id, iss=server.base, patient_id="pat-lumbar-mri", claim_response_id="cr-lumbar-mri-1",
              form={}, note_text="", resources=[copy.deepcopy(resource)])  # fmt: skip


def _notes_with(server: medplum.Medplum, note_id: str) -> list[dict[str, Any]]:
    result = _client(server).search("DocumentReference", {"identifier": f"urn:ietf:rfc:3986|urn:uuid:{note_id}"})
    assert result.error is None
    return result.resources


def test_a_call_note_written_through_the_outbox_reads_back_from_medplum_with_every_field(
    server: medplum.Medplum, tmp_path: Path
) -> None:
    note_id, resource = _note("pat-lumbar-mri")
    db = Database(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    db.upgrade()
    _save(db, note_id, resource, server)

    note = deliver(db, note_id, document_writer(_client(server), search_first=True)).note

    assert note is not None and note.status == "written" and note.last_error is None
    assert note.document_reference and note.document_reference.startswith("DocumentReference/")
    written = _client(server).read("DocumentReference", note.document_reference.split("/")[1])
    assert written["identifier"] == [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{note_id}"}]
    assert written["status"] == "current" and written["docStatus"] == "final"
    assert written["type"]["coding"][0]["code"] == "34748-4"  # Telephone encounter Note: Medplum takes it
    assert written["subject"] == {"reference": "Patient/pat-lumbar-mri"}
    assert written["author"] == [{"reference": "Practitioner/demo-clinician"}]
    assert written["context"]["related"] == [
        {"reference": "Claim/claim-lumbar-mri-1"},
        {"reference": "ClaimResponse/cr-lumbar-mri-1"},
    ]
    assert written["context"]["period"] == {"start": "2026-11-23T10:00:00-05:00", "end": "2026-11-23T10:12:00-05:00"}
    attachment = written["content"][0]["attachment"]
    assert attachment["contentType"] == "text/plain; charset=utf-8"
    assert base64.b64decode(attachment["data"]).decode() == (
        "Peer-to-peer call: the reviewer overturned the denial. Reference 4471."
    )
    db.dispose()


def test_a_note_delivered_again_is_not_written_twice(server: medplum.Medplum, tmp_path: Path) -> None:
    """The outbox's record of the first write is lost (another process, a crash before it was saved): delivering
    the same note again finds the copy in the chart by its identifier instead of writing a second one."""
    note_id, resource = _note("pat-lumbar-mri")
    references = []
    for attempt in ("first", "again"):
        db = Database(f"sqlite:///{tmp_path / f'{attempt}.sqlite3'}")
        db.upgrade()
        _save(db, note_id, resource, server)
        writer = document_writer(_client(server), search_first=True)
        references.append(deliver(db, note_id, writer).note.document_reference)  # type: ignore[union-attr]
        again = deliver(db, note_id, writer).note  # a written note is done: nobody takes it again
        assert again is None or again.document_reference == references[-1]
        db.dispose()

    assert references[0] == references[1]
    assert len(_notes_with(server, note_id)) == 1


def test_medplum_honours_if_none_exist_though_it_publishes_no_capability_statement(server: medplum.Medplum) -> None:
    client = _client(server)
    assert client.capabilities().get("resourceType") != "CapabilityStatement"  # GET /metadata: a searchset Bundle
    note_id, resource = _note("pat-knee-tka")
    condition = f"identifier=urn:ietf:rfc:3986|urn:uuid:{note_id}"

    first = client.create(copy.deepcopy(resource), if_none_exist=condition)
    second = client.create(copy.deepcopy(resource), if_none_exist=condition)

    assert (first.status, second.status) == (201, 200)
    assert first.resource_id == second.resource_id
    assert len(_notes_with(server, note_id)) == 1


def test_medplum_finds_nothing_for_a_bare_patient_id(server: medplum.Medplum) -> None:
    """Why the reader asks for ``patient=Patient/<id>``: the bare id FHIR also allows finds nothing here."""
    headers = {"Authorization": f"Bearer {medplum.TOKEN}"}
    bare = requests.get(f"{server.base}/Condition", params={"patient": "pat-ra-tnf"}, headers=headers, timeout=10)
    typed = requests.get(
        f"{server.base}/Condition", params={"patient": "Patient/pat-ra-tnf"}, headers=headers, timeout=10
    )
    assert bare.json()["total"] == 0
    assert typed.json()["total"] > 0


def test_the_users_practices_are_read_from_medplum(server: medplum.Medplum) -> None:
    client = _client(server)
    assert user_organizations(client, "Practitioner/demo-liaison-prairie") == [
        "Organization/org-lumbar-prairie-family-med"
    ]
    assert len(user_organizations(client, "Practitioner/demo-clinician")) == 4


def test_sync_finds_every_demo_denial_on_medplum(server: medplum.Medplum, tmp_path: Path) -> None:
    """Sync by search (Medplum's /metadata offers no export): every open demo denial becomes a case."""
    db = Database(f"sqlite:///{tmp_path / 'sync.sqlite3'}")
    db.upgrade()
    report = sync(db, _client(server), clock=_clock())
    db.dispose()
    assert report.via == "search"
    assert report.denials == len(_demo_denials()) and report.new_cases == report.denials


# ---- a page cut short: Medplum answers _count=200 with 200 entries, the true total, and no next link ------------
LATE_VISITS = ("proc-lumbar-pt-4", "proc-lumbar-pt-5", "proc-lumbar-pt-6", "proc-lumbar-pt-7", "proc-lumbar-pt-8")
NSAID_ORDERS = ("medreq-lumbar-ibuprofen", "medreq-lumbar-naproxen", "medreq-lumbar-cyclobenzaprine")


def _blood_pressure_check(n: int) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": f"proc-lumbar-bp-{n}",
        "status": "completed",
        "subject": {"reference": "Patient/pat-lumbar-mri"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "46973005"}], "text": "Blood pressure check"},
        "performedDateTime": f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
    }


def _many_visits_chart() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The lumbar MRI chart with only a week of ibuprofen, PT visits through 10 November (eight weeks, enough),
    and 200 blood-pressure checks: what Medplum sends first (the chart, the first three PT visits), the checks,
    and the later PT visits it stores last."""
    resources = [r for r in medplum.bundle_resources(DEMO / "lumbar-mri.json") if r["id"] not in NSAID_ORDERS]
    late = [r for r in resources if r["id"] in LATE_VISITS]
    for n, day in ((9, "2026-11-02"), (10, "2026-11-10")):
        late.append(
            {**copy.deepcopy(late[-1]), "id": f"proc-lumbar-pt-{n}", "performedDateTime": f"{day}T08:00:00-06:00"}
        )
    first = [r for r in resources if r["id"] not in LATE_VISITS]
    return first, [_blood_pressure_check(n) for n in range(200)], late


@pytest.fixture(scope="module")
def crowded() -> Iterator[medplum.Medplum]:
    medplum.require()
    running = medplum.start()
    try:
        first, checks, late = _many_visits_chart()
        running.load([*medplum.bundle_resources(DEMO / "practice-staff.json"), *first, *checks, *late])
        yield running
    finally:
        running.stop()


def test_a_search_medplum_cut_short_is_named_and_decides_nothing_it_could_answer(crowded: medplum.Medplum) -> None:
    first, checks, late = _many_visits_chart()
    procedures = sum(r["resourceType"] == "Procedure" for r in [*first, *checks, *late])
    everything = chart_from_bundle(
        {"resourceType": "Bundle", "entry": [{"resource": r} for r in [*first, *checks, *late]]}
    )
    cr = everything.index["ClaimResponse/cr-lumbar-mri-1"]
    everything.patient_id = "pat-lumbar-mri"
    complete = build_brief(everything, [read_denial(cr, everything.resolve)], clock=_clock())["denials"][0]
    assert {c["id"]: c["status"] for c in complete["criteria"]}["lbp-conservative-6wk"] == "met"  # all read: met

    chart = fetch_chart(_client(crowded), "pat-lumbar-mri")
    brief = build_brief(
        chart, [read_denial(chart.index["ClaimResponse/cr-lumbar-mri-1"], chart.resolve)], clock=_clock()
    )

    assert len(chart.of_type("Procedure")) == 200
    warning = f"200 of {procedures} Procedures read: the EHR gave no link to the rest"
    assert f"{warning}." in brief["warnings"]
    conservative = {c["id"]: c for c in brief["denials"][0]["criteria"]}["lbp-conservative-6wk"]
    # the week of ibuprofen and the first three PT visits contradict six weeks, but the later visits were not read
    assert conservative["status"] == "not-documented"
    assert conservative["note"] == f"{warning}; the records not read may answer this: confirm it"
    assert brief["denials"][0]["policyResult"] == "incomplete"


def _page(server: medplum.Medplum, patient_id: str, path: str, tmp_path: Path) -> tuple[str, str]:
    """A page as the web app serves it for a launch on ``server`` (the launch put in the session, as the SMART
    callback leaves it; any token does): its HTML and its words."""
    app = create_app({"CLIENT_ID": "p2p-medplum", "ALLOWED_ISS": [server.base], "INSECURE_COOKIES": True,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}"})  # fmt: skip
    launch = LaunchContext(handle="h-medplum", iss=server.base, patient=patient_id, access_token=medplum.TOKEN,
                           token_endpoint=f"{server.base}/token", scope="launch patient/*.read",
                           fhir_user="Practitioner/demo-clinician")  # fmt: skip
    browser = app.test_client()
    with app.app_context():
        kept = sealed_launch(launch)
    with browser.session_transaction() as session:
        session["launches"] = {launch.handle: kept}
    page = browser.get(path, query_string={"ctx": launch.handle})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_patients_denial_list_read_from_medplum_names_the_denial(server: medplum.Medplum, tmp_path: Path) -> None:
    html, text = _page(server, "pat-lumbar-mri", "/", tmp_path)
    assert "No denied or pended prior authorizations are on record" not in text
    assert "/brief/cr-lumbar-mri-1?ctx=h-medplum" in html
    assert "Could not be read" not in text


def test_the_brief_page_says_which_records_medplum_did_not_send(crowded: medplum.Medplum, tmp_path: Path) -> None:
    _, text = _page(crowded, "pat-lumbar-mri", "/brief/cr-lumbar-mri-1", tmp_path)

    assert "Could not be read 200 of 211 Procedures read: the EHR gave no link to the rest." in text
    assert "without adequate relief. not documented — confirm before the call Ibuprofen (OTC) 200 mg tablets" in text
    assert "200 of 211 Procedures read: the EHR gave no link to the rest; the records not read may answer" in text
