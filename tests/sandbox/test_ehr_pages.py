"""The EHR screens: patient list, chart with the embedded app, notes, and the launch step."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from ehr_helpers import FHIR, INSPECTOR, bearer, query_of
from flask import Flask
from flask.testing import FlaskClient


def test_patient_list(client: FlaskClient) -> None:
    answer = client.get("/")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert 'href="/chart/pat-alvarez"' in page and 'href="/chart/pat-brooks"' in page
    assert "Alvarez, Maria" in page and "1961-04-12" in page and "MRN-1001" in page
    assert "Open prior-auth denial: MRI lumbar spine without contrast (Acme Health Plan, 2024-05-03)" in page


def test_chart_embeds_the_app_in_an_iframe(client: FlaskClient) -> None:
    page = client.get("/chart/pat-alvarez").get_data(as_text=True)
    assert '<iframe id="smart-app"' in page and 'src="/launch?patient=pat-alvarez"' in page
    assert "Alvarez, Maria" in page and "female" in page and "MRN-1001" in page
    assert "Penicillin" in page
    assert "http" not in page.split("<style>")[1].split("</style>")[0]  # no external fonts or scripts
    assert "<script" not in page


def test_chart_of_unknown_patient_is_404(client: FlaskClient) -> None:
    assert client.get("/chart/nobody").status_code == 404


@pytest.mark.parametrize("query", ["patient=nobody", ""])
def test_launch_of_unknown_patient_is_404(client: FlaskClient, query: str) -> None:
    assert client.get(f"/launch?{query}").status_code == 404


def test_launch_for_a_named_client(ehr_app: Flask, client: FlaskClient) -> None:
    answer = client.get("/launch?patient=pat-brooks&client_id=p2p-secret")
    launch = query_of(answer.headers["Location"])["launch"]
    context = ehr_app.extensions["demo_ehr"].registry.peek_launch(launch)
    assert context.client_id == "p2p-secret" and context.patient == "pat-brooks"
    assert context.encounter == "enc-brooks" and context.user.practitioner_id == "demo-clinician"
    assert client.get("/launch?patient=pat-brooks&client_id=unknown").status_code == 400


def test_notes_tab_shows_what_the_app_wrote(ehr_app: Flask, client: FlaskClient) -> None:
    ehr_app.extensions["demo_ehr"].store.create(
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "subject": {"reference": "Patient/pat-alvarez"},
            "type": {"text": "Payer peer-to-peer review"},
            "date": "2024-05-06T15:30:00Z",
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain",
                        "data": base64.b64encode(b"Call went well").decode(),
                    }
                }
            ],
        }
    )
    assert "Notes (1)" in client.get("/chart/pat-alvarez").get_data(as_text=True)
    page = client.get("/chart/pat-alvarez/notes").get_data(as_text=True)
    assert "Payer peer-to-peer review" in page and "Call went well" in page


def test_malformed_chart_data_does_not_break_the_pages(make_ehr: Callable[..., Flask], tmp_path: Path) -> None:
    bad = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "id": "odd",
                    "name": "not-a-list",
                    "identifier": {"value": 5},
                }
            },
            {
                "resource": {
                    "resourceType": "Encounter",
                    "subject": {"reference": "Patient/odd"},
                    "period": "2024",
                }
            },
            {
                "resource": {
                    "resourceType": "AllergyIntolerance",
                    "patient": {"reference": "Patient/odd"},
                    "code": [],
                }
            },
            {
                "resource": {
                    "resourceType": "ClaimResponse",
                    "patient": {"reference": "Patient/odd"},
                    "item": "x",
                }
            },
            {"resource": {"id": "no-type"}},
            "not an entry",
        ],
    }
    (tmp_path / "odd.json").write_text(json.dumps(bad))
    (tmp_path / "broken.json").write_text("{")
    client = make_ehr(bundles_dir=tmp_path).test_client()
    assert client.get("/").status_code == 200
    assert client.get("/chart/odd").status_code == 200
    assert client.get("/launch?patient=odd").status_code == 302
    encounters = client.get("/fhir/Encounter?patient=odd", headers=bearer(INSPECTOR)).get_json()
    assert encounters["total"] == 1 and encounters["entry"][0]["resource"]["id"]  # an id was assigned


def test_start_log_names_loopback_and_not_patients(
    make_ehr: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="smart_app.sandbox"):
        make_ehr()
    text = caplog.text
    assert "127.0.0.1" in text and FHIR in text
    assert "Alvarez" not in text and "Brooks" not in text


def test_an_ehr_without_charts_still_serves(make_ehr: Callable[..., Flask], tmp_path: Path) -> None:
    app = make_ehr(bundles_dir=tmp_path)
    client = app.test_client()
    assert "No demo patients" in client.get("/").get_data(as_text=True)
    assert app.extensions["demo_ehr"].user.practitioner_id == "demo-clinician"  # a Practitioner to sign in as
    assert client.get("/fhir/Practitioner/demo-clinician", headers=bearer(INSPECTOR)).status_code == 200
