"""Denials typed in by hand from the payer's fax or portal letter: check the form, and turn a saved entry into
the same ``Denial`` a FHIR ClaimResponse gives, marked "entered by hand".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from smart_app.denials.pas import Denial, DenialItem, Provider
from smart_app.denials.provenance import typed_provenance
from smart_app.fhir.facts import Code
from smart_app.fhir.systems import SYSTEMS

HAND_PREFIX = "hand-"
MAX_HAND_ID, HAND_ID_DIGITS = 2**31 - 1, 10  # the stored entry's id (an Integer column): larger names no entry
SERVICE_SYSTEMS = {"CPT": SYSTEMS["cpt"], "HCPCS": SYSTEMS["hcpcs"], "NDC": SYSTEMS["ndc"]}
PLAN_TYPE_CHOICES = {
    "": "Not known",
    "commercial": "Commercial, fully insured (state-regulated)",
    "self-funded": "Self-funded employer plan (ERISA)",
    "medicare-advantage": "Medicare Advantage",
    "medicaid-managed-care": "Medicaid or CHIP managed care",
    "marketplace": "Marketplace (ACA exchange)",
}
LETTER_ZONES = {
    "": "The practice's time zone",
    "America/New_York": "Eastern",
    "America/Chicago": "Central",
    "America/Denver": "Mountain",
    "America/Phoenix": "Arizona",
    "America/Los_Angeles": "Pacific",
    "America/Anchorage": "Alaska",
    "Pacific/Honolulu": "Hawaii",
}
EARLIEST_YEAR = 2000
FIELDS = (
    "payer",
    "plan_type",
    "state",
    "service_system",
    "service_code",
    "service_display",
    "decided_date",
    "decided_time",
    "decided_zone",
    "reason_text",
    "reference_number",
    "ordering_physician",
)
LIMITS = {"reason_text": 8000, "service_display": 300}
CODE_PATTERNS = {"CPT": r"^\d{4}[0-9A-Z]$", "HCPCS": r"^[A-Z]\d{4}$", "NDC": r"^\d{4,5}-\d{3,4}-\d{1,2}$"}


@dataclass(frozen=True)
class HandEntry:
    """A checked hand-entered denial (text as the liaison typed it)."""

    payer: str
    plan_type: str | None
    state: str | None
    service_system: str
    service_code: str
    service_display: str | None
    decided_at: datetime
    reason_text: str
    reference_number: str | None
    ordering_physician: str | None
    practice: str | None = None  # the practice whose worklist the case is on (``Organization/<id>``)

    def as_fields(self) -> dict[str, Any]:
        """The stored form of the entry (JSON-friendly)."""
        return {
            "payer": self.payer,
            "plan_type": self.plan_type,
            "state": self.state,
            "service_system": self.service_system,
            "service_code": self.service_code,
            "service_display": self.service_display,
            "decided_at": self.decided_at.isoformat(),
            "decided_zone": str(self.decided_at.tzinfo),
            "reason_text": self.reason_text,
            "reference_number": self.reference_number,
            "ordering_physician": self.ordering_physician,
            "practice": self.practice,
        }


def _clean(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def parse_hand_entry(
    form: Mapping[str, str],
    zone: ZoneInfo,
    *,
    now: datetime | None = None,
    practices: Sequence[str] | None = None,
) -> tuple[HandEntry | None, dict[str, str]]:
    """Check the hand-entry form: ``(entry, {})`` or ``(None, {field: what is wrong})``. A decision after ``now``
    (default: the clock) is refused: a letter is not dated in the future, and a brief would count down from it.
    ``practices`` are the user's (``Organization/<id>``), None when the EHR cannot tell: see ``_practice``."""
    errors: dict[str, str] = {}
    practice = practice_choice(_clean(form, "practice"), practices, errors)
    values = {name: _clean(form, name) for name in FIELDS}
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = f"Keep this under {limit} characters."
    if not values["payer"]:
        errors["payer"] = "Name the payer as the letter does."
    if values["plan_type"] not in PLAN_TYPE_CHOICES:
        errors["plan_type"] = "Choose a plan type from the list."
    if values["state"] and not re.fullmatch(r"[A-Za-z]{2}", values["state"]):
        errors["state"] = "Use the two-letter state code, e.g. TX."
    system = values["service_system"] or "CPT"
    if system not in SERVICE_SYSTEMS:
        errors["service_system"] = "Choose CPT, HCPCS or NDC."
    elif not re.fullmatch(CODE_PATTERNS[system], values["service_code"].upper()):
        errors["service_code"] = f"Enter the {system} code from the letter (e.g. 72148, J0135 or 0169-4181-13)."
    decided_at = _decision_time(values, zone, now or datetime.now(zone), errors)
    if not values["reason_text"]:
        errors["reason_text"] = "Copy the reason exactly as the letter words it."
    if errors or decided_at is None:
        return None, errors
    return (
        HandEntry(
            payer=values["payer"],
            plan_type=values["plan_type"] or None,
            state=values["state"].upper() or None,
            service_system=system,
            service_code=values["service_code"].upper(),
            service_display=values["service_display"] or None,
            decided_at=decided_at,
            reason_text=values["reason_text"],
            reference_number=values["reference_number"] or None,
            ordering_physician=values["ordering_physician"] or None,
            practice=practice,
        ),
        {},
    )


def practice_choice(chosen: str, practices: Sequence[str] | None, errors: dict[str, str]) -> str | None:
    """The practice the entry belongs to: the one chosen, which must be one of the user's; the user's only one when
    none was chosen; required when they have several (a denial of no practice is on nobody's worklist). When the
    EHR cannot tell the user's practices (None) no choice can be checked, and the entry names none."""
    if practices is None:
        if chosen:
            errors["practice"] = (
                "Your practices could not be read from the EHR, so this choice cannot be checked: save again to "
                "store the denial without a practice, or try again in a few minutes."
            )
        return None
    if chosen and chosen not in practices:
        errors["practice"] = "That practice is not one of yours: choose one from the list."
        return None
    if not chosen and len(practices) > 1:
        errors["practice"] = "Choose the practice this denial belongs to."
        return None
    return chosen or (practices[0] if practices else None)


def decision_moment(day: str, clock: str, zone: tzinfo, now: datetime, errors: dict[str, str]) -> datetime | None:
    """The decision date (YYYY-MM-DD) and time (HH:MM, or empty for 00:00) as typed from a letter, in ``zone``;
    never before ``EARLIEST_YEAR`` nor after ``now``. A problem goes into ``errors`` under the form's field name."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        errors["decided_date"] = "Enter the decision date from the letter."
        return None
    if clock and not re.fullmatch(r"\d{2}:\d{2}", clock):
        errors["decided_time"] = "Enter the time as HH:MM, or leave it empty."
        return None
    try:
        moment = datetime.fromisoformat(f"{day}T{clock or '00:00'}").replace(tzinfo=zone)
    except ValueError:
        errors["decided_date"] = "That is not a real date and time."
        return None
    if moment.year < EARLIEST_YEAR:
        errors["decided_date"] = f"The decision year must be {EARLIEST_YEAR} or later."
        return None
    if moment > now:
        errors["decided_date"] = (
            f"The decision date {moment:%Y-%m-%d %H:%M} is after today ({now:%Y-%m-%d %H:%M}): "
            "enter the date and time printed on the letter."
        )
        return None
    return moment


def _decision_time(values: Mapping[str, str], zone: ZoneInfo, now: datetime, errors: dict[str, str]) -> datetime | None:
    """The letter's decision date and time (HH:MM, no offset) in the letter's zone, else the practice's."""
    if values["decided_zone"] not in LETTER_ZONES:
        errors["decided_zone"] = "Choose the time zone from the list."
        return None
    letter_zone = ZoneInfo(values["decided_zone"]) if values["decided_zone"] else zone
    return decision_moment(values["decided_date"], values["decided_time"], letter_zone, now, errors)


def hand_denial_id(entry_id: int) -> str:
    """The id a hand-entered denial has in URLs and in the brief (``hand-12``)."""
    return f"{HAND_PREFIX}{entry_id}"


def is_hand_denial_id(denial_id: str) -> bool:
    """Whether ``denial_id`` names a hand-entered denial rather than a ClaimResponse."""
    number = denial_id[len(HAND_PREFIX) :]
    return (
        denial_id.startswith(HAND_PREFIX)
        and number.isascii()
        and number.isdigit()
        and len(number) <= HAND_ID_DIGITS
        and 0 < int(number) <= MAX_HAND_ID
    )


def denial_from_hand_entry(entry_id: int, fields: Mapping[str, Any], patient_id: str) -> Denial:
    """The ``Denial`` for a stored hand entry: one denied item, its reason as written, marked entered by hand."""
    system = str(fields.get("service_system") or "CPT")
    service = Code(SERVICE_SYSTEMS.get(system), fields.get("service_code"), fields.get("service_display"))
    decided_at = datetime.fromisoformat(fields["decided_at"]) if fields.get("decided_at") else None
    physician, practice = fields.get("ordering_physician"), fields.get("practice")
    return Denial(
        claim_response_id=hand_denial_id(entry_id),
        claim_response_ref=None,
        claim_ref=None,
        decided_at=decided_at,
        outcome=None,
        disposition=None,
        pre_auth_ref=fields.get("reference_number"),
        payer_name=fields.get("payer"),
        payer_ref=None,
        patient_ref=f"Patient/{patient_id}",
        items=[DenialItem(1, "denied", None, None, [], [str(fields.get("reason_text") or "")], service, None)],
        diagnoses=[],
        notes=[],
        warnings=[
            "Entered by hand from the payer's letter: codes, dates and wording are as typed — check them against "
            "the letter."
        ],
        insurer={"name": fields.get("payer")},
        ordering_provider=Provider(physician, None, None, None, None, practice) if physician or practice else None,
        is_drug=system == "NDC",
        entered_by_hand=True,
        plan_type_hint=fields.get("plan_type"),
        state_hint=fields.get("state"),
        provenance=typed_provenance(),
        channel="hand-entry",
    )
