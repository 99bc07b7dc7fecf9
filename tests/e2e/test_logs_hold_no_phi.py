"""The whole flow for every demo patient, with every logger at DEBUG (the app's, the demo EHR's, the libraries'):
launch from the chart, brief, PDF, call script, case page, a scheduling entry, a written request, a recorded call
with typed notes, the letter, the worklist and its exports, a sync. Then no log line holds a patient's name, birth
date, member ID, diagnosis text or anything typed into the call note."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from joserfc.jwk import RSAKey
from pairs import LogLines, every_log_line_at_debug

from smart_app.content import content_dir
from smart_app.denials.assess import Clock
from smart_app.fhir.client import FhirClient
from smart_app.practice.sync import SYNC_SCOPE, sync
from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import bind, wait_until_ready
from smart_app.smart.backend import BackendAuth
from smart_app.smart.client_auth import public_jwks
from smart_app.web import create_app

SLUGS = ("lumbar-mri", "ra-tnf", "knee-tka", "glp1-t2dm")
TYPED = ("Reviewer cited missing imaging from March", "Promised to fax the PT notes tonight")
KEY = RSAKey.generate_key(2048)
KEY.ensure_kid()


def _phi_of(slug: str) -> tuple[str, str, list[str]]:
    """The patient id, the open denial, and the strings that must never be logged."""
    resources = [
        e["resource"] for e in json.loads((content_dir("fhir") / "demo" / f"{slug}.json").read_text())["entry"]
    ]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    name = patient["name"][0]
    phi = [name["family"], " ".join(name["given"]), patient["birthDate"]]
    for resource in resources:
        if resource["resourceType"] == "Coverage":
            phi += [resource["subscriberId"], *(i["value"] for i in resource.get("identifier", []))]
        if resource["resourceType"] == "Condition":
            code = resource.get("code") or {}
            phi += [t for t in [code.get("text"), *(c.get("display") for c in code.get("coding", []))] if t]
    responses = [r for r in resources if r["resourceType"] == "ClaimResponse" and r["id"] != "cr-lumbar-pt-1"]
    return patient["id"], responses[0]["id"], sorted({p for p in phi if len(p) >= 4})


@pytest.fixture
def every_log_line() -> Iterator[LogLines]:
    with every_log_line_at_debug() as handler:
        yield handler


def _form(page: str) -> tuple[str, str]:
    return (re.search(r'name="ctx" value="([^"]+)"', page).group(1),  # type: ignore[union-attr]
            re.search(r'name="csrf" value="([^"]+)"', page).group(1))  # type: ignore[union-attr]  # fmt: skip


def test_no_log_line_names_a_patient_or_repeats_the_chart(every_log_line: LogLines, tmp_path: Any) -> None:
    app, ehr = bind(), bind()
    clients = [RegisteredClient("p2p-logs", [f"{app.url}/callback"], f"{app.url}/launch"),
               RegisteredClient("p2p-logs-backend", [f"{app.url}/callback"], f"{app.url}/launch", "private_key_jwt",
                                jwks=public_jwks(KEY, "RS384"))]  # fmt: skip
    ehr.mount(
        create_ehr_app(EhrSettings(base_url=ehr.url, clients=clients, inspector_token="x", require_consent=False))
    )
    flask_app = create_app({"CLIENT_ID": "p2p-logs", "ALLOWED_ISS": [f"{ehr.url}/fhir"], "INSECURE_COOKIES": True,
                            "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}"})  # fmt: skip
    app.mount(flask_app)
    wait_until_ready(f"{app.url}/health")
    phi: list[str] = []
    try:
        for slug in SLUGS:
            patient, denial, strings = _phi_of(slug)
            phi += strings
            browser = requests.Session()
            listing = browser.get(f"{ehr.url}/launch?patient={patient}", timeout=60)
            ctx = re.search(r"ctx=([\w-]+)", listing.url).group(1)  # type: ignore[union-attr]
            brief = browser.get(f"{app.url}/brief/{denial}", params={"ctx": ctx}, timeout=60)
            assert brief.status_code == 200 and sum(s in brief.text for s in strings) >= 2  # the PHI was on the page
            for path in (f"/brief/{denial}.pdf", f"/brief/{denial}/script"):
                assert browser.get(f"{app.url}{path}", params={"ctx": ctx}, timeout=60).status_code == 200
            case = browser.get(f"{app.url}/case/{denial}", params={"ctx": ctx}, timeout=60).text
            _, csrf = _form(case)
            browser.post(f"{app.url}/case/{denial}/log", timeout=60, data={
                "ctx": ctx, "csrf": csrf, "kind": "requested", "at": "2026-11-23T08:00", "channel": "phone",
                "reference": "REF-1", "said": TYPED[1]})  # fmt: skip
            browser.post(f"{app.url}/case/{denial}/drafts", data={"ctx": ctx, "csrf": csrf, "kind": "p2p-request"},
                         timeout=60)  # fmt: skip
            saved = browser.post(f"{app.url}/outcome/{denial}", timeout=60, data={
                "ctx": ctx, "csrf": csrf, "call_date": "2026-11-23", "start_time": "10:00", "end_time": "10:14",
                "reviewer_name": "Dr. Logscan", "specialty_match": "different", "disposition": "upheld",
                "reviewer_reasoning": TYPED[0], "reviewer_claims": TYPED[1], "notes": TYPED[1]})  # fmt: skip
            assert saved.status_code == 200, saved.text[:300]
            note = re.search(r"/letter/([\w-]+)\?", saved.text)
            if note:
                browser.get(f"{app.url}/case/{denial}/letter/{note.group(1)}.pdf", params={"ctx": ctx}, timeout=60)
        practice = requests.Session()
        worklist = practice.get(f"{app.url}/launch", params={"iss": f"{ehr.url}/fhir"}, timeout=60)
        ctx = re.search(r"ctx=([\w-]+)", worklist.url).group(1)  # type: ignore[union-attr]
        for path in ("/worklist.csv", "/worklist.fhir.json", "/rates", "/audit"):
            assert practice.get(f"{app.url}{path}", params={"ctx": ctx}, timeout=60).status_code == 200
        iss = f"{ehr.url}/fhir"
        auth = BackendAuth("p2p-logs-backend", KEY, "RS384", scope=SYNC_SCOPE)
        sync(flask_app.extensions["p2p_db"], FhirClient(iss, lambda: auth.token(iss)), clock=Clock.now_in("UTC"))
    finally:
        app.stop()
        ehr.stop()
    lines = every_log_line.lines
    assert len(lines) > 200 and any(line.startswith("DEBUG") for line in lines)  # the scan saw a verbose run
    assert len(phi) >= 20 and "Quillfeather" in phi and "1974-03-14" in phi and "984213657" in phi
    for secret in [*phi, *TYPED, "Dr. Logscan"]:
        found = [line[:200] for line in lines if secret.lower() in line.lower()]
        assert not found, f"{secret!r} is in the log: {found[:3]}"
