"""``p2p-brief``: run the demo (app + demo EHR), serve the app, or build a brief from a FHIR Bundle file.

Exit codes: 0 success, 1 the input is wrong (stderr names the file and what is wrong), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import sys
import threading
from pathlib import Path
from typing import Any

from smart_app.brief.model import build_brief
from smart_app.denials.pas import open_denials, read_denial
from smart_app.errors import InputError
from smart_app.fhir.chart import chart_from_bundle

log = logging.getLogger("smart_app")
DEMO_CLIENT_ID = "p2p-brief-demo"
EHR_PROFILES = ("us-core", "epic", "oracle-health")


def _load_bundle(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        kind = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise InputError(f"{path}: expected a FHIR Bundle, found {kind or 'no resourceType'}")
    return data


def brief_from_bundle(path: Path, claim_response_id: str | None = None) -> dict[str, Any]:
    """The whole pipeline on one Bundle file: chart, denial(s), brief model. Raise ``InputError`` if unusable."""
    bundle = _load_bundle(path)
    chart = chart_from_bundle(bundle)
    responses = chart.of_type("ClaimResponse")
    if claim_response_id:
        chosen = [r for r in responses if r.get("id") == claim_response_id]
        if not chosen:
            raise InputError(f"{path}: no ClaimResponse with id {claim_response_id!r}")
        denials = [read_denial(chosen[0], chart.resolve)]
    else:
        denials = open_denials(responses, chart.resolve)
    if not denials:
        raise InputError(f"{path}: holds no denied or pended prior-authorization ClaimResponse")
    patient_ref = denials[0].patient_ref or ""
    chart.patient_id = patient_ref.split("/")[-1] or None
    return build_brief(chart, denials)


def _cmd_brief(args: argparse.Namespace) -> int:
    brief = brief_from_bundle(Path(args.bundle), args.claim_response)
    if args.today:
        brief["asOf"] = args.today
    if args.format == "json":
        output: bytes = (json.dumps(brief, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    elif args.format == "html":
        from smart_app.brief.render import render_print_html

        output = render_print_html(brief).encode("utf-8")
    else:
        from smart_app.brief.render import render_pdf

        output = render_pdf(brief)
    if args.out:
        Path(args.out).write_bytes(output)
    else:
        sys.stdout.buffer.write(output)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
    from smart_app.serving import bind
    from smart_app.web import create_app

    ehr_server = bind("127.0.0.1", args.ehr_port)
    app_server = bind("127.0.0.1", args.port)
    inspector = os.environ.get("P2P_DEMO_INSPECTOR_TOKEN") or secrets.token_urlsafe(24)
    fhir_base = f"{ehr_server.url}/fhir"
    ehr = create_ehr_app(
        EhrSettings(
            base_url=ehr_server.url,
            clients=[
                RegisteredClient(
                    client_id=DEMO_CLIENT_ID,
                    redirect_uris=[f"{app_server.url}/callback"],
                    launch_url=f"{app_server.url}/launch",
                )
            ],
            inspector_token=inspector,
            profile=args.ehr_profile,
        )
    )
    app = create_app(
        {
            "CLIENT_ID": DEMO_CLIENT_ID,
            "CLIENT_AUTH": "none",
            "ALLOWED_ISS": [fhir_base],
            "EHR_ORIGINS": [ehr_server.url],
            "INSECURE_COOKIES": True,
            "PUBLIC_URL": app_server.url,
        }
    )
    ehr_server.mount(ehr)
    app_server.mount(app)
    print(f"Demo EHR (open this): {ehr_server.url}/")  # noqa: T201 - the command's output
    print(f"  app {app_server.url}  ·  FHIR {fhir_base}  ·  profile {args.ehr_profile}")  # noqa: T201
    print(f"  inspector token (reads every resource): {inspector}")  # noqa: T201
    print("  both bind to 127.0.0.1 only. Ctrl-C stops.")  # noqa: T201
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        app_server.stop()
        ehr_server.stop()
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import run_simple

    from smart_app.web import create_app

    run_simple(args.host, args.port, create_app(), threaded=True)
    return 0


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from smart_app.config import load_settings
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
    demo.add_argument("--ehr-profile", choices=EHR_PROFILES, default="us-core")
    demo.set_defaults(run=_cmd_demo)

    serve = sub.add_parser("serve", help="serve the app (configured by P2P_* variables)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8400)
    serve.set_defaults(run=_cmd_serve)

    brief = sub.add_parser("brief", help="build the brief from a FHIR Bundle file, no server")
    brief.add_argument("bundle")
    brief.add_argument("--claim-response", metavar="ID")
    brief.add_argument("--today", metavar="YYYY-MM-DD")
    brief.add_argument("--format", choices=("json", "html", "pdf"), default="json")
    brief.add_argument("--out", metavar="FILE")
    brief.set_defaults(run=_cmd_brief)

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


if __name__ == "__main__":
    sys.exit(main())
