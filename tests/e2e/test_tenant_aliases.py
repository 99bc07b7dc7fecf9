"""One EHR under two base URLs (as the SMART launcher's standalone address differs from its chart-launch address,
and Epic has per-organization URLs): with ``P2P_TENANT_ALIASES`` the cases seen at chart launches under one address
are the worklist's under the other, and a call note, a hand entry and the audit log are one tenant's."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.sandbox.oauth_models import DemoUser
from smart_app.serving import RunningServer, bind, wait_until_ready
from smart_app.web import create_app

PATIENTS = ("pat-lumbar-mri", "pat-knee-tka", "pat-ra-tnf", "pat-glp1-t2dm")
CALL = {
    "call_date": "2026-11-23", "start_time": "10:05", "end_time": "10:19", "reviewer_name": "Dr. Alias Reviewer",
    "disposition": "upheld", "notes": "Upheld.",
}  # fmt: skip


@dataclass
class TwoAddresses:
    app: RunningServer
    chart_base: str  # the address the EHR launches the app from (127.0.0.1): the tenant
    standalone_base: str  # the same EHR as the standalone sign-in reaches it (localhost): an alias


@pytest.fixture(scope="module")
def ehr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoAddresses]:
    ehr_server, app_server = bind(), bind()
    other_origin = ehr_server.url.replace("127.0.0.1", "localhost")
    client = RegisteredClient("p2p-aliases", [f"{app_server.url}/callback"], f"{app_server.url}/launch")
    ehr_app = create_ehr_app(EhrSettings(base_url=ehr_server.url, clients=[client], inspector_token="x",
                                         require_consent=False, also_served_at=(other_origin,)))  # fmt: skip
    ehr_app.extensions["demo_ehr"].user = DemoUser("demo-clinician")
    ehr_server.mount(ehr_app)
    chart_base, standalone_base = f"{ehr_server.url}/fhir", f"{other_origin}/fhir"
    db = Path(tmp_path_factory.mktemp("aliases")) / "app.sqlite3"
    app_server.mount(create_app({
        "CLIENT_ID": "p2p-aliases", "INSECURE_COOKIES": True, "DATABASE_URL": f"sqlite:///{db}",
        "ALLOWED_ISS": [chart_base, standalone_base], "AUTH_ORIGINS": [ehr_server.url],  # sign-in on 127.0.0.1
        "TENANT_ALIASES": f"{standalone_base}={chart_base}",
    }))  # fmt: skip
    wait_until_ready(f"{app_server.url}/health")
    yield TwoAddresses(app_server, chart_base, standalone_base)
    app_server.stop()
    ehr_server.stop()


def _ctx(response: requests.Response) -> str:
    return re.search(r"ctx=([\w-]+)", response.url).group(1)  # type: ignore[union-attr]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_cases_seen_at_chart_launches_are_on_the_worklist_signed_in_under_the_other_address(
    ehr: TwoAddresses,
) -> None:
    chart = requests.Session()
    chart_origin = ehr.chart_base.removesuffix("/fhir")
    for patient in PATIENTS:
        listing = chart.get(f"{chart_origin}/launch?patient={patient}", timeout=60)
        assert listing.status_code == 200 and "Open brief" in listing.text
    lumbar_ctx = _ctx(chart.get(f"{chart_origin}/launch?patient=pat-lumbar-mri", timeout=60))
    form = chart.get(f"{ehr.app.url}/denials/new", params={"ctx": lumbar_ctx}, timeout=30).text
    entered = chart.post(f"{ehr.app.url}/denials/new", timeout=60, data={
        "ctx": lumbar_ctx, "csrf": _csrf(form), "payer": "Aetna", "plan_type": "commercial", "state": "il",
        "service_system": "CPT", "service_code": "72148", "service_display": "MRI lumbar spine by fax",
        "decided_date": "2026-11-20", "decided_time": "09:00", "reference_number": "FAX-ALIAS-1",
        "reason_text": "Not medically necessary.", "ordering_physician": "Dr. Priya Nandakumar",
        "practice": "Organization/org-lumbar-prairie-family-med",
    })  # fmt: skip
    assert entered.status_code == 200 and "/brief/hand-" in entered.url

    practice = requests.Session()
    worklist = practice.get(f"{ehr.app.url}/launch", params={"iss": ehr.standalone_base}, timeout=60)
    assert worklist.status_code == 200 and "/worklist?ctx=" in worklist.url
    rows = re.findall(r'id="case-(\d+)"', worklist.text)
    assert len(rows) == 5, "the four cases seen at chart launches under the other address, and the one typed in"
    assert "Quillfeather" in worklist.text
    audit = practice.get(f"{ehr.app.url}/audit", params={"ctx": _ctx(worklist)}, timeout=60)
    assert audit.status_code == 200 and "pat-knee-tka" in audit.text  # the chart launches' accesses

    # A call recorded from the worklist (written to the EHR under the standalone address) is the chart's case's.
    exported = practice.get(f"{ehr.app.url}/worklist.csv", params={"ctx": _ctx(worklist)}, timeout=60).text
    (lumbar_case,) = [row["case"] for row in csv.DictReader(io.StringIO(exported))
                      if row["patient_id"] == "pat-lumbar-mri" and "by fax" not in row["service"]]  # fmt: skip
    opened = practice.get(f"{ehr.app.url}/worklist/{lumbar_case}/open", params={"ctx": _ctx(worklist)}, timeout=60)
    assert opened.status_code == 200 and "/brief/cr-lumbar-mri-1" in opened.url
    listing = practice.get(f"{ehr.app.url}/", params={"ctx": _ctx(opened)}, timeout=60)
    assert "MRI lumbar spine by fax" in listing.text  # the hand entry typed at the chart launch
    saved = practice.post(f"{ehr.app.url}/outcome/cr-lumbar-mri-1", timeout=60,
                          data={**CALL, "ctx": _ctx(opened), "csrf": _csrf(opened.text)})  # fmt: skip
    assert saved.status_code == 200 and "note=" in saved.url and "Call note saved to the chart as" in saved.text
    case = chart.get(f"{ehr.app.url}/case/cr-lumbar-mri-1", params={"ctx": lumbar_ctx}, timeout=60)
    assert case.status_code == 200 and "Dr. Alias Reviewer" in case.text
