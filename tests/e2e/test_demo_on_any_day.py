"""The demo on the day it runs: its charts are moved to today, so every demo patient's denial list shows the P2P
window still open (time left), never 'closed' — on the day this suite runs, whatever that day is."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
import requests
from pairs import Pair, start_pair

PATIENTS = ("pat-lumbar-mri", "pat-ra-tnf", "pat-glp1-t2dm")  # the knee's payer hears a P2P only before deciding


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    started = start_pair(Path(tmp_path_factory.mktemp("today")), "p2p-today")  # no pinned clock: today's date
    yield started
    started.stop()


@pytest.mark.parametrize("patient", PATIENTS)
def test_the_denial_list_shows_time_left_today(pair: Pair, patient: str) -> None:
    listing = requests.Session().get(f"{pair.ehr.url}/launch?patient={patient}", timeout=60)
    assert listing.status_code == 200 and "Prior-authorization denials" in listing.text
    rows = [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row))) for row in listing.text.split("</tr>")[1:-1]]
    assert rows, listing.text
    for row in rows:
        assert "closed" not in row, row
        assert re.search(r"\d+ d \d+ h left", row), row
