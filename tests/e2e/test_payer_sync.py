"""``p2p-brief sync --payer NAME`` against the demo payer (its own origin and authorization server, PDex Provider
Access ``$davinci-data-export`` and PAS ``Claim/$inquire``) and the demo EHR, in-process, through the command a
practice runs: the payer's denial reaches the EHR's worklist under the right chart and practice, a member who
matches two charts is refused and listed, a payer that refuses the practice's token leaves nothing behind, and
``--inquire`` brings one request's decision."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import text

from smart_app import cli
from smart_app.brief.model import denial_summary
from smart_app.content import content_dir
from smart_app.denials.assess import Clock
from smart_app.fhir.systems import SYSTEMS
from smart_app.letters.denial import denial_from_letter
from smart_app.letters.model import Found, LetterFields, Service, Source, Window
from smart_app.letters.stored import fields_json
from smart_app.practice.tracking import track_denial
from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import RunningServer, bind, wait_until_ready
from smart_app.smart.client_auth import public_jwks
from smart_app.store.cases import cases_for
from smart_app.store.db import Database
from smart_app.store.letters import confirm_letter, letter, record_reading, save_letter

EHR_KEY, PAYER_KEY, OTHER_KEY = (RSAKey.generate_key(2048) for _ in range(3))
for _key in (EHR_KEY, PAYER_KEY, OTHER_KEY):
    _key.ensure_kid()
PAYER_DENIAL = "eob-uhc-pa-7741093"  # lumbar epidural injection, A3: in the payer's API only


def _server(app_settings: dict[str, Any], key: RSAKey, client_id: str) -> Iterator[tuple[RunningServer, Any]]:
    """A sandbox server; its data dated for today, as the command's clock is (both payer and EHR alike)."""
    server = bind()
    client = RegisteredClient(
        client_id, [f"{server.url}/cb"], f"{server.url}/launch", "private_key_jwt", jwks=public_jwks(key, "RS384")
    )
    app = create_ehr_app(EhrSettings(base_url=server.url, clients=[client], inspector_token="x", **app_settings))
    server.mount(app)
    wait_until_ready(f"{server.url}/fhir/.well-known/smart-configuration")
    yield server, app
    server.stop()


@pytest.fixture
def ehr() -> Iterator[tuple[RunningServer, Any]]:
    yield from _server({}, EHR_KEY, "p2p-sync")


@pytest.fixture
def payer() -> Iterator[tuple[RunningServer, Any]]:
    yield from _server(
        {"bundles_dir": content_dir("fhir") / "demo-payer", "payer_api": True}, PAYER_KEY, "prairie-family-medicine"
    )


@pytest.fixture
def practice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ehr: tuple[RunningServer, Any], payer: tuple[RunningServer, Any]
) -> dict[str, Any]:
    """The practice's settings for the command: its EHR backend client and a registry for the demo payer."""
    ehr_key, payer_key = tmp_path / "ehr.pem", tmp_path / "uhc.pem"
    ehr_key.write_bytes(EHR_KEY.as_pem(private=True))
    payer_key.write_bytes(PAYER_KEY.as_pem(private=True))
    payer_url = payer[0].url
    registry = tmp_path / "payer-registry.yaml"
    registry.write_text(
        f"payers:\n  uhc:\n    providerAccess: {payer_url}/fhir\n    tokenEndpoint: {payer_url}/oauth/token\n"
        f"    clientId: prairie-family-medicine\n    privateKey: {{file: {payer_key}}}\n"
        "    group: uhc-attributed-4112233448\n"
    )
    for name, value in {
        "BACKEND_CLIENT_ID": "p2p-sync",
        "BACKEND_KEY_FILE": str(ehr_key),
        "ALLOWED_ISS": f"{ehr[0].url}/fhir",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'p2p.sqlite3'}",
        "PAYER_REGISTRY": str(registry),
    }.items():
        monkeypatch.setenv(f"P2P_{name}", value)
    return {"tenant": f"{ehr[0].url}/fhir", "db": Database(f"sqlite:///{tmp_path / 'p2p.sqlite3'}"),
            "registry": registry, "payer": payer_url}  # fmt: skip


def test_the_payers_denial_reaches_the_ehrs_worklist(
    practice: dict[str, Any], payer: tuple[RunningServer, Any], capsys: pytest.CaptureFixture
) -> None:
    store = payer[1].extensions["demo_ehr"].store
    member = store.get("Patient", "uhc-mbr-7f3a9c")
    member["name"] = [{"family": "QUILLFEATHER", "given": ["RAY"]}]  # the payer's spelling: the chart's name is shown
    store.add_all([member])
    assert cli.main(["sync", "--payer", "uhc"]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"payer uhc ({practice['payer']}/fhir): 2 ExplanationOfBenefit(s) read in 1 page(s) by export, 1 open "
        "denial(s), 1 new case(s), 1 new and ready for a P2P, 0 refused\n"
    )
    (case,) = cases_for(practice["db"], practice["tenant"], ["Organization/org-lumbar-prairie-family-med"])
    assert (case.patient_id, case.denial_id) == ("pat-lumbar-mri", PAYER_DENIAL)  # the EHR's chart, not uhc-mbr-…
    assert case.payer == "UnitedHealthcare" and case.patient_name == "Raymond T. Quillfeather"
    assert case.service and "64483" in case.service
    assert case.status != "closed"  # an EOB is no ClaimResponse's twin of itself: its case stays open
    assert cli.main(["sync", "--payer", "uhc"]) == 0  # the next run reads only what changed since
    assert "0 ExplanationOfBenefit(s) read" in capsys.readouterr().out


def test_the_payer_is_searched_when_its_registration_names_no_group(
    practice: dict[str, Any], capsys: pytest.CaptureFixture
) -> None:
    registry: Path = practice["registry"]
    registry.write_text(registry.read_text().replace("    group: uhc-attributed-4112233448\n", ""))
    assert cli.main(["sync", "--payer", "uhc"]) == 0
    assert "2 ExplanationOfBenefit(s) read in 1 page(s) by search" in capsys.readouterr().out
    assert [c.denial_id for c in cases_for(practice["db"], practice["tenant"])] == [PAYER_DENIAL]


def test_a_member_id_and_birth_date_on_two_charts_is_refused_and_listed(
    practice: dict[str, Any], ehr: tuple[RunningServer, Any], capsys: pytest.CaptureFixture
) -> None:
    """A duplicate chart in the EHR carries the same member ID and birth date: the payer's decision could be either
    patient's, so it is recorded for neither, and the command names both charts (references only)."""
    store = ehr[1].extensions["demo_ehr"].store
    twin = copy.deepcopy(store.get("Patient", "pat-lumbar-mri"))
    twin["id"] = "pat-lumbar-mri-dup"
    coverage = copy.deepcopy(store.get("Coverage", "cov-lumbar-uhc"))
    coverage["id"], coverage["beneficiary"] = "cov-lumbar-uhc-dup", {"reference": "Patient/pat-lumbar-mri-dup"}
    store.add_all([twin, coverage])
    assert cli.main(["sync", "--payer", "uhc"]) == 0
    out = capsys.readouterr().out
    assert "0 new case(s), 0 new and ready for a P2P, 1 refused\n" in out
    assert (
        "  refused ExplanationOfBenefit/uhc-pa-7741093 (the payer's Patient/uhc-mbr-7f3a9c): 2 patients in the EHR "
        "(Patient/pat-lumbar-mri, Patient/pat-lumbar-mri-dup) have this member ID and birth date; not recorded, read "
        "again next run\n"
    ) in out
    assert "984213657" not in out and "Quillfeather" not in out  # no member ID, name or birth date printed
    assert not re.search(r"\d{4}-\d{2}-\d{2}", out)
    assert cases_for(practice["db"], practice["tenant"]) == []
    assert cli.main(["sync", "--payer", "uhc"]) == 0  # not skipped by the next run: listed again until resolved
    assert "1 refused" in capsys.readouterr().out


def test_a_member_with_another_birth_date_is_not_matched(
    practice: dict[str, Any], payer: tuple[RunningServer, Any], capsys: pytest.CaptureFixture
) -> None:
    member = payer[1].extensions["demo_ehr"].store.get("Patient", "uhc-mbr-7f3a9c")
    member["birthDate"] = "1974-03-15"  # same member ID, another person (a dependant on the family's ID)
    payer[1].extensions["demo_ehr"].store.add_all([member])
    assert cli.main(["sync", "--payer", "uhc"]) == 0
    assert "no patient in the EHR has this member ID and birth date" in capsys.readouterr().out
    assert cases_for(practice["db"], practice["tenant"]) == []


def test_a_payer_that_refuses_the_token_gives_a_clear_error_and_leaves_nothing(
    practice: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The practice's key is not the one it registered with the payer: the payer's token endpoint refuses it.
    One line says which payer refused and why; no case, and no sync position, is left behind."""
    wrong = tmp_path / "wrong.pem"
    wrong.write_bytes(OTHER_KEY.as_pem(private=True))
    registry: Path = practice["registry"]
    registry.write_text(registry.read_text().replace(str(tmp_path / "uhc.pem"), str(wrong)))
    assert cli.main(["sync", "--payer", "uhc"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("p2p-brief: ") and "The payer uhc refused the app's backend token request: " \
        "invalid_client" in captured.err  # fmt: skip
    assert len(captured.err.strip().splitlines()) == 1
    db: Database = practice["db"]
    assert cases_for(db, practice["tenant"]) == []
    with db.engine.connect() as connection:
        assert connection.execute(text("select count(*) from sync_positions")).scalar() == 0


def test_inquire_brings_the_decision_on_one_request(
    practice: dict[str, Any], ehr: tuple[RunningServer, Any], payer: tuple[RunningServer, Any],
    capsys: pytest.CaptureFixture,
) -> None:  # fmt: skip
    """The EHR holds a request (a Claim) it has no answer for; the payer's PAS API has decided it. ``--inquire``
    asks for that one request and records the denial under the Claim's patient."""
    ehr_store, payer_store = ehr[1].extensions["demo_ehr"].store, payer[1].extensions["demo_ehr"].store
    claim = copy.deepcopy(ehr_store.get("Claim", "claim-lumbar-mri-1"))
    claim["id"], claim["identifier"] = "claim-lumbar-esi-1", [{"system": "urn:trnorg:1411289245", "value": "ESI-1"}]
    ehr_store.add_all([claim])
    answer = copy.deepcopy(ehr_store.get("ClaimResponse", "cr-lumbar-mri-1"))
    answer.pop("meta", None)
    answer["id"], answer["identifier"] = "uhc-cr-esi-1", [{"system": "urn:uhc", "value": "ESI-1-R"}]
    answer["request"] = {"identifier": {"system": "urn:trnorg:1411289245", "value": "ESI-1"}}
    answer["patient"] = {"reference": "Patient/uhc-mbr-7f3a9c"}
    answer["insurer"] = {"reference": "Organization/uhc"}
    answer["insurance"] = [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/uhc-cov-7f3a9c"}}]
    payer_store.add_all([answer])
    assert cli.main(["sync", "--payer", "uhc", "--inquire", "Claim/claim-lumbar-esi-1"]) == 0
    assert capsys.readouterr().out == (
        f"payer uhc ({practice['payer']}/fhir): Claim/$inquire for Claim/claim-lumbar-esi-1: 1 ClaimResponse(s), "
        "1 open denial(s), 1 new case(s)\n"
    )
    (case,) = cases_for(practice["db"], practice["tenant"], ["Organization/org-lumbar-prairie-family-med"])
    assert (case.patient_id, case.denial_id) == ("pat-lumbar-mri", "uhc-cr-esi-1")
    assert cli.main(["sync", "--payer", "uhc", "--inquire", "Claim/claim-knee-tka-1"]) == 0  # the payer has none
    assert capsys.readouterr().out == (
        f"payer uhc ({practice['payer']}/fhir): Claim/$inquire for Claim/claim-knee-tka-1: 0 ClaimResponse(s), "
        "0 open denial(s), 0 new case(s)\n"
        "  refused Claim/claim-knee-tka-1: the payer holds no decision for this request; not recorded\n"
    )


def test_inquire_needs_a_payer(practice: dict[str, Any], capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["sync", "--inquire", "Claim/x"]) == 1
    assert capsys.readouterr().err == "p2p-brief: --inquire asks one payer: name it with --payer NAME\n"


def test_the_payers_denial_opens_on_the_patients_page_from_the_kept_answer(
    tmp_path: Path, payer: tuple[RunningServer, Any]
) -> None:
    """The EHR has no copy of the payer's decision: the app keeps the payer's answer with the chart it matched, so
    the patient's page lists the denial and its brief opens, saying where it came from."""
    from html import unescape

    import requests
    from pairs import start_pair

    from smart_app.fhir.client import FhirClient
    from smart_app.practice.payer_registry import registration
    from smart_app.practice.payer_sync import PAYER_SCOPE, sync_payer
    from smart_app.practice.sync import SYNC_SCOPE
    from smart_app.smart.backend import BackendAuth

    backend = RegisteredClient("p2p-sync", ["http://127.0.0.1/cb"], "http://127.0.0.1/launch", "private_key_jwt",
                               jwks=public_jwks(EHR_KEY, "RS384"))  # fmt: skip
    pair = start_pair(tmp_path, "p2p-payer-page", more_clients=[backend])
    try:
        key = tmp_path / "uhc.pem"
        key.write_bytes(PAYER_KEY.as_pem(private=True))
        registry = tmp_path / "payer-registry.yaml"
        registry.write_text(
            f"payers:\n  uhc:\n    providerAccess: {payer[0].url}/fhir\n    tokenEndpoint: {payer[0].url}/oauth/token"
            f"\n    clientId: prairie-family-medicine\n    privateKey: {{file: {key}}}\n"
        )
        uhc = registration(registry, "uhc")
        payer_auth = BackendAuth(uhc.client_id, uhc.private_key(), scope=PAYER_SCOPE, token_endpoint=uhc.token_endpoint)
        ehr_auth = BackendAuth("p2p-sync", EHR_KEY, scope=SYNC_SCOPE)
        report = sync_payer(
            pair.app_flask.extensions["p2p_db"],
            FhirClient(uhc.provider_access, lambda: payer_auth.token(uhc.provider_access)),
            FhirClient(pair.fhir, lambda: ehr_auth.token(pair.fhir)),
            uhc,
            clock=Clock.now_in("America/Chicago"),
        )
        assert report.new_cases == 1
        browser = requests.Session()
        listing = browser.get(f"{pair.ehr.url}/launch?patient=pat-lumbar-mri", timeout=60)
        assert listing.status_code == 200 and f"/brief/{PAYER_DENIAL}" in listing.text
        ctx = re.search(r"ctx=([\w-]+)", listing.url).group(1)  # type: ignore[union-attr]
        brief = browser.get(f"{pair.app.url}/brief/{PAYER_DENIAL}", params={"ctx": ctx}, timeout=60)
        assert brief.status_code == 200
        page = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", brief.text)))
        assert "A267741093" in page and "64483" in page  # the payer's preAuthRef and the denied service
        assert "the EHR has no copy of this decision" in page
        other = browser.get(f"{pair.ehr.url}/launch?patient=pat-knee-tka", timeout=60)
        assert PAYER_DENIAL not in other.text  # kept with the chart it matched, nobody else's
    finally:
        pair.stop()


def test_a_group_the_payer_does_not_know_is_the_payers_error(
    practice: dict[str, Any], capsys: pytest.CaptureFixture
) -> None:
    registry: Path = practice["registry"]
    registry.write_text(registry.read_text().replace("uhc-attributed-4112233448", "no-such-group"))
    assert cli.main(["sync", "--payer", "uhc"]) == 1
    assert capsys.readouterr().err == (
        "p2p-brief: The payer's API gave no usable answer: payer uhc: the bulk export could not be started: "
        "error: No Group no-such-group\n"
    )
    assert cases_for(practice["db"], practice["tenant"]) == []


def test_a_letter_case_is_joined_by_the_payers_answer_for_the_same_decision(
    practice: dict[str, Any], payer: tuple[RunningServer, Any], capsys: pytest.CaptureFixture
) -> None:
    """The letter came first and became a case (``letter-<n>``); then ``sync --payer`` brings the payer's EOB for the
    same decision (its preAuthRef is the letter's reference): one open case, the EOB's, with the letter kept with it
    and its stricter window counted; the letter's case is closed as superseded."""
    eob = payer[1].extensions["demo_ehr"].store.get("ExplanationOfBenefit", "uhc-pa-7741093")
    decided = datetime.fromisoformat(eob["created"])
    db, tenant, prairie = practice["db"], practice["tenant"], "Organization/org-lumbar-prairie-family-med"
    db.upgrade()
    line = Source(1, "Reference number A267741093")
    fields = LetterFields(
        payer=Found("UnitedHealthcare", line), reference=Found("A267741093", line),
        decided_at=Found(decided, line), services=(Found(Service(SYSTEMS["cpt"], "64483", 1), line),),
        reason_text=Found("Not medically necessary.", line), decision=Found("denied", line),
        p2p_window=Found(Window(2, "business-days", "within 2 business days"), line),
    )  # fmt: skip
    letter_id, _ = save_letter(db, iss=tenant, patient_id="pat-lumbar-mri", practice=prairie, uploaded_by=None,
                               filename="uhc.pdf", media_type="application/pdf", content=b"%PDF-1.7")  # fmt: skip
    record_reading(db, iss=tenant, patient_id="pat-lumbar-mri", letter_id=letter_id, reading={"fields": {}},
                   error=None)  # fmt: skip
    case_id = f"letter-{letter_id}"
    confirm_letter(db, iss=tenant, patient_id="pat-lumbar-mri", letter_id=letter_id, confirmed=fields_json(fields),
                   denial_id=case_id, practice=prairie)  # fmt: skip
    clock = Clock(ZoneInfo("America/Chicago"), decided.astimezone(ZoneInfo("America/Chicago")))
    summary = denial_summary(denial_from_letter(fields, letter_id=str(letter_id)), clock=clock)
    summary["orderingProvider"] = {"organization": prairie}
    track_denial(db, tenant=tenant, patient_id="pat-lumbar-mri", denial=summary, patient_name="R Q", source="letter")

    assert cli.main(["sync", "--payer", "uhc"]) == 0
    assert "1 open denial(s), 1 new case(s)" in capsys.readouterr().out
    rows = {c.denial_id: c for c in cases_for(db, tenant, [prairie])}
    assert {d for d, c in rows.items() if c.status != "closed"} == {PAYER_DENIAL}  # one open case
    assert rows[case_id].status == "closed"
    kept = letter(db, iss=tenant, patient_id="pat-lumbar-mri", letter_id=letter_id)
    assert kept is not None and kept.denial_id == PAYER_DENIAL  # the letter is kept with the payer's case
    deadline = rows[PAYER_DENIAL].deadline
    assert deadline is not None and (deadline - decided).days < 5  # the letter's 2 business days, not 21 days


def test_another_payers_member_with_the_same_id_and_birth_date_is_no_match(
    practice: dict[str, Any], ehr: tuple[RunningServer, Any], capsys: pytest.CaptureFixture
) -> None:
    """Member IDs are unique only within a payer: a chart whose Coverage is with Aetna and happens to carry the same
    number and birthday is not UnitedHealthcare's member, so the decision goes to the one UHC chart (before, the two
    charts made it ambiguous and it was refused; with the Aetna chart alone it would have gone to the wrong one)."""
    store = ehr[1].extensions["demo_ehr"].store
    other = copy.deepcopy(store.get("Patient", "pat-lumbar-mri"))
    other["id"] = "pat-aetna-namesake"
    coverage = copy.deepcopy(store.get("Coverage", "cov-lumbar-uhc"))
    coverage["id"], coverage["beneficiary"] = "cov-aetna-namesake", {"reference": "Patient/pat-aetna-namesake"}
    coverage["payor"] = [{"reference": "Organization/org-aetna"}]
    store.add_all([other, coverage])
    assert cli.main(["sync", "--payer", "uhc"]) == 0
    out = capsys.readouterr().out
    assert "1 new case(s)" in out and "0 refused" in out, out
    (case,) = [c for c in cases_for(practice["db"], practice["tenant"]) if c.denial_id == PAYER_DENIAL]
    assert case.patient_id == "pat-lumbar-mri"
