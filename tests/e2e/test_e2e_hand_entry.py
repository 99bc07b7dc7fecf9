"""A denial that came by fax, entered by hand, goes through the whole pipeline: list, brief (triage, payer
window, reviewer rights), call note written to the chart. Real app and demo EHR on loopback, no browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import bind, wait_until_ready
from smart_app.web import create_app

ZONE = "America/Chicago"
INSPECTOR = "hand-entry-inspector"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    ehr, app = bind(), bind()
    client = RegisteredClient("p2p-hand", [f"{app.url}/callback"], f"{app.url}/launch")
    ehr.mount(
        create_ehr_app(
            EhrSettings(base_url=ehr.url, clients=[client], inspector_token=INSPECTOR, require_consent=False)
        )
    )
    db = Path(tmp_path_factory.mktemp("hand")) / "app.sqlite3"
    app.mount(
        create_app(
            {
                "CLIENT_ID": "p2p-hand",
                "ALLOWED_ISS": [f"{ehr.url}/fhir"],
                "INSECURE_COOKIES": True,
                "DATABASE_URL": f"sqlite:///{db}",
                "TIMEZONE": ZONE,
            }
        )
    )
    wait_until_ready(f"{app.url}/health")
    yield ehr.url, app.url
    app.stop()
    ehr.stop()


def _launch(browser: requests.Session, ehr_url: str, patient: str) -> str:
    page = browser.get(f"{ehr_url}/launch?patient={patient}", timeout=30)
    assert page.status_code == 200
    return re.search(r"ctx=([\w-]+)", page.url).group(1)  # type: ignore[union-attr]


def _form(browser: requests.Session, app_url: str, ctx: str) -> str:
    page = browser.get(f"{app_url}/denials/new", params={"ctx": ctx}, timeout=30)
    assert page.status_code == 200 and "Reason, exactly as written" in page.text
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_hand_entered_denial_through_the_whole_pipeline(servers: tuple[str, str]) -> None:
    ehr_url, app_url = servers
    browser = requests.Session()
    ctx = _launch(browser, ehr_url, "pat-knee-tka")
    csrf = _form(browser, app_url, ctx)
    today = datetime.now(ZoneInfo(ZONE)).date().isoformat()
    entry = {
        "ctx": ctx,
        "csrf": csrf,
        "payer": "Cigna",
        "plan_type": "commercial",
        "state": "tx",
        "service_system": "CPT",
        "service_code": "73721",
        "service_display": "MRI knee without contrast",
        "decided_date": today,
        "decided_time": "00:05",
        "reason_text": "",
        "reference_number": "FAX-2291",
        "ordering_physician": "Dr. Elena Vasquez-Thornbury",
        "practice": "Organization/org-knee-gulfcoast-ortho",  # the demo clinician works for four practices
    }
    refused = browser.post(f"{app_url}/denials/new", data=entry, timeout=30)
    assert refused.status_code == 400
    assert "Copy the reason exactly as the letter words it." in refused.text
    assert 'value="FAX-2291"' in refused.text  # nothing typed is lost

    entry["reason_text"] = "The requested MRI is not medically necessary."
    saved = browser.post(f"{app_url}/denials/new", data=entry, timeout=30)
    assert saved.status_code == 200 and "/brief/hand-" in saved.url
    brief = saved.text
    assert "entered by hand" in brief
    assert "The requested MRI is not medically necessary." in brief
    assert "Request a peer-to-peer review" in brief
    assert "Request the P2P by" in brief and "72 hours from the decision" in brief  # eviCore reviews Cigna imaging
    assert "28 Tex. Admin. Code § 19.1710" in brief
    assert "FAX-2291" in brief and "Dr. Elena Vasquez-Thornbury" in brief

    listing = browser.get(f"{app_url}/", params={"ctx": ctx}, timeout=30).text
    assert "CPT 73721 MRI knee without contrast" in listing and "entered by hand" in listing

    call_csrf = re.search(r'name="csrf" value="([^"]+)"', brief).group(1)  # type: ignore[union-attr]
    denial_id = saved.url.split("/brief/")[1].split("?")[0]
    note = browser.post(
        f"{app_url}/outcome/{denial_id}",
        data={
            "ctx": ctx,
            "csrf": call_csrf,
            "call_date": today,
            "start_time": "10:00",
            "end_time": "10:12",
            "reviewer_name": "Dr. R. Reviewer",
            "disposition": "upheld",
            "notes": "Reviewer wants six weeks of therapy documented.",
        },
        timeout=30,
    )
    assert note.status_code == 200 and "Call note saved to the chart as" in note.text
    written = requests.get(
        f"{ehr_url}/fhir/DocumentReference",
        params={"patient": "pat-knee-tka"},
        headers={"Authorization": f"Bearer {INSPECTOR}", "Accept": "application/fhir+json"},
        timeout=30,
    ).json()
    resources = [e["resource"] for e in written.get("entry", [])]
    assert resources, "the call note reached the chart"
    related = [r["reference"] for r in resources[-1]["context"].get("related", [])]
    assert not any(
        ref.startswith("ClaimResponse/hand-") for ref in related
    )  # no reference to a resource that is not there

    other = requests.Session()
    other_ctx = _launch(other, ehr_url, "pat-ra-tnf")
    stranger = other.get(f"{app_url}/brief/{denial_id}", params={"ctx": other_ctx}, timeout=30)
    assert stranger.status_code == 404 and "FAX-2291" not in stranger.text
