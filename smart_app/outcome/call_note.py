"""The call record: what the form asks, how it is checked, and the plain-text note written to the chart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

DISPOSITIONS: dict[str, str] = {
    "overturned": "Overturned: authorization approved",
    "upheld": "Upheld: denial stands",
    "pending-documentation": "Pending documentation",
    "deferred-same-specialty": "Deferred to a same-specialty reviewer",
    "not-reached": "Not reached",
}
FIELDS = (
    "call_date",
    "start_time",
    "end_time",
    "reviewer_name",
    "reviewer_credentials",
    "reviewer_specialty",
    "disposition",
    "authorization_number",
    "notes",
)
MAX_FIELD = {"notes": 10_000}
DEFAULT_MAX = 200


@dataclass(frozen=True)
class CallRecord:
    """One peer-to-peer call as the user recorded it."""

    call_date: date
    start_time: time
    end_time: time
    reviewer_name: str
    reviewer_credentials: str
    reviewer_specialty: str
    disposition: str
    authorization_number: str
    notes: str

    def start(self, zone: ZoneInfo) -> datetime:
        """When the call began, in the practice's time zone."""
        return datetime.combine(self.call_date, self.start_time, zone)

    def end(self, zone: ZoneInfo) -> datetime:
        """When the call ended, in the practice's time zone."""
        return datetime.combine(self.call_date, self.end_time, zone)

    def as_form(self) -> dict[str, str]:
        """The record as the form's string fields (to fill the form again)."""
        return {
            k: (v.isoformat(timespec="minutes") if isinstance(v, time) else str(v)) for k, v in asdict(self).items()
        }


def parse_call_form(form: Mapping[str, str]) -> tuple[CallRecord | None, dict[str, str]]:
    """Check the submitted form; return the record, or None and an error message per field."""
    values = {name: (form.get(name) or "").strip() for name in FIELDS}
    errors: dict[str, str] = {}
    for name, value in values.items():
        if len(value) > MAX_FIELD.get(name, DEFAULT_MAX):
            errors[name] = f"Keep this under {MAX_FIELD.get(name, DEFAULT_MAX):,} characters."
    call_date = start = end = None
    try:
        call_date = date.fromisoformat(values["call_date"])
    except ValueError:
        errors["call_date"] = "Give the date of the call (YYYY-MM-DD)."
    try:
        start = time.fromisoformat(values["start_time"])
    except ValueError:
        errors["start_time"] = "Give the time the call started (HH:MM)."
    try:
        end = time.fromisoformat(values["end_time"])
    except ValueError:
        errors["end_time"] = "Give the time the call ended (HH:MM)."
    if start and end and end < start:
        errors["end_time"] = "The call cannot end before it started."
    if not values["reviewer_name"]:
        errors["reviewer_name"] = "Ask for and record the reviewer's name."
    if values["disposition"] not in DISPOSITIONS:
        errors["disposition"] = "Choose how the call ended."
    if values["disposition"] == "overturned" and not values["authorization_number"]:
        errors["authorization_number"] = "An overturned denial needs the authorization number (or write 'none given')."
    if errors or call_date is None or start is None or end is None:
        return None, errors
    return (
        CallRecord(
            call_date=call_date,
            start_time=start,
            end_time=end,
            reviewer_name=values["reviewer_name"],
            reviewer_credentials=values["reviewer_credentials"],
            reviewer_specialty=values["reviewer_specialty"],
            disposition=values["disposition"],
            authorization_number=values["authorization_number"],
            notes=values["notes"],
        ),
        {},
    )


def call_note_text(
    record: CallRecord,
    *,
    service: str,
    payer: str,
    claim_response_ref: str | None,
    reference_number: str | None,
) -> str:
    """The note filed in the chart: plain text, one fact per line, readable by a person and by an appeal reviewer."""
    minutes = (
        datetime.combine(record.call_date, record.end_time) - datetime.combine(record.call_date, record.start_time)
    ).seconds // 60
    reviewer = ", ".join(p for p in (record.reviewer_name, record.reviewer_credentials) if p)
    lines = [
        "PEER-TO-PEER REVIEW CALL",
        f"Payer: {payer}",
        f"Service: {service}",
        f"Payer reference: {reference_number or 'not given'} ({claim_response_ref or 'denial entered by hand'})",
        f"Date: {record.call_date.isoformat()}, {record.start_time:%H:%M}-{record.end_time:%H:%M} ({minutes} min)",
        f"Reviewer: {reviewer}",
        f"Reviewer specialty: {record.reviewer_specialty or 'not stated'}",
        f"Disposition: {DISPOSITIONS[record.disposition]}",
    ]
    if record.disposition == "overturned":
        lines.append(f"Authorization number: {record.authorization_number}")
    lines += ["", "Notes:", record.notes or "(none)"]
    return "\n".join(lines) + "\n"
