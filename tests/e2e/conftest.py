"""End-to-end fixtures: the demo EHR and the app on free loopback ports, and Debian's headless Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pairs import DEMO_NOW

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import RunningServer, bind, wait_until_ready
from smart_app.web import create_app

INSPECTOR = "e2e-inspector-token"

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Demo:
    """The running pair: the EHR (its Flask app too, for fault injection) and the app."""

    ehr: RunningServer
    app: RunningServer
    ehr_app: Any
    inspector: str = INSPECTOR

    @property
    def fhir_base(self) -> str:
        return f"{self.ehr.url}/fhir"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    ehr_server, app_server = bind(), bind()
    ehr_app = create_ehr_app(
        EhrSettings(
            base_url=ehr_server.url,
            clients=[RegisteredClient("p2p-e2e", [f"{app_server.url}/callback"], f"{app_server.url}/launch")],
            inspector_token=INSPECTOR,
            now=DEMO_NOW,
        )
    )
    db = Path(tmp_path_factory.mktemp("e2e")) / "app.sqlite3"
    app = create_app(
        {
            "CLIENT_ID": "p2p-e2e",
            "ALLOWED_ISS": [f"{ehr_server.url}/fhir"],
            "EHR_ORIGINS": [ehr_server.url],
            "INSECURE_COOKIES": True,
            "DATABASE_URL": f"sqlite:///{db}",
            "CLOCK": lambda: DEMO_NOW,
        }
    )
    ehr_server.mount(ehr_app)
    app_server.mount(app)
    wait_until_ready(f"{app_server.url}/health")
    wait_until_ready(f"{ehr_server.url}/fhir/.well-known/smart-configuration")
    yield Demo(ehr_server, app_server, ehr_app)
    app_server.stop()
    ehr_server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    yield context.new_page()
    context.close()
