"""The scheduling log: every step toward the P2P call, before it happens, and what it means for the case.

A request made after the P2P window closed, or none made by the window's end, is shown as such. Two failed
attempts to reach the payer raise the written-demand step: the paper trail is what later proves a right was
asserted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

EVENT_KINDS: dict[str, str] = {
    "requested": "P2P requested",
    "attempt-failed": "Attempt failed",
    "scheduled": "Call scheduled",
}
CHANNELS: dict[str, str] = {
    "phone": "Phone",
    "fax": "Fax",
    "portal": "Payer portal",
    "email": "Email",
}
FAILED_ATTEMPTS_FOR_DEMAND = 2
TEXT_FIELDS = ("kind", "at", "channel", "reference", "slot", "reviewer", "who_answered", "said")
MAX_TEXT = {"said": 2_000}
DEFAULT_MAX = 200


@dataclass(frozen=True)
class SchedulingEvent:
    """One entry of the log: a request, a failed attempt (who answered, what was said) or a scheduled slot."""

    kind: str
    at: datetime
    channel: str
    reference: str = ""
    slot: datetime | None = None
    reviewer: str = ""
    who_answered: str = ""
    said: str = ""

    @property
    def label(self) -> str:
        """What happened, in words."""
        return EVENT_KINDS[self.kind]

    def as_dict(self) -> dict[str, str]:
        """The event as stored and as the form's fields."""
        return {
            "kind": self.kind,
            "at": self.at.isoformat(timespec="minutes"),
            "channel": self.channel,
            "reference": self.reference,
            "slot": self.slot.isoformat(timespec="minutes") if self.slot else "",
            "reviewer": self.reviewer,
            "who_answered": self.who_answered,
            "said": self.said,
        }


def _local_datetime(value: str, zone_of: datetime | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None and zone_of is not None and zone_of.tzinfo is not None:
        parsed = parsed.replace(tzinfo=zone_of.tzinfo)
    return parsed


def parse_event_form(form: Mapping[str, str], now: datetime) -> tuple[SchedulingEvent | None, dict[str, str]]:
    """Check one log entry from the form (times in the practice's zone, like ``now``); the event or the errors."""
    values = {name: (form.get(name) or "").strip() for name in TEXT_FIELDS}
    errors: dict[str, str] = {}
    for name, value in values.items():
        limit = MAX_TEXT.get(name, DEFAULT_MAX)
        if len(value) > limit:
            errors[name] = f"Keep this under {limit:,} characters."
    if values["kind"] not in EVENT_KINDS:
        errors["kind"] = "Choose what happened."
    if values["channel"] not in CHANNELS:
        errors["channel"] = "Choose the channel."
    at = _local_datetime(values["at"], now)
    if at is None:
        errors["at"] = "Give the date and time (YYYY-MM-DD HH:MM)."
    elif at > now:
        errors["at"] = "Log what has happened: this time is in the future."
    slot = _local_datetime(values["slot"], now) if values["slot"] else None
    if values["slot"] and slot is None:
        errors["slot"] = "Give the offered slot as a date and time."
    if values["kind"] == "scheduled" and slot is None and "slot" not in errors:
        errors["slot"] = "A scheduled call needs its date and time."
    if values["kind"] == "attempt-failed" and not values["said"]:
        errors["said"] = "Write down what was said (or 'no answer')."
    if errors or at is None:
        return None, errors
    return (
        SchedulingEvent(
            kind=values["kind"],
            at=at,
            channel=values["channel"],
            reference=values["reference"],
            slot=slot,
            reviewer=values["reviewer"],
            who_answered=values["who_answered"],
            said=values["said"],
        ),
        {},
    )


def event_from_dict(stored: Mapping[str, str]) -> SchedulingEvent:
    """A stored event read back (``SchedulingEvent.as_dict()``)."""
    slot = stored.get("slot") or ""
    return SchedulingEvent(
        kind=stored["kind"],
        at=datetime.fromisoformat(stored["at"]),
        channel=stored["channel"],
        reference=stored.get("reference", ""),
        slot=datetime.fromisoformat(slot) if slot else None,
        reviewer=stored.get("reviewer", ""),
        who_answered=stored.get("who_answered", ""),
        said=stored.get("said", ""),
    )


@dataclass(frozen=True)
class SchedulingStatus:
    """Where scheduling stands against the P2P window."""

    requested_at: datetime | None
    request_late: bool
    no_request_by_deadline: bool
    failed_attempts: int
    written_demand_due: bool
    scheduled_slot: datetime | None
    reference: str | None
    reviewer: str | None
    summary: str


def scheduling_status(
    events: Sequence[SchedulingEvent],
    *,
    window_closes: datetime | None,
    now: datetime,
    call_held_on: date | None = None,
) -> SchedulingStatus:
    """Read the log against the window: late or missing request, failed attempts, the slot and the reference.

    ``call_held_on`` is the date of a recorded call: once the call took place, no written demand is due."""
    ordered = sorted(events, key=lambda e: e.at)
    failures = [e for e in ordered if e.kind == "attempt-failed"]
    scheduled = [e for e in ordered if e.kind == "scheduled"]
    # A failed attempt or a call booked at once is a request too: the first logged step is when it was asked.
    requested_at = ordered[0].at if ordered else None
    late = bool(requested_at and window_closes and requested_at > window_closes)
    missing = requested_at is None and window_closes is not None and now > window_closes
    slot = scheduled[-1].slot if scheduled else None
    demand = len(failures) >= FAILED_ATTEMPTS_FOR_DEMAND and slot is None and call_held_on is None
    reference = next((e.reference for e in reversed(ordered) if e.reference), None)
    reviewer = next((e.reviewer for e in reversed(ordered) if e.reviewer), None)
    if call_held_on is not None:
        summary = f"The call took place on {call_held_on.isoformat()}."
        if late:
            summary += " It was requested after the window closed."
    elif missing:
        summary = "No P2P was requested before the window closed: the route now is a written appeal."
    elif late:
        summary = "The P2P was requested after the window closed: the payer may refuse it."
    elif slot is not None:
        summary = f"Call scheduled for {slot:%Y-%m-%d %H:%M}."
    elif demand:
        summary = f"{len(failures)} failed attempts: send the written demand."
    elif requested_at is not None:
        summary = f"Requested {requested_at:%Y-%m-%d %H:%M}; no slot yet."
    else:
        summary = "Not requested yet."
    return SchedulingStatus(
        requested_at=requested_at,
        request_late=late,
        no_request_by_deadline=missing,
        failed_attempts=len(failures),
        written_demand_due=demand,
        scheduled_slot=slot,
        reference=reference,
        reviewer=reviewer,
        summary=summary,
    )
