"""``p2p-brief letter FILE``: a denial letter (text PDF, scanned PDF, or fax pages) read into its fields, each with
the page and line it came from, as readable text or as the stable JSON contract (``letters.contract``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from smart_app.denials.pas import Denial
from smart_app.errors import InputError
from smart_app.fhir.chart import Chart
from smart_app.letters.contract import letter_json
from smart_app.letters.denial import denial_from_letter
from smart_app.letters.model import LetterReading
from smart_app.letters.patient import patient_mismatch
from smart_app.letters.reading import read_letter

LABELS = (
    ("payer", "Payer"),
    ("delegate", "Delegate"),
    ("memberId", "Member ID"),
    ("patientName", "Patient"),
    ("birthDate", "Birth date"),
    ("reference", "Reference"),
    ("decidedAt", "Decided"),
    ("reasonText", "Reason"),
    ("policyCited.title", "Policy"),
    ("policyCited.id", "Policy number"),
    ("policyCited.section", "Policy section"),
    ("p2p.phone", "P2P phone"),
    ("p2p.fax", "P2P fax"),
    ("p2p.portal", "P2P portal"),
    ("p2p.window", "P2P window"),
    ("reviewer.name", "Reviewer"),
    ("reviewer.credentials", "Credentials"),
    ("reviewer.specialty", "Specialty"),
    ("appealDeadline", "Appeal by"),
    ("decision", "Decision"),
)


def read_letter_file(path: Path) -> LetterReading:
    """The letter at ``path`` read; ``InputError`` (naming the file) when it cannot be opened or read."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from error
    return read_letter(data, str(path))


def letter_denial_for(chart: Chart, bundle: Path, letter: Path) -> Denial:
    """The letter's denial, for the Bundle's Patient the letter is about; ``InputError`` saying what differs when
    the letter's patient name or birth date is not any Patient's in the Bundle."""
    fields = read_letter_file(letter).fields
    patients = chart.of_type("Patient")
    if not patients:
        raise InputError(f"{bundle}: holds no Patient to check the letter {letter} against")
    mismatches = []
    for patient in patients:
        mismatch = patient_mismatch(fields, patient)
        if mismatch is None:
            denial = denial_from_letter(fields, letter_id=letter.stem)
            denial.patient_ref = f"Patient/{patient.get('id')}"
            return denial
        mismatches.append(mismatch)
    raise InputError(f"{letter}: is not for the patient in {bundle}: {mismatches[0]}")


def letter_text(contract: dict[str, Any]) -> str:
    """The fields as a readable list: each value, then the page and line it was read from; "not found" when absent."""
    out = []
    for key, title in LABELS:
        leaf = contract
        for part in key.split("."):
            leaf = leaf[part] if leaf else None  # type: ignore[assignment]
        out.append(_entry(title, leaf))
    services = contract["services"] or [None]
    for service in services:
        out.insert(7, _entry("Service", service))
    ocr = contract["ocr"]
    out.append(f"OCR: {'used, lowest page confidence ' + str(ocr['confidence']) if ocr['used'] else 'not needed'}")
    out.extend(f"Note: {note}" for note in contract["notes"])
    return "\n".join(out) + "\n"


def _entry(title: str, leaf: dict[str, Any] | None) -> str:
    if leaf is None:
        return f"{title + ':':16}(not found)"
    value = leaf["value"]
    if isinstance(value, dict) and "code" in value:
        value = f"{value['code']} ({value['system']})" + (f", {value['units']} units" if value["units"] else "")
    elif isinstance(value, dict):
        value = f"{value['amount']} {value['unit']} ({value['text']!r})"
    source = leaf["source"]
    return f"{title + ':':16}{value}\n{'':16}page {source['page']}: {source['text']!r}"


def cmd_letter(args: argparse.Namespace) -> int:
    """Print the letter's fields."""
    contract = letter_json(read_letter_file(Path(args.file)))
    if args.format == "json":
        sys.stdout.write(json.dumps(contract, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(letter_text(contract))
    return 0


def add_letter_command(sub: Any) -> None:
    """``letter FILE [--format text|json]`` on the CLI's subcommands."""
    letter = sub.add_parser("letter", help="read a denial letter (PDF, scan, or fax pages) into its fields")
    letter.add_argument("file")
    letter.add_argument("--format", choices=("text", "json"), default="text")
    letter.set_defaults(run=cmd_letter)
