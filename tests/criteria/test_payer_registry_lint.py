"""The payer registry (``P2P_PAYER_REGISTRY``) is checked by ``p2p-brief criteria lint``, as a rule file is: its
schema, payers that ``criteria/payers.yaml`` does not know, and a private key written into the file (it must be
named: a PEM file or an environment variable). ``sync --payer`` refuses a registry with any problem, naming each."""

from __future__ import annotations

from pathlib import Path

import pytest

from smart_app import cli

GOOD = """payers:
  uhc:
    providerAccess: https://api.uhc.example/pdex/fhir
    pas: https://api.uhc.example/pas/fhir
    tokenEndpoint: https://api.uhc.example/oauth2/token
    clientId: prairie-family-medicine
    privateKey: {file: /etc/p2p-brief/uhc-key.pem}
"""
PEM = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----"


def _lint(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    path = tmp_path / "payer-registry.yaml"
    path.write_text(text)
    code = cli.main(["criteria", "lint", str(path)])
    return code, capsys.readouterr().out, path


def test_a_registry_as_each_payer_registered_the_practice_is_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aetna = """  aetna:
    providerAccess: https://fhir.aetna.example/provider-access
    tokenEndpoint: https://auth.aetna.example/token
    clientId: "0oa5pfm"
    privateKey: {env: P2P_AETNA_KEY}
    alg: ES384
"""
    code, out, _ = _lint(tmp_path, GOOD + "    group: provider-group-1\n" + aetna, capsys)
    assert (code, out) == (0, "criteria lint: no problems\n")


def test_a_payer_without_its_token_endpoint_is_named_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, path = _lint(tmp_path, GOOD.replace("    tokenEndpoint: https://api.uhc.example/oauth2/token\n", ""),
                            capsys)  # fmt: skip
    assert code == 1
    assert out == f"{path}:3: payers/uhc: 'tokenEndpoint' is a required property\n"


@pytest.mark.parametrize(
    "key",
    [f'"{PEM}"', f'{{file: "{PEM}"}}', '{kty: RSA, n: "abc", e: AQAB, d: "secret"}'],
    ids=["pem-in-place-of-the-key", "pem-in-place-of-the-file", "jwk"],
)
def test_a_private_key_written_into_the_registry_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    code, out, path = _lint(tmp_path, GOOD.replace("{file: /etc/p2p-brief/uhc-key.pem}", key), capsys)
    assert code == 1
    assert "a private key is written inline" in out
    assert "name its PEM file (privateKey: {file: PATH}) or an environment variable (privateKey: {env: NAME})" in out
    assert out.startswith(f"{path}:7: payers/uhc/privateKey")


def test_a_payer_unknown_to_payers_yaml_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, path = _lint(tmp_path, GOOD.replace("  uhc:", "  united:"), capsys)
    assert (code, out) == (1, f"{path}:3: payers/united: 'united' is not a payer key of payers.yaml\n")


def test_sync_refuses_a_registry_with_problems_and_criteria_lint_checks_the_configured_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = tmp_path / "practice-payers.yaml"  # any name: the setting says what it is
    registry.write_text(GOOD.replace("    tokenEndpoint: https://api.uhc.example/oauth2/token\n", ""))
    key = tmp_path / "backend.pem"
    from joserfc.jwk import RSAKey

    key.write_bytes(RSAKey.generate_key(2048).as_pem(private=True))
    monkeypatch.setenv("P2P_PAYER_REGISTRY", str(registry))
    monkeypatch.setenv("P2P_BACKEND_KEY_FILE", str(key))
    monkeypatch.setenv("P2P_ALLOWED_ISS", "https://ehr.example/fhir")
    monkeypatch.setenv("P2P_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    assert cli.main(["sync", "--payer", "uhc"]) == 1
    assert capsys.readouterr().err == (
        f"p2p-brief: the payer registry has problems:\n{registry}:3: payers/uhc: 'tokenEndpoint' is a required "
        "property\n"
    )
    assert cli.main(["criteria", "lint"]) == 1
    assert capsys.readouterr().out == f"{registry}:3: payers/uhc: 'tokenEndpoint' is a required property\n"
    registry.write_text(GOOD)
    assert cli.main(["sync", "--payer", "aetna"]) == 1
    assert capsys.readouterr().err == f"p2p-brief: {registry}: no payer 'aetna' (it has: uhc)\n"
