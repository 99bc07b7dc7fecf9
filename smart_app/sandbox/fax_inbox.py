"""The demo EHR's fax inbox: each patient's denial letters as the practice receives them, dated to the demo's day.

The letters (``fhir/demo/letters/letters.yaml``) are written as of the demo Bundles' timestamp; like the charts
(``demo_dates``), each is moved by whole days to the day the demo EHR started, so a letter downloaded here matches
its chart on any day. A person (or a test) downloads the text PDF or the faxed scan and uploads it to the app.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from smart_app.sandbox.demo_letters import letter_specs, render_letter, scan_letter, shift_days_for

KINDS = {"letter.pdf": "Letter (PDF)", "scan.pdf": "Faxed scan (PDF)"}


def patient_of(spec: dict[str, Any]) -> str:
    """The demo Patient id a letter is for (each demo chart ``<name>.json`` holds ``Patient/pat-<name>``)."""
    return f"pat-{spec['chart']}"


def letters_for(patient_id: str) -> list[dict[str, Any]]:
    """The letters in the inbox for one patient, as written (id, payer, decision, service)."""
    return [spec for spec in letter_specs() if patient_of(spec) == patient_id]


@lru_cache(maxsize=32)
def letter_file(letter_id: str, kind: str, today: date) -> bytes | None:
    """The letter ``letter_id`` as ``kind`` (``letter.pdf`` or ``scan.pdf``) dated for ``today``; None if unknown."""
    spec = next((s for s in letter_specs() if s["id"] == letter_id), None)
    if spec is None or kind not in KINDS:
        return None
    shift = shift_days_for(today)
    pdf = render_letter(spec, shift_days=shift)
    return pdf if kind == "letter.pdf" else scan_letter(pdf, spec, shift_days=shift)
