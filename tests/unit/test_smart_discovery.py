"""Discovery: smart-configuration first, the CapabilityStatement's oauth-uris as a fallback, cached per iss."""

from __future__ import annotations

import re

import pytest
import responses

from smart_app.errors import DiscoveryError, UntrustedEndpoint
from smart_app.smart.discovery import OAUTH_URIS, DiscoveryCache, SmartConfiguration, check_endpoints, discover

ISS = "https://ehr.example/fhir"
WELL_KNOWN = f"{ISS}/.well-known/smart-configuration"
METADATA = f"{ISS}/metadata"

SMART_CONFIG = {
    "issuer": ISS,
    "jwks_uri": "https://ehr.example/jwks",
    "authorization_endpoint": "https://ehr.example/authorize",
    "token_endpoint": "https://ehr.example/token",
    "capabilities": ["launch-ehr", "permission-v2", "client-public"],
    "code_challenge_methods_supported": ["S256"],
    "scopes_supported": ["openid", "launch"],
}

CAPABILITY_STATEMENT = {
    "resourceType": "CapabilityStatement",
    "rest": [
        {
            "mode": "server",
            "security": {
                "extension": [
                    {
                        "url": OAUTH_URIS,
                        "extension": [
                            {"url": "authorize", "valueUri": "https://old.example/auth"},
                            {"url": "token", "valueUri": "https://old.example/token"},
                        ],
                    }
                ]
            },
        }
    ],
}


@responses.activate
def test_discover_reads_well_known_smart_configuration() -> None:
    responses.get(WELL_KNOWN, json=SMART_CONFIG)

    config = discover(ISS)

    assert config.source == "smart-configuration"
    assert config.token_endpoint == "https://ehr.example/token"
    assert config.authorization_endpoint == "https://ehr.example/authorize"
    assert config.jwks_uri == "https://ehr.example/jwks"
    assert config.issuer == ISS
    assert config.capabilities == frozenset({"launch-ehr", "permission-v2", "client-public"})
    assert config.code_challenge_methods == ("S256",)
    assert config.scope_version == 2
    assert len(responses.calls) == 1  # no CapabilityStatement needed


@responses.activate
def test_discover_falls_back_to_capability_statement_oauth_uris() -> None:
    responses.get(WELL_KNOWN, status=404)
    responses.get(METADATA, json=CAPABILITY_STATEMENT)

    config = discover(ISS)

    assert config.source == "capability-statement"
    assert config.token_endpoint == "https://old.example/token"
    assert config.authorization_endpoint == "https://old.example/auth"
    assert config.scope_version == 1
    assert [c.request.url for c in responses.calls] == [WELL_KNOWN, METADATA]


@responses.activate
def test_discover_with_neither_raises_discovery_error() -> None:
    responses.get(WELL_KNOWN, status=404)
    responses.get(METADATA, status=404)

    with pytest.raises(DiscoveryError) as excinfo:
        discover(ISS)

    assert excinfo.value.status == 502
    assert ISS in excinfo.value.message


@responses.activate
def test_discover_capability_statement_without_oauth_uris_raises() -> None:
    responses.get(WELL_KNOWN, status=404)
    responses.get(METADATA, json={"resourceType": "CapabilityStatement", "rest": [{"mode": "server"}]})

    with pytest.raises(DiscoveryError, match="neither smart-configuration nor oauth-uris"):
        discover(ISS)


@responses.activate
def test_discovery_cache_fetches_once_per_iss() -> None:
    responses.get(WELL_KNOWN, json=SMART_CONFIG)
    other = "https://other.example/fhir"
    responses.get(
        f"{other}/.well-known/smart-configuration",
        json={"token_endpoint": f"{other}/t", "authorization_endpoint": f"{other}/a", "capabilities": ["launch-ehr"]},
    )
    cache = DiscoveryCache()

    first = cache.get(ISS)
    second = cache.get(ISS)

    assert first is second
    assert len(responses.calls) == 1
    assert cache.get(other).token_endpoint == f"{other}/t"
    assert len(responses.calls) == 2


def _config(**endpoints: str) -> SmartConfiguration:
    values = {"token_endpoint": "https://ehr.example/oauth/token", "authorization_endpoint": None, **endpoints}
    return SmartConfiguration(iss="https://ehr.example/fhir/r4", **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("endpoints", "trusted", "refused"),
    [
        ({"authorization_endpoint": "https://ehr.example/oauth/authorize"}, [], None),
        ({"token_endpoint": "https://evil.example/token"}, [], "token endpoint on evil.example"),
        ({"authorization_endpoint": "https://evil.example/authorize"}, [], "authorization endpoint on evil.example"),
        ({"jwks_uri": "https://evil.example/jwks"}, [], "key (jwks_uri) endpoint"),
        ({"token_endpoint": "http://ehr.example/oauth/token"}, [], "token endpoint"),  # a downgrade to http
        ({"token_endpoint": "https://ehr.example:8443/token"}, [], "token endpoint"),  # another port, another origin
        # Oracle Health signs in on authorization.cerner.com for fhir-ehr.cerner.com: allowed only when listed.
        (
            {"token_endpoint": "https://authorization.cerner.com/tenants/t/token"},
            ["https://authorization.cerner.com"],
            None,
        ),
    ],
)
def test_endpoints_must_be_on_the_fhir_servers_origin_or_a_trusted_one(
    endpoints: dict[str, str], trusted: list[str], refused: str | None
) -> None:
    config = _config(**endpoints)
    if refused is None:
        assert check_endpoints(config, trusted) is config
    else:
        with pytest.raises(UntrustedEndpoint, match=re.escape(refused)):
            check_endpoints(config, trusted)
