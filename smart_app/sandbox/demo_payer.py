"""The demo payer ``p2p-brief demo`` starts beside the demo EHR: the same sandbox on its own origin, with its own
authorization server, UnitedHealthcare's data (``fhir/demo-payer``) and its own API (PDex ``$davinci-data-export``,
PAS ``Claim/$inquire``); and the payer registry (``P2P_PAYER_REGISTRY``) that reaches it, as the payer registered
the practice."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from smart_app.content import content_dir
from smart_app.smart.client_auth import load_private_key, public_jwks

from .app import create_ehr_app
from .settings import EhrSettings, RegisteredClient

DEMO_PAYER = "uhc"  # its key in criteria/payers.yaml
DEMO_PAYER_CLIENT_ID = "p2p-brief-demo-practice"  # the client id the demo payer gave the practice
DEMO_PAYER_GROUP = "uhc-attributed-4112233448"  # its attribution list for the demo practice (fhir/demo-payer)


def create_demo_payer(payer_url: str, app_url: str, inspector: str, key_file: Path) -> Flask:
    """The demo payer's app, with the practice registered as a Backend Services client under ``key_file``."""
    return create_ehr_app(
        EhrSettings(
            base_url=payer_url,
            clients=[
                RegisteredClient(  # as the payer registers a practice: client id and public key, Backend Services
                    DEMO_PAYER_CLIENT_ID,
                    [f"{app_url}/callback"],
                    f"{app_url}/launch",
                    "private_key_jwt",
                    jwks=public_jwks(load_private_key(key_file), "RS384"),
                    name="Prairie Family Medicine (P2P Brief)",
                )
            ],
            inspector_token=inspector,
            bundles_dir=content_dir("fhir") / "demo-payer",
            payer_api=True,
        )
    )


def write_demo_registry(path: Path, payer_url: str, key_file: Path) -> Path:
    """Write the payer registry for the demo payer at ``path`` (the key named by its file, never inlined)."""
    path.write_text(
        "# Written by `p2p-brief demo`: the demo payer's API as it registered the practice (P2P_PAYER_REGISTRY).\n"
        f"payers:\n  {DEMO_PAYER}:\n    providerAccess: {payer_url}/fhir\n    pas: {payer_url}/fhir\n"
        f"    tokenEndpoint: {payer_url}/oauth/token\n    clientId: {DEMO_PAYER_CLIENT_ID}\n"
        f"    privateKey: {{file: {key_file}}}\n    group: {DEMO_PAYER_GROUP}\n",
        encoding="utf-8",
    )
    return path.resolve()
