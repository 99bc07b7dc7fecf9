"""The liaison prepares the brief, and the edits survive a new launch and reach the printed page, marked as the
practice's. Real app and demo EHR on loopback, no browser."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pypdf import PdfReader

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import bind, wait_until_ready
from smart_app.web import create_app


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    ehr, app = bind(), bind()
    client = RegisteredClient("p2p-edits", [f"{app.url}/callback"], f"{app.url}/launch")
    ehr.mount(
        create_ehr_app(EhrSettings(base_url=ehr.url, clients=[client], inspector_token="x", require_consent=False))
    )
    db = Path(tmp_path_factory.mktemp("edits")) / "app.sqlite3"
    app.mount(
        create_app(
            {
                "CLIENT_ID": "p2p-edits",
                "ALLOWED_ISS": [f"{ehr.url}/fhir"],
                "INSECURE_COOKIES": True,
                "DATABASE_URL": f"sqlite:///{db}",
            }
        )
    )
    wait_until_ready(f"{app.url}/health")
    yield ehr.url, app.url
    app.stop()
    ehr.stop()


def _open_brief(ehr_url: str, app_url: str) -> tuple[requests.Session, str, str]:
    browser = requests.Session()
    listing = browser.get(f"{ehr_url}/launch?patient=pat-knee-tka", timeout=30)
    link = re.search(r'href="(/brief/cr-knee-tka-1\?ctx=[^"]+)"', listing.text).group(1)  # type: ignore[union-attr]
    page = browser.get(app_url + link.replace("&amp;", "&"), timeout=30)
    return browser, page.url, page.text


def test_edits_round_trip_and_print_as_the_practices(servers: tuple[str, str]) -> None:
    ehr_url, app_url = servers
    browser, url, html = _open_brief(ehr_url, app_url)
    ctx = re.search(r"ctx=([\w-]+)", url).group(1)  # type: ignore[union-attr]
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    target = f"{app_url}/brief/cr-knee-tka-1/edits"
    bad = browser.post(target, data={"ctx": ctx, "csrf": csrf, "kind": "attestation", "text": "x"}, timeout=30)
    assert bad.status_code == 400 and "Choose the criterion you confirmed." in bad.text
    forged = browser.post(
        target, data={"ctx": ctx, "csrf": "forged", "kind": "talking-point", "text": "Forged point"}, timeout=30
    )
    assert forged.status_code == 400 and "did not come from this launch" in forged.text
    for form in (
        {
            "kind": "attestation",
            "criterion": "tka-oa-radiographic",
            "text": "Report 2026-07-08: KL grade 4, bone on bone.",
        },
        {"kind": "talking-point", "text": "Mention 20 PT visits over 10 weeks without gain."},
        {"kind": "guideline", "text": "Practice-added guideline citation, 2024.", "source": "https://example.org/g"},
    ):
        saved = browser.post(target, data={"ctx": ctx, "csrf": csrf, **form}, timeout=30)
        assert saved.status_code == 200

    again, _, html = _open_brief(ehr_url, app_url)  # a new launch, a new session: the edits are still there
    assert "Attested, not chart evidence: confirmed by" in html and "KL grade 4" in html
    assert "Mention 20 PT visits over 10 weeks without gain." in html and "Forged point" not in html
    assert "added by the practice" in html
    pdf_link = re.search(r'href="(/brief/cr-knee-tka-1\.pdf\?ctx=[^"]+)"', html).group(1)  # type: ignore[union-attr]
    pdf = again.get(app_url + pdf_link.replace("&amp;", "&"), timeout=60).content
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert len(reader.pages) == 1
    assert "Attested (not chart evidence):" in text and "(added by the practice" in text
    assert "Talking points (the practice's)" in text
    assert "not documented — confirm before the call" in text  # the criterion's chart status is unchanged
