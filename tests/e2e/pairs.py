"""Helpers for end-to-end tests that need their own app and demo EHR (settings of their own, a user switched at
run time), and a handler that keeps every log line."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.sandbox.oauth_models import DemoUser
from smart_app.serving import RunningServer, bind, wait_until_ready
from smart_app.web import create_app

#: The moment a test that reads dates off the demo charts pins the demo EHR (``EhrSettings.now``) and the app
#: (``CLOCK``) to: the day the charts were written for (their Bundle.timestamp), so the brief shows the dates in
#: fhir/demo. Pairs not pinned run on today's date, with the charts moved to it.
DEMO_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("America/New_York"))


@dataclass
class Pair:
    """A running app and demo EHR (no consent screen), and their Flask apps."""

    app: RunningServer
    ehr: RunningServer
    app_flask: Flask
    ehr_flask: Flask

    @property
    def fhir(self) -> str:
        return f"{self.ehr.url}/fhir"

    def sign_in_as(self, practitioner: str) -> None:
        """Make the EHR's signed-in user another Practitioner from now on."""
        self.ehr_flask.extensions["demo_ehr"].user = DemoUser(practitioner)

    def stop(self) -> None:
        self.app.stop()
        self.ehr.stop()


def start_pair(
    folder: Path,
    client_id: str,
    *,
    app_settings: dict[str, Any] | None = None,
    more_clients: list[RegisteredClient] | None = None,
    ehr_profile: str = "us-core",
) -> Pair:
    """Start the demo EHR (``ehr_profile``: how it takes writes) and the app on free loopback ports, the app's
    database in ``folder``."""
    app, ehr = bind(), bind()
    client = RegisteredClient(client_id, [f"{app.url}/callback"], f"{app.url}/launch")
    ehr_flask = create_ehr_app(EhrSettings(base_url=ehr.url, clients=[client, *(more_clients or [])],
                                           inspector_token="x", require_consent=False,
                                           profile=ehr_profile))  # fmt: skip
    ehr.mount(ehr_flask)
    settings = {"CLIENT_ID": client_id, "ALLOWED_ISS": [f"{ehr.url}/fhir"], "INSECURE_COOKIES": True,
                "DATABASE_URL": f"sqlite:///{folder / 'app.sqlite3'}", **(app_settings or {})}  # fmt: skip
    app_flask = create_app(settings)
    app.mount(app_flask)
    wait_until_ready(f"{app.url}/health")
    return Pair(app, ehr, app_flask, ehr_flask)


def arrive(page: Any, heading: str) -> None:
    """Wait in ``page`` (Playwright) for the page with ``heading``, approving the EHR's consent screen if it comes
    first (once per browser context and client)."""
    page.wait_for_selector(f"button:has-text('Allow'), h1:has-text('{heading}')")
    if page.get_by_role("button", name="Allow").count():
        page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name=heading).wait_for()


def open_brief(browser: Any, ehr_url: str, patient: str, *, width: int = 1280) -> Any:
    """A new browser page at ``width`` px with ``patient``'s first brief open, launched from the demo EHR's chart
    (the consent screen approved); its context closes with ``page.context.close()``."""
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{ehr_url}/launch?patient={patient}")
    arrive(page, "Prior-authorization denials")
    page.get_by_role("link", name="Open brief").first.click()
    page.get_by_role("heading", name="Call script").wait_for()
    page.wait_for_load_state("networkidle")
    return page


def case_in_chart_frame(page: Any, ehr_url: str, patient: str) -> Any:
    """The patient's chart in the demo EHR, the app in its frame (consent approved), on the brief's first case
    page ("Call and follow-up"): the frame, as a Playwright FrameLocator."""
    page.goto(f"{ehr_url}/")
    page.click(f"a[href='/chart/{patient}']")
    frame = page.frame_locator("iframe")
    frame.get_by_role("button", name="Allow").click()
    frame.get_by_role("link", name="Open brief").click()
    frame.get_by_role("link", name="Call and follow-up").first.click()
    return frame


def review_form(page: str) -> dict[str, str]:
    """A letter's review form (``GET /letters/<id>``) as the page prefilled it: every field, the practice chosen
    (blank when none is), and the launch's ``ctx`` and ``csrf``."""
    form = {m[0]: unescape(m[1]) for m in re.findall(r'<input id="f-[^"]+" name="([^"]+)"[^>]*?value="([^"]*)"', page)}
    form |= {m[0]: unescape(m[1]) for m in re.findall(r'name="(\w+)"[^>]*>([^<]*)</textarea>', page)}
    for name, body in re.findall(r'<select id="f-[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        form[name] = chosen.group(1) if chosen else ""
    form["ctx"] = re.search(r'name="ctx" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form["csrf"] = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return form


class LogLines(logging.Handler):
    """Every log record, formatted, kept in ``lines``."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def every_log_line_at_debug() -> Iterator[LogLines]:
    """Every logger at DEBUG for the block, each line kept."""
    handler, root = LogLines(), logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
