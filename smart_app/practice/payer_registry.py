"""The payer registry (``P2P_PAYER_REGISTRY``, YAML): how the practice reaches each payer's own API, as each payer
registered it. Per payer (keyed as in ``criteria/payers.yaml``): the FHIR base of its Da Vinci PDex Provider Access
API and of its PAS API, its token endpoint, the client id it gave the practice, and where the practice's private key
is (a PEM file, or an environment variable holding it; never the key in the file). Checked by the same lint as the
rule files (``p2p-brief criteria lint FILE``): a registry with a problem is refused whole, with every problem named.

Example::

    payers:
      uhc:
        providerAccess: https://api.uhc.example/pdex/fhir
        pas: https://api.uhc.example/pas/fhir
        tokenEndpoint: https://api.uhc.example/oauth2/token
        clientId: prairie-family-medicine
        privateKey: {file: /etc/p2p-brief/uhc-key.pem}     # or {env: P2P_UHC_KEY}
        group: provider-group-1234                         # optional: export this Group, else search
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from joserfc.jwk import ECKey, RSAKey

from smart_app.criteria.lint import PAYER_REGISTRY, lint
from smart_app.errors import InputError
from smart_app.smart.client_auth import import_private_key, load_private_key


@dataclass(frozen=True)
class PayerRegistration:
    """One payer's API as it registered the practice."""

    key: str
    provider_access: str
    pas: str
    token_endpoint: str
    client_id: str
    key_file: str | None
    key_env: str | None
    alg: str = "RS384"
    scope: str | None = None
    group: str | None = None

    def private_key(self) -> RSAKey | ECKey:
        """The practice's private key for this payer, from its file or its environment variable."""
        if self.key_file:
            return load_private_key(self.key_file)
        pem = os.environ.get(self.key_env or "")
        if not pem:
            raise InputError(f"payer {self.key}: the environment variable {self.key_env} (its private key) is not set")
        return import_private_key(pem.encode("utf-8"), f"the environment variable {self.key_env}")


def load_registry(path: str | Path) -> dict[str, PayerRegistration]:
    """Every payer of the registry at ``path``; ``InputError`` naming every problem when the file has any."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: the payer registry (P2P_PAYER_REGISTRY) does not exist")
    problems = lint(file, schema=PAYER_REGISTRY)
    if problems:
        raise InputError("the payer registry has problems:\n" + "\n".join(problems))
    data: dict[str, Any] = yaml.safe_load(file.read_text(encoding="utf-8"))
    return {key: _registration(key, entry) for key, entry in data["payers"].items()}


def _registration(key: str, entry: dict[str, Any]) -> PayerRegistration:
    base = str(entry["providerAccess"]).rstrip("/")
    return PayerRegistration(
        key=key,
        provider_access=base,
        pas=str(entry.get("pas") or base).rstrip("/"),
        token_endpoint=str(entry["tokenEndpoint"]),
        client_id=str(entry["clientId"]),
        key_file=entry["privateKey"].get("file"),
        key_env=entry["privateKey"].get("env"),
        alg=str(entry.get("alg") or "RS384"),
        scope=entry.get("scope"),
        group=entry.get("group"),
    )


def registration(path: str | Path | None, name: str) -> PayerRegistration:
    """The payer ``name`` of the registry; ``InputError`` when there is no registry or no such payer in it."""
    if not path:
        raise InputError("sync --payer needs P2P_PAYER_REGISTRY (the YAML file of the payers' APIs)")
    payers = load_registry(path)
    if name not in payers:
        raise InputError(f"{path}: no payer {name!r} (it has: {', '.join(sorted(payers))})")
    return payers[name]
