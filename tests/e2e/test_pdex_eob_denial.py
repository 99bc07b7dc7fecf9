"""A denial the EHR holds only as a Da Vinci PDex ExplanationOfBenefit (no ClaimResponse): launched from the demo
EHR, it is on the patient's denial list with its CARC reason in words, and its brief opens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
import requests
from pairs import Pair, start_pair

PATIENT, DENIAL = "pat-shoulder-eob", "eob-pdex-shoulder-mri-1"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    started = start_pair(Path(tmp_path_factory.mktemp("pdex")), "p2p-pdex")
    yield started
    started.stop()


def test_the_eob_only_denial_is_listed_and_its_brief_opens(pair: Pair) -> None:
    browser = requests.Session()
    listing = browser.get(f"{pair.ehr.url}/launch?patient={PATIENT}", timeout=60)
    assert listing.status_code == 200 and "Prior-authorization denials" in listing.text
    listed = _text(listing.text)
    assert "73221" in listed and "UnitedHealthcare" in listed, listed
    assert f"/brief/{DENIAL}" in listing.text
    ctx = re.search(r"ctx=([\w-]+)", listing.url).group(1)  # type: ignore[union-attr]

    brief = browser.get(f"{pair.app.url}/brief/{DENIAL}", params={"ctx": ctx}, timeout=60)
    assert brief.status_code == 200
    page = _text(brief.text)
    assert "A266120477" in page  # the preAuthRef to quote to the payer
    assert "medical necessity" in page  # CARC 50 in words, from the shipped code table
    assert "Magnetic resonance" in page or "73221" in page

    other = browser.get(f"{pair.app.url}/brief/eob-no-such-eob", params={"ctx": ctx}, timeout=60)
    assert other.status_code == 404
