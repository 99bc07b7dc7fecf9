"""The liaison's review of a letter read: the form's values checked (with hand entry's rules for codes, dates and
lengths) into the ``LetterFields`` they confirm, and the check that the letter is the launched patient's.

A value the liaison leaves as read keeps its source line; one they correct keeps the line it was read from and is
listed in ``corrected``; one typed where nothing was found has no line on the letter (page 0, "entered at review").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from smart_app.denials.hand_entry import CODE_PATTERNS, LIMITS, SERVICE_SYSTEMS, decision_moment
from smart_app.letters.model import Found, LetterFields, Service, Source, Window
from smart_app.letters.patient import patient_names, same_name

TYPED = Source(page=0, text="entered at review")
TEXT_FIELDS = ("payer", "delegate", "member_id", "patient_name", "reference", "reason_text", "policy_title",
               "policy_id", "policy_section", "p2p_phone", "p2p_fax", "p2p_portal", "reviewer_name",
               "reviewer_credentials", "reviewer_specialty")  # fmt: skip
WINDOW_UNITS = ("hours", "calendar-days", "business-days")
DECISIONS = ("denied", "pended", "partial")
MAX_TEXT = 500
SERVICE_ROWS = 4  # the rows of services the form offers (the letter's, then blank ones)


@dataclass(frozen=True)
class Review:
    """The checked review: the fields confirmed, and the names of those the liaison corrected."""

    fields: LetterFields
    corrected: tuple[str, ...]


def system_key(system: str) -> str:
    """The form's name of a service code system (CPT, HCPCS, NDC), or the system itself when it is another."""
    return next((key for key, uri in SERVICE_SYSTEMS.items() if uri == system), system)


def form_values(fields: LetterFields) -> dict[str, str]:
    """The review form prefilled from the fields read (blank where nothing was found)."""
    values: dict[str, str] = {}
    for name in TEXT_FIELDS:
        found = getattr(fields, name)
        values[name] = "" if found is None else str(found.value)
    for name in ("birth_date", "appeal_deadline"):
        found = getattr(fields, name)
        values[name] = "" if found is None else found.value.isoformat()
    decided = fields.decided_at.value if fields.decided_at else None
    values["decided_date"] = "" if decided is None else decided.strftime("%Y-%m-%d")
    values["decided_time"] = decided.strftime("%H:%M") if isinstance(decided, datetime) else ""
    aware = isinstance(decided, datetime) and decided.tzinfo is not None
    values["decided_zone"] = decided.strftime("%Z") if aware and decided is not None else ""
    window = fields.p2p_window.value if fields.p2p_window else None
    values["p2p_window_amount"] = "" if window is None else str(window.amount)
    values["p2p_window_unit"] = "" if window is None else window.unit
    values["decision"] = fields.decision.value if fields.decision else ""
    for i, found in enumerate(fields.services[:SERVICE_ROWS]):
        values[f"service_system_{i}"] = system_key(found.value.system)
        values[f"service_code_{i}"] = found.value.code
        values[f"service_units_{i}"] = "" if found.value.units is None else str(found.value.units)
    return values


def _keep(original: Found[Any] | None, value: Any, name: str, corrected: list[str]) -> Found[Any] | None:
    """``value`` with its source: the one it was read from; a change is listed as corrected."""
    if value is None or value == "":
        if original is not None:
            corrected.append(name)
        return None
    if original is None or original.value != value:
        corrected.append(name)
    return Found(value, original.source if original is not None else TYPED)


def parse_review(
    form: Mapping[str, str], read: LetterFields, zone: ZoneInfo, *, now: datetime
) -> tuple[Review | None, dict[str, str]]:
    """Check the review form against what was read: ``(review, {})`` or ``(None, {field: what is wrong})``."""
    values = {k: (v or "").strip() for k, v in form.items()}
    errors: dict[str, str] = {}
    corrected: list[str] = []
    kept: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        limit = LIMITS.get(name, MAX_TEXT)
        if len(values.get(name, "")) > limit:
            errors[name] = f"Keep this under {limit} characters."
        kept[name] = _keep(getattr(read, name), values.get(name, ""), name, corrected)
    if not values.get("payer"):
        errors["payer"] = "Name the payer as the letter does."
    if not values.get("patient_name") and not values.get("birth_date"):
        errors["patient_name"] = (
            "Enter the patient's name or birth date as the letter prints them: they are checked against the chart."
        )
    if not values.get("reason_text"):
        errors["reason_text"] = "Copy the reason exactly as the letter words it."
    for name in ("birth_date", "appeal_deadline"):
        kept[name] = _keep(getattr(read, name), _date(values.get(name, ""), name, errors), name, corrected)
    moment = _decided_at(values, _letter_zone(read, zone), now, errors)
    if read.decided_at is not None and _same_moment(read.decided_at, moment):
        kept["decided_at"] = Found(moment, read.decided_at.source)
    else:
        kept["decided_at"] = _keep(read.decided_at, moment, "decided_at", corrected)
    kept["p2p_window"] = _keep(read.p2p_window, _window(values, read, errors), "p2p_window", corrected)
    decision = values.get("decision", "")
    if decision and decision not in DECISIONS:
        errors["decision"] = "Choose what the letter decides from the list."
    kept["decision"] = _keep(read.decision, decision if decision in DECISIONS else None, "decision", corrected)
    services = _services(values, read, errors, corrected)
    if errors:
        return None, errors
    fields = replace(read, **kept, services=services)
    return Review(fields, tuple(dict.fromkeys(corrected))), {}


def _date(text: str, name: str, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = "Enter the date as printed on the letter (YYYY-MM-DD)."
        return None


def _letter_zone(read: LetterFields, practice: tzinfo) -> tzinfo:
    """The zone the form's decision time is in: the one the letter printed its time in (the form shows that time
    as printed), else the practice's."""
    value = read.decided_at.value if read.decided_at else None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.tzinfo
    return practice


def _decided_at(values: Mapping[str, str], zone: tzinfo, now: datetime, errors: dict[str, str]) -> Any:
    """The decision date, or date and time when a time is given (in ``zone``); never after ``now``."""
    clock = values.get("decided_time", "")
    moment = decision_moment(values.get("decided_date", ""), clock, zone, now, errors)
    if moment is None:
        return None
    return moment if clock else moment.date()


def _same_moment(read: Found[Any] | None, value: Any) -> bool:
    """Whether the form gives back the decision time read (a read time without a zone compares by its clock)."""
    if read is None or value is None or type(read.value) is not type(value):
        return False
    if isinstance(value, datetime) and read.value.tzinfo is None:
        return bool(read.value == value.replace(tzinfo=None))
    return bool(read.value == value)


def _window(values: Mapping[str, str], read: LetterFields, errors: dict[str, str]) -> Window | None:
    amount, unit = values.get("p2p_window_amount", ""), values.get("p2p_window_unit", "")
    if not amount:
        return None
    if not amount.isdigit() or not 0 < int(amount) <= 365 or unit not in WINDOW_UNITS:
        errors["p2p_window_amount"] = "Give the window as a number of hours, calendar days or business days."
        return None
    old = read.p2p_window.value if read.p2p_window else None
    if old is not None and (old.amount, old.unit) == (int(amount), unit):
        return old
    return Window(int(amount), unit, f"{amount} {unit.replace('-', ' ')}")


def _services(
    values: Mapping[str, str], read: LetterFields, errors: dict[str, str], corrected: list[str]
) -> tuple[Found[Service], ...]:
    """The services on the form, each code checked as hand entry checks it; at least one."""
    kept: list[Found[Service]] = []
    for i in range(SERVICE_ROWS):
        code = values.get(f"service_code_{i}", "").upper()
        system, units = values.get(f"service_system_{i}", "CPT"), values.get(f"service_units_{i}", "")
        original = read.services[i] if i < len(read.services) else None
        if not code:
            if original is not None:
                corrected.append("services")
            continue
        if system in CODE_PATTERNS and not re.fullmatch(CODE_PATTERNS[system], code):
            errors[f"service_code_{i}"] = (
                f"Enter the {system} code from the letter (e.g. 72148, J0135 or 0169-4181-13)."
            )
        if units and not (units.isdigit() and 0 < int(units) < 100000):
            errors[f"service_units_{i}"] = "Units are a whole number, or leave it empty."
        service = Service(SERVICE_SYSTEMS.get(system, system), code, int(units) if units.isdigit() else None)
        kept.append(_keep(original, service, "services", corrected) or Found(service, TYPED))
    if not kept:
        errors["service_code_0"] = "Enter the service code the letter decides (CPT, HCPCS or NDC)."
    return tuple(kept)


def patient_differs(fields: LetterFields, patient: Mapping[str, Any] | None) -> dict[str, str] | None:
    """What differs between the letter's patient and the chart's (``Patient`` resource), compared as the letter
    reader compares them (``letters.patient``): None when nothing does, else the names and birth dates to show
    (``letterName``, ``letterBirthDate``, ``chartName``, ``chartBirthDate``; only to the letter's uploader) and
    ``differs``, what differs without either patient's values ("name and birth date differ")."""
    if patient is None:
        return None
    chart_birth = str(patient.get("birthDate") or "")
    letter_name = fields.patient_name.value if fields.patient_name else None
    letter_birth = fields.birth_date.value.isoformat() if fields.birth_date else None
    name_differs = letter_name is not None and not same_name(letter_name, dict(patient))
    birth_differs = letter_birth is not None and letter_birth != chart_birth
    if not name_differs and not birth_differs:
        return None
    return {
        "letterName": letter_name or "",
        "letterBirthDate": letter_birth or "",
        "chartName": next(iter(patient_names(dict(patient))), ""),
        "chartBirthDate": chart_birth,
        "differs": " and ".join(p for p, d in (("name", name_differs), ("birth date", birth_differs)) if d)
        + (" differ" if name_differs and birth_differs else " differs"),
    }
