"""``p2p-brief sync`` reads one EHR once, under its tenant's address, however many of its addresses are allowed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from smart_app import cli

TENANT, ALIAS = "https://ehr.example/fhir", "https://launcher.example/v/r4/fhir"


def test_an_ehr_allowed_under_two_addresses_is_synced_once_as_its_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "backend.pem"
    key.write_bytes(RSAKey.generate_key(2048).as_pem(private=True))
    monkeypatch.setenv("P2P_ALLOWED_ISS", f"{ALIAS},{TENANT}")
    monkeypatch.setenv("P2P_TENANT_ALIASES", f"{ALIAS}={TENANT}")
    monkeypatch.setenv("P2P_BACKEND_KEY_FILE", str(key))
    monkeypatch.setenv("P2P_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    synced: list[str] = []

    def fake_sync(db: Any, client: Any, **kwargs: Any) -> SimpleNamespace:
        synced.append(client.base_url)
        return SimpleNamespace(read=0, eobs_read=0, pages=0, via="search", denials=0, new_cases=0, new_p2p_eligible=0,
                               high_water=None, refused=0, not_read={})  # fmt: skip

    monkeypatch.setattr("smart_app.practice.sync.sync", fake_sync)
    assert cli.main(["sync"]) == 0
    assert synced == [TENANT]
    assert capsys.readouterr().out.startswith(f"{TENANT}: 0 ClaimResponse(s) and 0 ExplanationOfBenefit(s) read")
