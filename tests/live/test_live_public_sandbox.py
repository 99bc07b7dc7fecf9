"""The whole flow against the public SMART sandbox (launch.smarthealthit.org), with no clicking.

Skipped unless ``P2P_LIVE_SANDBOX=1`` (it needs the internet, which CI does not have). It seeds one demo chart,
renamed with a random suffix, into the sandbox's open FHIR server, builds a smart-launcher-v2 launch code (see
``launch/smart-launcher.md``: public client, PKCE required, one patient and one provider so nothing asks for a
click), walks the launch as a browser would, records a call and reads the DocumentReference back.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests

from smart_app.content import content_dir
from smart_app.serving import bind, wait_until_ready
from smart_app.web import create_app

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        os.environ.get("P2P_LIVE_SANDBOX") != "1", reason="set P2P_LIVE_SANDBOX=1 to run against the public sandbox"
    ),
]
SANDBOX = "https://launch.smarthealthit.org"
ISS = f"{SANDBOX}/v/r4/fhir"
CLIENT_ID = "p2p-brief"


def _launch_code(patient: str, provider: str) -> str:
    """smart-launcher-v2's 17-position launch array, base64url without padding (src/isomorphic/codec.ts)."""
    fields = [0, patient, provider, "NONE", 1, 1, 1, "", "", CLIENT_ID, "", "", "", "", 0, 2, ""]
    return base64.urlsafe_b64encode(json.dumps(fields, separators=(",", ":")).encode()).decode().rstrip("=")


def _seeded_chart(suffix: str) -> dict[str, Any]:
    """The lumbar-MRI demo chart as a transaction of PUTs, every id suffixed so runs never collide."""
    bundle = json.loads((content_dir("fhir") / "demo" / "lumbar-mri.json").read_text())
    text = json.dumps(bundle)
    for entry in bundle["entry"]:
        old = entry["resource"]["id"]
        text = re.sub(rf'(?<=[/"]){re.escape(old)}(?=")', f"{old}-{suffix}", text)
    renamed = json.loads(text)
    for entry in renamed["entry"]:
        resource = entry["resource"]
        entry["request"] = {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
        entry.pop("fullUrl", None)
    return {"resourceType": "Bundle", "type": "transaction", "entry": renamed["entry"]}


def test_public_sandbox_launch_brief_and_note(tmp_path: Path) -> None:
    suffix = secrets.token_hex(4)
    seeded = requests.post(
        ISS, json=_seeded_chart(suffix), headers={"Content-Type": "application/fhir+json"}, timeout=60
    )
    assert seeded.status_code == 200, seeded.text[:500]
    print("sandbox version:", requests.get(f"{SANDBOX}/env.js", timeout=20).text[:200])  # noqa: T201

    server = bind()
    app = create_app(
        {
            "CLIENT_ID": CLIENT_ID,
            "ALLOWED_ISS": [ISS],
            "INSECURE_COOKIES": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite3'}",
            "FHIR_TIMEOUT": 60,
        }
    )
    server.mount(app)
    wait_until_ready(f"{server.url}/health")
    try:
        browser = requests.Session()
        code = _launch_code(f"pat-lumbar-mri-{suffix}", f"prac-lumbar-nandakumar-{suffix}")
        listing = browser.get(f"{server.url}/launch", params={"iss": ISS, "launch": code}, timeout=60)
        assert listing.status_code == 200, listing.text[:500]
        assert "CPT 72148 MRI lumbar spine without contrast" in listing.text
        link = unescape(re.search(r'href="(/brief/[^"]+)"', listing.text).group(1))
        brief = browser.get(server.url + link, timeout=60)
        assert "there is no documentation of 6 weeks of conservative treatment" in brief.text
        form = {
            "ctx": re.search(r'name="ctx" value="([^"]+)"', brief.text).group(1),
            "csrf": re.search(r'name="csrf" value="([^"]+)"', brief.text).group(1),
            "call_date": "2026-11-23", "start_time": "10:05", "end_time": "10:19",
            "reviewer_name": "Dr. Live Sandbox", "reviewer_credentials": "MD", "reviewer_specialty": "Radiology",
            "disposition": "upheld", "authorization_number": "", "notes": f"live test {suffix}",
        }  # fmt: skip
        action = unescape(re.search(r'<form method="post" action="([^"]+)" class="callform"', brief.text).group(1))
        saved = browser.post(server.url + action, data=form, timeout=60)
        reference = re.search(r'class="ref">(DocumentReference/[^<]+)<', saved.text)
        assert reference, saved.text[:1000]
        note = requests.get(f"{ISS}/{reference.group(1)}", timeout=60).json()
        assert note["subject"]["reference"] == f"Patient/pat-lumbar-mri-{suffix}"
        assert f"live test {suffix}" in base64.b64decode(note["content"][0]["attachment"]["data"]).decode()
    finally:
        server.stop()
