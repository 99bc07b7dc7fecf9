"""``P2P_TENANT_ALIASES``: several addresses of one EHR, each mapped to the one tenant its records are kept under."""

from __future__ import annotations

import pytest

from smart_app.config import load_settings, tenant_of

CHART, STANDALONE, ORG2 = (
    "https://ehr.example/fhir",
    "https://launcher.example/v/r4/fhir",
    "https://ehr.example/org2/fhir",
)


def test_each_alias_names_its_tenant_and_other_addresses_are_their_own() -> None:
    settings = load_settings(environ={"P2P_TENANT_ALIASES": f"{STANDALONE}/={CHART}, {ORG2}={CHART}/"})
    aliases = settings["TENANT_ALIASES"]
    assert {tenant_of(a, aliases) for a in (CHART, STANDALONE, ORG2, f"{STANDALONE}/")} == {CHART}
    assert tenant_of("https://other.example/fhir", aliases) == "https://other.example/fhir"


def test_an_alias_writes_as_its_tenant_unless_told_otherwise() -> None:
    settings = load_settings(environ={"P2P_TENANT_ALIASES": f"{STANDALONE}={CHART},{ORG2}={CHART}",
                                      "P2P_WRITE_PROFILES": f"{CHART}=epic,{ORG2}=us-core"})  # fmt: skip
    assert settings["WRITE_PROFILES"] == {CHART: "epic", STANDALONE: "epic", ORG2: "us-core"}


def test_a_profile_set_only_for_the_launch_address_holds_for_its_tenant_too() -> None:
    """outbox flush looks the profile up by the tenant: set only on the alias, it was ignored there."""
    settings = load_settings(environ={"P2P_TENANT_ALIASES": f"{STANDALONE}={CHART}",
                                      "P2P_WRITE_PROFILES": f"{STANDALONE}=oracle-health"})  # fmt: skip
    assert settings["WRITE_PROFILES"] == {STANDALONE: "oracle-health", CHART: "oracle-health"}


def test_a_chain_of_aliases_stops_the_app_at_start() -> None:
    with pytest.raises(ValueError, match=f"P2P_TENANT_ALIASES: {ORG2} is both a tenant and an alias"):
        load_settings(environ={"P2P_TENANT_ALIASES": f"{STANDALONE}={ORG2},{ORG2}={CHART}"})
