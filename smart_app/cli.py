"""``p2p-brief``: run the demo (app + demo EHR), serve the app, or build a brief from a FHIR Bundle file.

Exit codes: 0 success, 1 the input is wrong (stderr names the file and what is wrong) or the EHR could not be
reached or refused the app (stderr says which, in one line), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import sys
import threading
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from smart_app.brief.model import build_brief
from smart_app.cli_letter import add_letter_command, letter_denial_for
from smart_app.config import WRITE_PROFILE_NAMES, load_settings, tenant_of
from smart_app.denials.assess import Clock
from smart_app.denials.pas import Denial, read_denial
from smart_app.denials.pdex import EOB_PREFIX, all_answers, is_eob_denial_id, open_denials_with_eobs, read_eob_denial
from smart_app.errors import InputError, P2PError
from smart_app.fhir.chart import Chart, as_collection, chart_from_bundle

log = logging.getLogger("smart_app")
DEMO_CLIENT_ID = "p2p-brief-demo"


def _load_bundle(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        kind = type(data).__name__ if not isinstance(data, dict) else "an object with no resourceType"
        raise InputError(f"{path}: expected a FHIR Bundle (or a resource), found {kind}")
    return as_collection(data)


def brief_clock(today: str | None, zone_name: str) -> Clock:
    """The brief's clock: now, or ``--today`` (a date means 09:00 that day; a date-time is taken as given)."""
    if not today:
        return Clock.now_in(zone_name)
    zone = ZoneInfo(zone_name)
    try:
        moment = datetime.fromisoformat(today if "T" in today else f"{today}T09:00")
    except ValueError as exc:
        raise InputError(f"--today {today!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM") from exc
    return Clock(zone, moment if moment.tzinfo else moment.replace(tzinfo=zone))


def brief_from_bundle(
    path: Path, claim_response_id: str | None = None, *, clock: Clock | None = None, letter: Path | None = None
) -> dict[str, Any]:
    """The whole pipeline on one Bundle file: chart, denial(s), brief model. Raise ``InputError`` if unusable.

    With no open denial in the file, the newest prior-authorization answer is briefed (it says there is nothing
    to contest) rather than nothing at all. A PDex ExplanationOfBenefit (``use = preauthorization``) is an answer
    too, chosen by its id or ``eob-<id>``; a file with neither a ClaimResponse nor an EOB is an input error.
    With ``letter``, the denial is the letter's (``p2p-brief brief BUNDLE --letter FILE``), for the Bundle's
    patient the letter names.
    """
    settings = load_settings()
    chart = chart_from_bundle(_load_bundle(path))
    if letter is not None:
        denials = [letter_denial_for(chart, path, letter)]
        chart.patient_id = (denials[0].patient_ref or "").split("/")[-1] or None
        clock = clock or brief_clock(None, settings["TIMEZONE"])
        return build_brief(chart, denials, clock=clock, practice_state=settings.get("PRACTICE_STATE"))
    responses, eobs = chart.of_type("ClaimResponse"), chart.of_type("ExplanationOfBenefit")
    if not responses and not eobs:
        raise InputError(
            f"{path}: holds no ClaimResponse (a prior-authorization answer) and no PDex ExplanationOfBenefit to brief"
        )
    if claim_response_id:
        denials = _chosen_answer(path, chart, claim_response_id)
    else:
        found, skipped = open_denials_with_eobs(responses, eobs, chart.resolve)
        denials = found or all_answers(responses, eobs, chart.resolve)[0][:1]
        chart.warnings.extend(skipped)
    if not denials:
        raise InputError(f"{path}: holds no prior-authorization ClaimResponse (use = preauthorization)")
    patient_ref = denials[0].patient_ref or ""
    chart.patient_id = patient_ref.split("/")[-1] or None
    return build_brief(
        chart,
        denials,
        clock=clock or brief_clock(None, settings["TIMEZONE"]),
        practice_state=settings.get("PRACTICE_STATE"),
    )


def _chosen_answer(path: Path, chart: Chart, answer_id: str) -> list[Denial]:
    """The ClaimResponse with id ``answer_id``, else the EOB with that id (or ``eob-<id>``)."""
    chosen = [r for r in chart.of_type("ClaimResponse") if r.get("id") == answer_id]
    if chosen:
        return [read_denial(chosen[0], chart.resolve)]
    eob_id = answer_id[len(EOB_PREFIX) :] if is_eob_denial_id(answer_id) else answer_id
    eob = chart.index.get(f"ExplanationOfBenefit/{eob_id}")
    if eob is not None:
        return [read_eob_denial(eob, chart.resolve)]
    raise InputError(f"{path}: no ClaimResponse with id {answer_id!r}")


def _cmd_brief(args: argparse.Namespace) -> int:
    clock = brief_clock(args.today, load_settings()["TIMEZONE"])
    letter = Path(args.letter) if args.letter else None
    brief = brief_from_bundle(Path(args.bundle), args.claim_response, clock=clock, letter=letter)
    brief["asOf"] = clock.now.isoformat(timespec="minutes")
    if args.format == "json":
        output: bytes = (json.dumps(brief, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    elif args.format == "html":
        from smart_app.brief.render import render_print_html, render_script_html

        output = (render_script_html(brief) if args.part == "script" else render_print_html(brief)).encode("utf-8")
    else:
        from smart_app.brief.render import render_pdf, render_script_pdf

        output = render_script_pdf(brief) if args.part == "script" else render_pdf(brief)
    if args.out:
        Path(args.out).write_bytes(output)
    else:
        sys.stdout.buffer.write(output)
    return 0


DEMO_BACKEND_CLIENT_ID = "p2p-brief-demo-backend"


def _demo_backend_key(name: str = ".p2p-demo-backend-key.pem") -> Path:
    """A demo Backend Services key (RSA, PEM), made once in the working folder and kept out of git."""
    path = Path(name)
    if not path.exists():
        from joserfc.jwk import RSAKey

        path.write_bytes(RSAKey.generate_key(2048).as_pem(private=True))
        path.chmod(0o600)
    return path.resolve()


def _demo_sync(app: Any, fhir_base: str, key_file: Path) -> str:
    """One ``p2p-brief sync`` of the demo EHR as its backend client, so the worklist opens with the sample cases."""
    from smart_app.fhir.client import FhirClient
    from smart_app.practice.sync import SYNC_SCOPE, sync
    from smart_app.serving import wait_until_ready
    from smart_app.smart.backend import BackendAuth
    from smart_app.smart.client_auth import load_private_key

    wait_until_ready(f"{fhir_base}/.well-known/smart-configuration")
    auth = BackendAuth(DEMO_BACKEND_CLIENT_ID, load_private_key(key_file), "RS384", scope=SYNC_SCOPE)
    try:
        client = FhirClient.from_settings(fhir_base, lambda: auth.token(fhir_base), app.config["P2P"])
        report = sync(app.extensions["p2p_db"], client, clock=Clock.now_in(app.config["P2P"]["TIMEZONE"]))
    except P2PError as exc:
        return f"the sync failed ({exc.message}); run the sync command below"
    return (
        f"{report.read} ClaimResponses and {report.eobs_read} ExplanationOfBenefits read by {report.via}, "
        f"{report.new_cases} new case(s)"
    )


def _demo_payer_sync(app: Any, fhir_base: str, key_file: Path, registry: Path) -> str:
    """One ``p2p-brief sync --payer`` of the demo payer, so its denial is on the worklist too."""
    from smart_app.errors import PayerTokenError
    from smart_app.fhir.client import FhirClient
    from smart_app.practice.payer_registry import registration
    from smart_app.practice.payer_sync import PAYER_SCOPE, sync_payer
    from smart_app.practice.sync import SYNC_SCOPE
    from smart_app.sandbox.demo_payer import DEMO_PAYER
    from smart_app.smart.backend import BackendAuth
    from smart_app.smart.client_auth import load_private_key

    settings = app.config["P2P"]
    payer = registration(registry, DEMO_PAYER)
    ehr_auth = BackendAuth(DEMO_BACKEND_CLIENT_ID, load_private_key(key_file), "RS384", scope=SYNC_SCOPE)
    payer_auth = BackendAuth(payer.client_id, payer.private_key(), payer.alg, scope=PAYER_SCOPE,
                             token_endpoint=payer.token_endpoint, server=f"payer {payer.key}",
                             token_error=PayerTokenError)  # fmt: skip
    try:
        report = sync_payer(
            app.extensions["p2p_db"],
            FhirClient.from_settings(payer.provider_access, lambda: payer_auth.token(payer.provider_access), settings),
            FhirClient.from_settings(fhir_base, lambda: ehr_auth.token(fhir_base), settings),
            payer,
            clock=Clock.now_in(settings["TIMEZONE"]),
        )
    except P2PError as exc:
        return f"the payer sync failed ({exc.message}); run the sync --payer command below"
    return f"{report.eobs_read} ExplanationOfBenefits read by {report.via}, {report.new_cases} new case(s)"


def _cmd_demo(args: argparse.Namespace) -> int:
    from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
    from smart_app.sandbox.demo_payer import DEMO_PAYER, create_demo_payer, write_demo_registry
    from smart_app.serving import bind
    from smart_app.smart.client_auth import load_private_key, public_jwks
    from smart_app.web import create_app

    ehr_server = bind("127.0.0.1", args.ehr_port)
    app_server = bind("127.0.0.1", args.port)
    payer_server = bind("127.0.0.1", args.payer_port)
    inspector = os.environ.get("P2P_DEMO_INSPECTOR_TOKEN") or secrets.token_urlsafe(24)
    fhir_base = f"{ehr_server.url}/fhir"
    backend_key_file = _demo_backend_key()
    ehr = create_ehr_app(
        EhrSettings(
            base_url=ehr_server.url,
            clients=[
                RegisteredClient(
                    client_id=DEMO_CLIENT_ID,
                    redirect_uris=[f"{app_server.url}/callback"],
                    launch_url=f"{app_server.url}/launch",
                ),
                RegisteredClient(  # SMART Backend Services, for `p2p-brief sync` and `outbox flush`
                    DEMO_BACKEND_CLIENT_ID,
                    [f"{app_server.url}/callback"],
                    f"{app_server.url}/launch",
                    "private_key_jwt",
                    jwks=public_jwks(load_private_key(backend_key_file), "RS384"),
                ),
            ],
            inspector_token=inspector,
            profile=args.ehr_profile,
            signed_in_user=args.ehr_user,
            sample_cases=args.sample_cases,
        )
    )
    payer_key_file = _demo_backend_key(".p2p-demo-payer-key.pem")
    payer = create_demo_payer(payer_server.url, app_server.url, inspector, payer_key_file)
    registry = write_demo_registry(Path(".p2p-demo-payer-registry.yaml"), payer_server.url, payer_key_file)
    app = create_app(
        {
            "CLIENT_ID": DEMO_CLIENT_ID,
            "CLIENT_AUTH": "none",
            "ALLOWED_ISS": [fhir_base],
            "EHR_ORIGINS": [ehr_server.url],
            "INSECURE_COOKIES": True,
            "PUBLIC_URL": app_server.url,
            "WRITE_PROFILES": {fhir_base: args.ehr_profile},  # the app writes as the demo EHR expects
        }
    )
    ehr_server.mount(ehr)
    app_server.mount(app)
    payer_server.mount(payer)
    synced = _demo_sync(app, fhir_base, backend_key_file) if args.sample_cases else None
    from_payer = _demo_payer_sync(app, fhir_base, backend_key_file, registry) if args.sample_cases else None
    print(f"Demo EHR (open this): {ehr_server.url}/")  # noqa: T201 - the command's output
    print(f"  app {app_server.url}  ·  FHIR {fhir_base}  ·  profile {args.ehr_profile}")  # noqa: T201
    print(f"  inspector token (reads every resource): {inspector}")  # noqa: T201
    print(  # noqa: T201
        f"  backend services (another shell): P2P_BACKEND_CLIENT_ID={DEMO_BACKEND_CLIENT_ID} "
        f"P2P_BACKEND_KEY_FILE={backend_key_file} P2P_ALLOWED_ISS={fhir_base} p2p-brief sync"
    )
    print(  # noqa: T201
        f"  demo payer ({DEMO_PAYER}, its own API and sign-in): {payer_server.url}/fhir  ·  add "
        f"P2P_PAYER_REGISTRY={registry} and run p2p-brief sync --payer {DEMO_PAYER}"
    )
    print(f"  practice worklist (standalone sign-in): {app_server.url}/launch?iss={fhir_base}")  # noqa: T201
    if synced:
        print(f"  worklist filled by a first sync: {synced}")  # noqa: T201
    if from_payer:
        print(f"  and from the payer: {from_payer}")  # noqa: T201
    print("  all bind to 127.0.0.1 only. Ctrl-C stops.")  # noqa: T201
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        app_server.stop()
        payer_server.stop()
        ehr_server.stop()
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from smart_app.production import serve_with_gunicorn
    from smart_app.web import create_app

    public_url = load_settings().get("PUBLIC_URL") or ""
    if urlsplit(public_url).scheme not in ("http", "https") or not urlsplit(public_url).netloc:
        raise InputError(
            "serve needs P2P_PUBLIC_URL, the app's address as the EHR reaches it (e.g. https://p2p.example.org): "
            "the sign-in's redirect_uri is built from it, never from a request's Host header"
        )
    # Workers must share one secret; without P2P_SECRET_KEY the parent makes one for this run (workers inherit it).
    os.environ.setdefault("P2P_SECRET_KEY", secrets.token_hex(32))
    create_app()  # once, before the workers start: migrations and the session table, never racing in the workers
    serve_with_gunicorn(args.host, args.port, workers=args.workers, threads=args.threads)
    return 0


def _cmd_criteria_lint(args: argparse.Namespace) -> int:
    from smart_app.criteria.lint import lint

    problems = lint(Path(args.path) if args.path else None)
    registry = load_settings().get("PAYER_REGISTRY")
    if registry and not args.path:  # the payer registry lives outside criteria/ (it names keys, never holds them)
        problems += lint(Path(registry), schema="payer-registry")
    for line in problems:
        print(line)  # noqa: T201 - the command's output
    if not problems:
        print("criteria lint: no problems")  # noqa: T201
    return 1 if problems else 0


def _cmd_outbox(args: argparse.Namespace) -> int:
    from smart_app.store.db import Database

    settings = load_settings()
    db = Database(settings["DATABASE_URL"])
    db.upgrade()
    if args.outbox_command == "list":
        from smart_app.outcome.outbox import outbox_rows

        rows = outbox_rows(db)
        for row in rows:
            print(f"{row['id']}  {row['status']:<8} attempts={row['attempts']}  {row['iss']}  {row['error'] or ''}")  # noqa: T201
        print(f"{len(rows)} note(s) not yet in the chart")  # noqa: T201
        return 0
    from smart_app.fhir.outbox_writer import backend_writer
    from smart_app.outcome.outbox import flush
    from smart_app.smart.backend import BackendAuth
    from smart_app.smart.client_auth import load_private_key

    key_file = settings.get("BACKEND_KEY_FILE") or settings.get("PRIVATE_KEY_FILE")
    if not key_file:
        raise InputError("outbox flush needs P2P_BACKEND_KEY_FILE (the backend client's PEM private key)")
    auth = BackendAuth(
        settings.get("BACKEND_CLIENT_ID") or settings["CLIENT_ID"],
        load_private_key(key_file),
        settings["ASSERTION_ALG"],
        trusted_origins=settings["AUTH_ORIGINS"],
    )
    report = flush(db, lambda iss: backend_writer(iss, auth, settings), ignore_backoff=args.now)
    print(f"written {report.written}, still pending {report.pending}, parked {report.parked}")  # noqa: T201
    for line in report.errors:
        print(f"parked: {line}")  # noqa: T201
    for iss, reason in report.unavailable.items():  # one line per EHR the app could not reach or was refused by
        line = f"p2p-brief: outbox flush: {iss}: {reason.rstrip('.')}. Its notes stay in the outbox."
        print(line, file=sys.stderr)  # noqa: T201
    return 1 if report.unavailable else 0


def _cmd_sync(args: argparse.Namespace) -> int:
    from smart_app.denials.assess import Clock
    from smart_app.fhir.client import FhirClient
    from smart_app.practice.sync import SYNC_SCOPE, sync
    from smart_app.smart.backend import BackendAuth
    from smart_app.smart.client_auth import load_private_key
    from smart_app.store.db import Database

    settings = load_settings()
    if args.inquire and not args.payer:
        raise InputError("--inquire asks one payer: name it with --payer NAME")
    key_file = settings.get("BACKEND_KEY_FILE") or settings.get("PRIVATE_KEY_FILE")
    if not key_file:
        raise InputError("sync needs P2P_BACKEND_KEY_FILE (the backend client's PEM private key)")
    addresses = [args.iss.rstrip("/")] if args.iss else settings["ALLOWED_ISS"]
    # One EHR reached under several addresses is read once, under its tenant's (P2P_TENANT_ALIASES).
    servers = list(dict.fromkeys(tenant_of(a, settings["TENANT_ALIASES"]) for a in addresses))
    if not servers:
        raise InputError("sync needs --iss or P2P_ALLOWED_ISS (the FHIR servers to read)")
    db = Database(settings["DATABASE_URL"])
    db.upgrade()
    client_id = settings.get("BACKEND_CLIENT_ID") or settings["CLIENT_ID"]
    auth = BackendAuth(
        client_id,
        load_private_key(key_file),
        settings["ASSERTION_ALG"],
        scope=SYNC_SCOPE,
        trusted_origins=settings["AUTH_ORIGINS"],
    )
    if args.payer:
        if len(servers) > 1:
            raise InputError(
                f"sync --payer matches the payer's members to one EHR's charts: name it with --iss "
                f"(P2P_ALLOWED_ISS lists {len(servers)})"
            )
        ehr = FhirClient.from_settings(servers[0], partial(auth.token, servers[0]), settings)
        return _sync_payer(args, settings, db, ehr)
    for iss in servers:
        client = FhirClient.from_settings(iss, partial(auth.token, iss), settings)
        report = sync(
            db,
            client,
            clock=Clock.now_in(settings["TIMEZONE"]),
            practice_state=settings["PRACTICE_STATE"],
            via=args.via,
        )
        refused = f"{report.refused} refused (its patient is not its Claim's; see the log), " if report.refused else ""
        print(  # noqa: T201 - the command's output: counts only, no patient data
            f"{iss}: {report.read} ClaimResponse(s) and {report.eobs_read} ExplanationOfBenefit(s) read in "
            f"{report.pages} page(s) by {report.via}, "
            f"{report.denials} open denial(s), {refused}"
            f"{report.new_cases} new case(s), {report.new_p2p_eligible} new and ready for a P2P; "
            f"synced to {report.high_water or 'nothing yet'}"
        )
        for resource_type, reason in report.not_read.items():
            print(  # noqa: T201
                f"  {resource_type} not read: the server refused it ({reason}); grant the backend client "
                f"system/{resource_type}.rs to sync PDex prior authorizations"
            )
    return 0


def _sync_payer(args: argparse.Namespace, settings: dict[str, Any], db: Any, ehr: Any) -> int:
    """``sync --payer NAME [--inquire Claim/ID]``: the payer's decisions onto the EHR's worklist; the refused ones
    listed (references only), one line each."""
    from smart_app.errors import PayerTokenError
    from smart_app.fhir.client import FhirClient
    from smart_app.practice.payer_registry import registration
    from smart_app.practice.payer_sync import PAYER_SCOPE, inquire, sync_payer
    from smart_app.smart.backend import BackendAuth

    payer = registration(settings.get("PAYER_REGISTRY"), args.payer)
    auth = BackendAuth(
        payer.client_id,
        payer.private_key(),
        payer.alg,
        scope=payer.scope or PAYER_SCOPE,
        token_endpoint=payer.token_endpoint,
        server=f"payer {payer.key}",
        token_error=PayerTokenError,
    )
    clock = Clock.now_in(settings["TIMEZONE"])
    if args.inquire:
        pas = FhirClient.from_settings(payer.pas, partial(auth.token, payer.pas), settings)
        report = inquire(
            db, pas, ehr, args.inquire, clock=clock, practice_state=settings["PRACTICE_STATE"], payer_key=payer.key
        )
        print(  # noqa: T201 - the command's output: counts and references only
            f"payer {payer.key} ({payer.pas}): Claim/$inquire for {args.inquire}: {report.read} ClaimResponse(s), "
            f"{report.denials} open denial(s), {report.new_cases} new case(s)"
        )
    else:
        client = FhirClient.from_settings(payer.provider_access, partial(auth.token, payer.provider_access), settings)
        report = sync_payer(db, client, ehr, payer, clock=clock, practice_state=settings["PRACTICE_STATE"])
        print(  # noqa: T201
            f"payer {payer.key} ({payer.provider_access}): {report.eobs_read} ExplanationOfBenefit(s) read in "
            f"{report.pages} page(s) by {report.via}, {report.denials} open denial(s), {report.new_cases} new "
            f"case(s), {report.new_p2p_eligible} new and ready for a P2P, {len(report.refusals)} refused"
        )
    for answer, reason in report.refusals:
        again = "" if args.inquire else ", read again next run"
        print(f"  refused {answer}: {reason}; not recorded{again}")  # noqa: T201
    return 0


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from smart_app.store.db import Database

    Database(load_settings()["DATABASE_URL"]).upgrade()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="p2p-brief", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="start the app and the built-in demo EHR on 127.0.0.1")
    demo.add_argument("--port", type=int, default=8400)
    demo.add_argument("--ehr-port", type=int, default=8401)
    demo.add_argument("--payer-port", type=int, default=8402, help="the demo payer's own API (default 8402)")
    demo.add_argument("--ehr-profile", choices=WRITE_PROFILE_NAMES, default="us-core")
    demo.add_argument(
        "--ehr-user",
        default="demo-clinician",
        help="the EHR user to sign in as: demo-clinician (all four practices) or demo-liaison-prairie (one)",
    )
    demo.add_argument(
        "--sample-cases",
        type=int,
        default=36,
        help="more denials for the practice worklist: copies of the demo charts across payers (0 for none)",
    )
    demo.set_defaults(run=_cmd_demo)

    serve = sub.add_parser("serve", help="serve the app (configured by P2P_* variables)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8400)
    serve.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    serve.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    serve.set_defaults(run=_cmd_serve)

    brief = sub.add_parser("brief", help="build the brief from a FHIR Bundle file, no server")
    brief.add_argument("bundle")
    brief.add_argument("--claim-response", metavar="ID")
    brief.add_argument("--today", metavar="YYYY-MM-DD")
    brief.add_argument("--format", choices=("json", "html", "pdf"), default="json")
    brief.add_argument("--out", metavar="FILE")
    brief.add_argument("--letter", metavar="FILE", help="brief the denial this letter (PDF or scan) states")
    brief.add_argument(
        "--part", choices=("brief", "script"), default="brief", help="html/pdf: the one-page brief or the call script"
    )
    brief.set_defaults(run=_cmd_brief)

    add_letter_command(sub)

    criteria = sub.add_parser("criteria", help="the policy library in criteria/")
    criteria_sub = criteria.add_subparsers(dest="criteria_command", required=True)
    lint_cmd = criteria_sub.add_parser("lint", help="check every policy, value set and guideline file")
    lint_cmd.add_argument("path", nargs="?", help="a folder laid out like criteria/, or one file (default: criteria/)")
    lint_cmd.set_defaults(run=_cmd_criteria_lint)

    outbox = sub.add_parser("outbox", help="call notes not yet in the chart")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    outbox_sub.add_parser("list", help="list them (ids, status, attempts, reason)").set_defaults(run=_cmd_outbox)
    flush_cmd = outbox_sub.add_parser("flush", help="send the due ones (SMART Backend Services token)")
    flush_cmd.add_argument("--now", action="store_true", help="ignore the backoff and try every pending note")
    flush_cmd.set_defaults(run=_cmd_outbox)

    sync_cmd = sub.add_parser(
        "sync", help="find new denials (ClaimResponses since the last run) through SMART Backend Services"
    )
    sync_cmd.add_argument("--iss", help="one FHIR base URL (default: every P2P_ALLOWED_ISS)")
    sync_cmd.add_argument(
        "--via",
        choices=("auto", "export", "search"),
        default="auto",
        help="Bulk Data $export, a _lastUpdated search, or auto: export where the server offers it (default)",
    )
    sync_cmd.add_argument(
        "--payer",
        metavar="NAME",
        help="read this payer's own API instead (PDex Provider Access; a key of P2P_PAYER_REGISTRY)",
    )
    sync_cmd.add_argument(
        "--inquire",
        metavar="Claim/ID",
        help="with --payer: ask its PAS API (Claim/$inquire) for the decision on this request of the EHR",
    )
    sync_cmd.set_defaults(run=_cmd_sync)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply the Alembic migrations")
    upgrade.set_defaults(run=_cmd_db_upgrade)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``p2p-brief`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=os.environ.get("P2P_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args))
    except InputError as exc:
        print(f"p2p-brief: {exc.message}", file=sys.stderr)  # noqa: T201
        return 1
    except P2PError as exc:  # the EHR could not be reached or refused the app: one line, never a traceback
        print(f"p2p-brief: {exc.title}: {exc.message}", file=sys.stderr)  # noqa: T201
        return 1


if __name__ == "__main__":
    sys.exit(main())
