"""The demo's prior-authorization letters: fictional denial, pend and partial-approval letters for the demo patients,
rendered as the text PDF a payer's portal gives and as the faxed scan that most practices actually receive.

The letters are data (``fhir/demo/letters/letters.yaml``) poured into one Jinja template per payer letter style
(``templates/ehr/letters/``), printed with WeasyPrint. Every date in a letter is written as of the demo Bundles'
timestamp and can be moved by whole days, exactly as ``demo_dates`` moves the charts, so a letter printed on the day
the demo runs matches the chart it is about. ``expected_fields`` gives what a person reads off each letter, in the
shape ``p2p-brief letter --format json`` prints (values only): the reader's accuracy tests compare against it.

``python -m smart_app.sandbox.demo_letters --out DIR`` writes ``<id>.pdf``, ``<id>-scan.pdf`` and
``<id>.expected.json`` for every letter.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from smart_app.content import content_dir
from smart_app.fhir.systems import DISPLAY_NAMES, SYSTEMS
from smart_app.sandbox.bad_letters import BAD_LETTERS
from smart_app.sandbox.demo_dates import shift_dates
from smart_app.sandbox.letter_scan import degrade

__all__ = [
    "degrade",
    "expected_fields",
    "letter_specs",
    "main",
    "render_letter",
    "render_letter_html",
    "scan_letter",
    "shift_days_for",
    "written_as_of",
]

LetterSpec = dict[str, Any]


@cache
def _letters_file() -> dict[str, Any]:
    path = content_dir("fhir") / "demo" / "letters" / "letters.yaml"
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def letter_specs() -> list[LetterSpec]:
    """Every demo letter's spec, as written (dated as of ``written_as_of()``)."""
    return [dict(spec) for spec in _letters_file()["letters"]]


def written_as_of() -> date:
    """The day the letters' dates are written for: the demo Bundles' timestamp."""
    return date.fromisoformat(_letters_file()["writtenAsOf"])


def shift_days_for(today: date) -> int:
    """The days to move every letter date so the letters match the demo charts as dated for ``today``."""
    return (today - written_as_of()).days


def _dated(spec: LetterSpec, shift_days: int) -> LetterSpec:
    """The spec with every full date (birth date, received, decided, appeal-by) moved by ``shift_days`` days."""
    return shift_dates(spec, shift_days) if shift_days else spec


def _decided_day(spec: LetterSpec) -> date:
    return date.fromisoformat(spec["decidedAt"][:10])


def letter_date(spec: LetterSpec) -> date:
    """The date printed at the top of the letter (its notice date): the decision day unless it says otherwise."""
    return date.fromisoformat(spec["letterDate"]) if spec.get("letterDate") else _decided_day(spec)


def appeal_deadline(spec: LetterSpec) -> date | None:
    """The last day to appeal: the printed date, or the letter date plus the calendar days the letter states."""
    appeal = spec.get("appeal")
    if not appeal:
        return None
    if appeal.get("by"):
        return date.fromisoformat(appeal["by"])
    return letter_date(spec) + timedelta(days=int(appeal["within"]))


def _decided_at(spec: LetterSpec) -> datetime | None:
    value = spec["decidedAt"]
    return datetime.fromisoformat(value) if "T" in value else None


def _records_due(spec: LetterSpec) -> date | None:
    window = (spec.get("p2p") or {}).get("window")
    if spec["decision"] != "pended" or not window or window["unit"] != "calendar-days":
        return None
    return letter_date(spec) + timedelta(days=int(window["amount"]))


def expected_fields(spec: LetterSpec, *, shift_days: int = 0) -> dict[str, Any]:
    """What a person reads off the letter, as values (None where the letter does not say it)."""
    dated = _dated(spec, shift_days)
    p2p = dated.get("p2p") or {}
    reviewer = dated.get("reviewer") or {}
    policy = dated.get("policy") or {}
    deadline = appeal_deadline(dated)
    return {
        "payer": dated["payer"],
        "delegate": dated.get("delegate"),
        "memberId": dated["member"]["id"],
        "patientName": dated["member"]["name"],
        "birthDate": dated["member"]["birthDate"],
        "reference": dated["reference"],
        "decidedAt": dated["decidedAt"],
        "services": [
            {"system": SYSTEMS[s["system"]], "code": s["code"], "units": s["units"]} for s in dated["services"]
        ],
        "reasonText": " ".join(dated["reason"].split()),
        "policyCited": {"title": policy.get("title"), "id": policy.get("id"), "section": policy.get("section")}
        if policy
        else None,
        "p2p": {
            "phone": p2p.get("phone"),
            "fax": p2p.get("fax"),
            "portal": p2p.get("portal"),
            "window": dict(p2p["window"]) if p2p.get("window") else None,
        }
        if p2p
        else None,
        "reviewer": {k: reviewer.get(k) for k in ("name", "credentials", "specialty")} if reviewer else None,
        "appealDeadline": deadline.isoformat() if deadline else None,
        "decision": dated["decision"],
    }


# How the letters print dates and times; each template picks its house style.
def _long(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _numeric(day: date) -> str:
    return f"{day:%m/%d/%Y}"


def _short(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def _clock(moment: datetime, style: str = "upper") -> str:
    text = f"{moment.hour % 12 or 12}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'}"
    return text.replace("AM", "a.m.").replace("PM", "p.m.") if style == "lower" else text


def _as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _window_words(window: dict[str, Any] | None) -> str:
    if not window:
        return ""
    unit = {"business-days": "business days", "calendar-days": "calendar days", "hours": "hours"}[window["unit"]]
    return f"{window['amount']} {unit}"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(content_dir("templates") / "ehr" / "letters")),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    env.filters.update(
        longdate=lambda v: _long(_as_date(v)),
        numdate=lambda v: _numeric(_as_date(v)),
        shortdate=lambda v: _short(_as_date(v)),
        clock=_clock,
        window_words=_window_words,
        system_name=lambda short: DISPLAY_NAMES.get(short, short.upper()),
    )
    return env


def render_letter_html(spec: LetterSpec, *, shift_days: int = 0) -> str:
    """The letter as one self-contained HTML page in its payer's layout, dated ``shift_days`` days later."""
    dated = _dated(spec, shift_days)
    template = _environment().get_template(f"{dated['template']}.html")
    return template.render(
        letter=dated,
        letter_date=letter_date(dated),
        decided_at=_decided_at(dated),
        decided_day=_decided_day(dated),
        appeal_deadline=appeal_deadline(dated),
        records_due=_records_due(dated),
    )


def render_letter(spec: LetterSpec, *, shift_days: int = 0) -> bytes:
    """The letter as a text PDF (WeasyPrint), every date moved by ``shift_days`` days."""
    from weasyprint import HTML  # Pango loads on first import: only when a letter is printed

    return bytes(HTML(string=render_letter_html(spec, shift_days=shift_days)).write_pdf())


def fax_header(spec: LetterSpec, *, shift_days: int = 0) -> str | None:
    """The sending fax machine's line for a faxed letter (``NOV-19-2026 10:31 FROM: ... P.001/002``), or None.
    Its time is when the fax was sent, not when the decision was made."""
    sent = (_dated(spec, shift_days).get("faxHeader") or {}).get("sentAt")
    if not sent:
        return None
    at = datetime.fromisoformat(sent)
    to = "".join(ch for ch in spec["provider"]["fax"] if ch.isdigit())
    sender = spec["faxHeader"]["from"]
    return f"{at:%b-%d-%Y %H:%M}".upper() + f"  FROM: {sender}   TO: {to}   P.{{page:03}}/{{pages:03}}"


def scan_letter(pdf: bytes, spec: LetterSpec, *, shift_days: int = 0) -> bytes:
    """The letter's text PDF as the scan the practice receives: its own seed, 1-bit with a fax header when faxed."""
    fax = bool(spec.get("fax"))
    return degrade(pdf, seed=int(spec["seed"]), fax=fax, header=fax_header(spec, shift_days=shift_days))


def write_letters(out: Path, *, shift_days: int = 0, ids: Sequence[str] = ()) -> list[Path]:
    """Write each letter's text PDF, scan and expected fields into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for spec in letter_specs():
        if ids and spec["id"] not in ids:
            continue
        pdf = render_letter(spec, shift_days=shift_days)
        scan = scan_letter(pdf, spec, shift_days=shift_days)
        expected = json.dumps(expected_fields(spec, shift_days=shift_days), indent=2, ensure_ascii=False) + "\n"
        for name, content in ((f"{spec['id']}.pdf", pdf), (f"{spec['id']}-scan.pdf", scan)):
            (out / name).write_bytes(content)
            written.append(out / name)
        (out / f"{spec['id']}.expected.json").write_text(expected, encoding="utf-8")
        written.append(out / f"{spec['id']}.expected.json")
    return written


def write_bad_letters(out: Path) -> list[Path]:
    """Write the letters a reader must refuse (blank, unreadable, not a PDF) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for name, make in BAD_LETTERS.items():
        (out / name).write_bytes(make())
    return [out / name for name in BAD_LETTERS]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m smart_app.sandbox.demo_letters --out DIR [--today YYYY-MM-DD] [--id ID ...] [--bad]``."""
    parser = argparse.ArgumentParser(prog="python -m smart_app.sandbox.demo_letters", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the letters into")
    parser.add_argument("--today", type=date.fromisoformat, help="date the letters to match the demo on this day")
    parser.add_argument("--id", action="append", default=[], help="only this letter (repeatable)")
    parser.add_argument("--bad", action="store_true", help="also write the bad letters into DIR/bad/")
    args = parser.parse_args(argv)
    known = {spec["id"] for spec in letter_specs()}
    unknown = [i for i in args.id if i not in known]
    if unknown:
        parser.error(f"unknown letter id {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    shift = shift_days_for(args.today) if args.today else 0
    written = write_letters(args.out, shift_days=shift, ids=args.id)
    if args.bad:
        written += write_bad_letters(args.out / "bad")
    for path in written:
        sys.stdout.write(f"{path} ({path.stat().st_size // 1024} KB)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
