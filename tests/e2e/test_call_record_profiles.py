"""A recorded call lands in the chart on each EHR profile the demo enforces (US Core, Epic, Oracle Health), with the
printed brief kept with it as that EHR allows, and a correction filed as a new note that replaces the first.
Every field of the DocumentReference is read back from the demo EHR. No browser: a real launch over HTTP."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import bind, wait_until_ready
from smart_app.web import create_app

INSPECTOR = "profiles-inspector"
DENIAL = "cr-lumbar-mri-1"
PATIENT = "pat-lumbar-mri"
CALL = {
    "call_date": "2026-11-23", "start_time": "10:05", "end_time": "10:19", "reviewer_name": "Dr. Dana Whitfield",
    "reviewer_credentials": "MD", "reviewer_specialty": "Diagnostic Radiology", "specialty_match": "different",
    "same_specialty_request": "refused", "reviewer_reasoning": "Six weeks of therapy not documented.",
    "reviewer_claims": "No PT notes were sent", "would_change": "The PT discharge summary.", "disposition": "upheld",
    "objections": "non-specialty-reviewer", "criteria_discussed": "lbp-conservative-6wk",
}  # fmt: skip


@dataclass
class Launched:
    browser: requests.Session
    app_url: str
    fhir: str
    ctx: str
    csrf: str
    ehr: Any = None  # the demo EHR's state (its fault injection)


@pytest.fixture(params=["us-core", "epic", "oracle-health"])
def launched(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Launched]]:
    profile = request.param
    ehr_server, app_server = bind(), bind()
    client = RegisteredClient("p2p-profiles", [f"{app_server.url}/callback"], f"{app_server.url}/launch")
    ehr_app = create_ehr_app(
        EhrSettings(
            base_url=ehr_server.url,
            clients=[client],
            inspector_token=INSPECTOR,
            require_consent=False,
            profile=profile,
        )
    )
    ehr_server.mount(ehr_app)
    fhir = f"{ehr_server.url}/fhir"
    app_server.mount(
        create_app(
            {
                "CLIENT_ID": "p2p-profiles",
                "ALLOWED_ISS": [fhir],
                "INSECURE_COOKIES": True,
                "WRITE_PROFILES": {fhir: profile},
                "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
            }
        )
    )
    wait_until_ready(f"{app_server.url}/health")
    browser = requests.Session()
    listing = browser.get(f"{ehr_server.url}/launch?patient={PATIENT}", timeout=30)
    ctx = re.search(r"ctx=([A-Za-z0-9_-]+)", listing.url)
    assert ctx, listing.url
    case = browser.get(f"{app_server.url}/case/{DENIAL}", params={"ctx": ctx.group(1)}, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', case.text)
    assert case.status_code == 200 and csrf
    launched = Launched(browser, app_server.url, fhir, ctx.group(1), csrf.group(1), ehr_app.extensions["demo_ehr"])
    yield profile, launched
    app_server.stop()
    ehr_server.stop()


def _record(launched: Launched, **extra: str) -> requests.Response:
    form = {**CALL, **extra, "ctx": launched.ctx, "csrf": launched.csrf}
    return launched.browser.post(f"{launched.app_url}/outcome/{DENIAL}", data=form, timeout=60)


def _documents(launched: Launched) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{launched.fhir}/DocumentReference",
        params={"patient": PATIENT, "_count": 100},
        headers={"Authorization": f"Bearer {INSPECTOR}"},
        timeout=30,
    )
    return [e["resource"] for e in answer.json().get("entry", [])]


def _decoded(document: dict[str, Any], index: int = 0) -> bytes:
    return base64.b64decode(document["content"][index]["attachment"]["data"])


def _read(launched: Launched, reference: str) -> dict[str, Any]:
    answer = requests.get(f"{launched.fhir}/{reference}", headers={"Authorization": f"Bearer {INSPECTOR}"}, timeout=30)
    answer.raise_for_status()
    return answer.json()


def test_the_call_note_and_the_printed_brief_land_on_each_profile(launched: tuple[str, Launched]) -> None:
    profile, session = launched
    before = _documents(session)
    page = _record(session)
    assert page.status_code == 200
    assert "Call note saved to the chart as" in page.text, unescape(page.text)[:3000]
    written = [d for d in _documents(session) if d not in before]
    notes = [d for d in written if _decoded(d).startswith(b"PEER-TO-PEER REVIEW CALL")]
    assert len(notes) == 1
    note = notes[0]
    text = _decoded(note).decode("utf-8")
    for fact in (
        "Date: 2026-11-23, 10:05-10:19 (14 min)",
        "Reviewer: Dr. Dana Whitfield, MD",
        "Ordering physician's specialty: Family Medicine",
        "Specialty match: A different specialty",
        "Same-specialty reviewer: Requested and refused",
        "Disposition: Upheld: denial stands",
        "Factual claims the reviewer made:\n- No PT notes were sent",
        "- The reviewer was not of the ordering physician's specialty",
        "[lbp-conservative-6wk]",
    ):
        assert fact in text
    assert note["status"] == "current" and note["docStatus"] == "final"
    assert note["subject"] == {"reference": f"Patient/{PATIENT}"}
    assert note["type"]["coding"][0]["system"] == "http://loinc.org"
    assert note["context"]["period"] == {"start": "2026-11-23T10:05:00-05:00", "end": "2026-11-23T10:19:00-05:00"}
    (author,) = note["author"]  # the signed-in user (fhirUser), as Oracle requires of a provider token
    assert author["reference"].startswith("Practitioner/")
    assert _read(session, author["reference"])["resourceType"] == "Practitioner"
    assert note["context"]["encounter"][0]["reference"].startswith("Encounter/")
    assert note["content"][0]["attachment"]["contentType"] == "text/plain; charset=utf-8"
    if profile == "us-core":
        assert len(written) == 1
        assert {"reference": "Claim/claim-lumbar-mri-1"} in note["context"]["related"]
        assert {"reference": f"ClaimResponse/{DENIAL}"} in note["context"]["related"]
        assert note["category"][0]["coding"][0]["code"] == "clinical-note"
        assert note["identifier"][0]["system"] == "urn:ietf:rfc:3986"
        assert note["content"][1]["attachment"]["contentType"] == "application/pdf"
        assert _decoded(note, 1).startswith(b"%PDF")
        return
    assert len(written) == 2  # the brief stands alone: Epic keeps one text attachment, Oracle one attachment
    (brief,) = [d for d in written if d is not note]
    assert len(note["content"]) == 1 and len(brief["content"]) == 1
    if profile == "epic":
        assert brief["content"][0]["attachment"]["contentType"] == "text/plain; charset=utf-8"
        assert _decoded(brief).startswith(b"PEER-TO-PEER BRIEF")
        assert b"MRI lumbar spine without contrast" in _decoded(brief)
        assert brief["relatesTo"] == [{"code": "appends", "target": {"reference": f"DocumentReference/{note['id']}"}}]
    else:  # Oracle keeps only its create fields: no identifier, category or relatesTo
        assert brief["content"][0]["attachment"]["contentType"] == "application/pdf"
        assert _decoded(brief).startswith(b"%PDF")
        assert not {"identifier", "category", "relatesTo"} & (set(note) | set(brief))


def test_a_correction_is_a_new_note_that_replaces_the_first(launched: tuple[str, Launched]) -> None:
    profile, session = launched
    first = _record(session)
    original = re.search(r"note=([0-9a-f-]{36})", first.url)
    assert original, first.url
    corrected = _record(session, end_time="10:24", replaces=original.group(1), correction_reason="End time was 10:24.")
    assert "Call note saved to the chart as" in corrected.text
    assert "replaced by the correction of" in corrected.text
    notes = [d for d in _documents(session) if _decoded(d).startswith(b"PEER-TO-PEER REVIEW CALL")]
    assert len(notes) == 2
    (correction,) = [n for n in notes if b"CORRECTION" in _decoded(n)]
    (first_note,) = [n for n in notes if n is not correction]
    text = _decoded(correction).decode("utf-8")
    assert f"(DocumentReference/{first_note['id']})" in text
    assert "Reason for the correction: End time was 10:24." in text and "10:05-10:24 (19 min)" in text
    assert first_note["status"] == "current"  # never edited in place
    if profile != "oracle-health":  # Oracle ignores relatesTo on create; the note's own words carry it there
        assert correction["relatesTo"] == [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{first_note['id']}"}}
        ]


def test_a_note_whose_answer_was_lost_is_in_the_chart_once_after_the_submit_and_the_retries(
    launched: tuple[str, Launched],
) -> None:
    """The EHR stores the create but its answer is lost (503): the app must not send the note again blind, within
    the submit or on a later retry; it looks for it first, and where the EHR cannot be asked, a person is."""
    profile, session = launched
    session.ehr.faults.lose_next_answers(503)
    page = _record(session)
    assert page.status_code == 200
    note_id = re.search(r"note=([0-9a-f-]{36})", page.url)
    assert note_id, page.url
    notes = [d for d in _documents(session) if _decoded(d).startswith(b"PEER-TO-PEER REVIEW CALL")]
    assert len(notes) == 1  # stored by the first POST, never posted again within the submit
    assert "Call note saved to the chart as" not in page.text  # the app does not know yet

    for _ in range(2):  # later retries, by the user
        retried = session.browser.post(
            f"{session.app_url}/outcome/{DENIAL}/retry/{note_id.group(1)}",
            data={"ctx": session.ctx, "csrf": session.csrf},
            timeout=60,
        )
        assert retried.status_code == 200
    session.ehr.faults.clear()
    notes = [d for d in _documents(session) if _decoded(d).startswith(b"PEER-TO-PEER REVIEW CALL")]
    assert len(notes) == 1
    text = " ".join(re.sub(r"<[^>]+>", " ", unescape(retried.text)).split())
    if profile == "oracle-health":  # Oracle keeps no identifier: only a person can tell the note is there
        assert "Call note saved to the chart as" not in text
        assert "Look in the patient's chart for a peer-to-peer call note of this call before sending it again" in text
    else:  # found by its identifier (US Core) or among the patient's notes (Epic), and recorded as written
        assert f"Call note saved to the chart as DocumentReference/{notes[0]['id']}" in text
