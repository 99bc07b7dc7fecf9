"""What the app sends per EHR: the note with the printed brief kept as that EHR allows."""

from __future__ import annotations

import base64
from datetime import datetime, time, timedelta, timezone

import pytest

from smart_app.config import load_settings
from smart_app.fhir.write_profiles import PROFILES, brief_identifier, call_documents, profile_for
from smart_app.fhir.writeback import build_document_reference

NOTE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
ZONE = timezone(timedelta(hours=-5))
WHEN = datetime(2026, 11, 23, 10, 19, tzinfo=ZONE)
NOTE = build_document_reference(
    note_id=NOTE_ID, patient_id="p", note_text="PEER-TO-PEER REVIEW CALL", written_at=WHEN, call_start=WHEN,
    call_end=WHEN, claim_ref="Claim/c", claim_response_ref="ClaimResponse/cr", encounter_id="e",
    author_ref="Practitioner/1",
)  # fmt: skip
PDF, TEXT = b"%PDF-1.7 brief", "PEER-TO-PEER BRIEF"


def _documents(profile: str) -> list[dict]:
    return call_documents(PROFILES[profile], NOTE, brief_pdf=PDF, brief_text=TEXT, note_reference="urn:note")


def test_us_core_keeps_the_pdf_as_a_second_attachment_of_the_note() -> None:
    (note,) = _documents("us-core")
    assert [c["attachment"]["contentType"] for c in note["content"]] == ["text/plain; charset=utf-8", "application/pdf"]
    assert base64.b64decode(note["content"][1]["attachment"]["data"]) == PDF
    assert len(NOTE["content"]) == 1  # the note as built is not changed


@pytest.mark.parametrize(("profile", "content_type", "body"), [
    ("epic", "text/plain; charset=utf-8", TEXT.encode()),
    ("oracle-health", "application/pdf", PDF),
])  # fmt: skip
def test_epic_and_oracle_take_the_brief_as_its_own_document(profile: str, content_type: str, body: bytes) -> None:
    note, brief = _documents(profile)
    assert note is NOTE and len(brief["content"]) == 1
    assert brief["content"][0]["attachment"]["contentType"] == content_type
    assert base64.b64decode(brief["content"][0]["attachment"]["data"]) == body
    assert brief["relatesTo"] == [{"code": "appends", "target": {"reference": "urn:note"}}]
    assert brief["identifier"][0]["value"] == brief_identifier(NOTE_ID) != NOTE["identifier"][0]["value"]
    assert brief["context"] == NOTE["context"] and brief["subject"] == NOTE["subject"]


def test_without_a_printed_brief_only_the_note_is_sent() -> None:
    assert call_documents(PROFILES["oracle-health"], NOTE, brief_pdf=None, brief_text=TEXT, note_reference="u") == [
        NOTE
    ]


def test_the_profile_is_chosen_per_iss_and_an_unknown_one_is_refused() -> None:
    assert profile_for("https://a/fhir/", {"https://a/fhir": "epic"}).name == "epic"
    assert profile_for("https://b/fhir", {}).name == "us-core"
    with pytest.raises(ValueError, match="unknown write profile 'meditech'"):
        profile_for("https://a/fhir", {"https://a/fhir": "meditech"})


def test_settings_name_each_iss_profile_and_refuse_a_typo_at_start() -> None:
    settings = load_settings(environ={"P2P_WRITE_PROFILES": "https://a/fhir/=epic, https://b/fhir=oracle-health"})
    assert settings["WRITE_PROFILES"] == {"https://a/fhir": "epic", "https://b/fhir": "oracle-health"}
    with pytest.raises(ValueError, match="unknown profile\\(s\\) oracle; expected one of us-core, epic, oracle-health"):
        load_settings(environ={"P2P_WRITE_PROFILES": "https://a/fhir=oracle"})


def test_call_blocks_are_read_once_and_a_bad_one_stops_the_app() -> None:
    assert load_settings(environ={"P2P_CALL_BLOCKS": "07:30-08:00, 17:00-17:30"})["CALL_BLOCKS"] == [
        (time(7, 30), time(8, 0)),
        (time(17, 0), time(17, 30)),
    ]
    with pytest.raises(ValueError, match="'noon' is not HH:MM-HH:MM"):
        load_settings(environ={"P2P_CALL_BLOCKS": "noon"})
    with pytest.raises(ValueError, match="ends before it starts"):
        load_settings(environ={"P2P_CALL_BLOCKS": "17:30-17:00"})


def test_one_list_of_profile_names_for_the_settings_the_writer_and_the_demo_ehr() -> None:
    from smart_app.config import WRITE_PROFILE_NAMES
    from smart_app.sandbox.write_rules import PROFILES as DEMO_PROFILES

    assert tuple(PROFILES) == WRITE_PROFILE_NAMES == tuple(DEMO_PROFILES)
