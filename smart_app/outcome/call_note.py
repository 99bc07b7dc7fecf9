"""The call record: what the form asks, how it is checked, and the plain-text note written to the chart.

The record is what an appeal, an external reviewer or a regulator relies on later, so it keeps the reviewer's own
words apart from the practice's: the reasoning the reviewer gave, each factual claim the reviewer made, and the
reviewer's answer to "what additional information would change this decision?". Procedural objections
(a reviewer of another specialty, a refusal to consider guidelines or new evidence, scheduling obstruction) are
recorded as such, for the appeal's procedural-defect paragraph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

DISPOSITIONS: dict[str, str] = {
    "overturned": "Overturned: authorization approved",
    "upheld": "Upheld: denial stands",
    "pending-documentation": "Pending documentation",
    "deferred-same-specialty": "Deferred to a same-specialty reviewer",
    "not-reached": "Not reached",
}
SPECIALTY_MATCH: dict[str, str] = {
    "same": "Same specialty as the ordering physician",
    "different": "A different specialty",
    "unknown": "Not established",
}
SAME_SPECIALTY_REQUEST: dict[str, str] = {
    "not-asked": "Not requested",
    "granted": "Requested and granted",
    "refused": "Requested and refused",
}
OBJECTIONS: dict[str, str] = {
    "non-specialty-reviewer": "The reviewer was not of the ordering physician's specialty",
    "refused-guidelines": "The reviewer refused to consider the guidelines supplied",
    "refused-new-evidence": "The reviewer refused to consider new evidence",
    "scheduling-obstruction": "Scheduling was obstructed (missed call-backs, no reviewer available in the window)",
}
NONE_GIVEN = "none given"
TEXT_FIELDS = (
    "call_date",
    "start_time",
    "end_time",
    "reviewer_name",
    "reviewer_credentials",
    "reviewer_specialty",
    "specialty_match",
    "same_specialty_request",
    "reviewer_reasoning",
    "reviewer_claims",
    "would_change",
    "disposition",
    "authorization_number",
    "authorization_none_given",
    "documents_requested",
    "documents_due",
    "objection_notes",
    "urgent",
    "notes",
)
LIST_FIELDS = ("criteria_discussed", "objections")
FIELDS = TEXT_FIELDS + LIST_FIELDS
LONG_FIELDS = (
    "notes",
    "reviewer_reasoning",
    "reviewer_claims",
    "would_change",
    "documents_requested",
    "objection_notes",
)
MAX_LONG = 10_000
DEFAULT_MAX = 200


class FormData(Protocol):
    """What a submitted form offers: ``get`` for one value, ``getlist`` for a repeated field (Werkzeug's MultiDict)."""

    def get(self, key: str, default: str | None = None) -> str | None: ...  # noqa: D102

    def getlist(self, key: str) -> list[str]: ...  # noqa: D102


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
    authorization_number: str = ""
    notes: str = ""
    specialty_match: str = "unknown"
    same_specialty_request: str = "not-asked"
    criteria_discussed: tuple[str, ...] = ()
    reviewer_reasoning: str = ""
    reviewer_claims: tuple[str, ...] = ()
    would_change: str = ""
    documents_requested: str = ""
    documents_due: date | None = None
    objections: tuple[str, ...] = ()
    objection_notes: str = ""
    urgent: bool = False

    def start(self, zone: ZoneInfo) -> datetime:
        """When the call began, in the practice's time zone."""
        return datetime.combine(self.call_date, self.start_time, zone)

    def end(self, zone: ZoneInfo) -> datetime:
        """When the call ended, in the practice's time zone."""
        return datetime.combine(self.call_date, self.end_time, zone)

    @property
    def minutes(self) -> int:
        """The call's length in whole minutes."""
        span = datetime.combine(self.call_date, self.end_time) - datetime.combine(self.call_date, self.start_time)
        return span.seconds // 60

    @property
    def reviewer_same_specialty(self) -> bool | None:
        """True or False when the user established it, None when not."""
        return {"same": True, "different": False}.get(self.specialty_match)

    def as_form(self) -> dict[str, str | list[str]]:
        """The record as the form's fields (to fill the form again, or to start a correction)."""
        form: dict[str, str | list[str]] = {
            "call_date": self.call_date.isoformat(),
            "start_time": self.start_time.isoformat(timespec="minutes"),
            "end_time": self.end_time.isoformat(timespec="minutes"),
            "reviewer_name": self.reviewer_name,
            "reviewer_credentials": self.reviewer_credentials,
            "reviewer_specialty": self.reviewer_specialty,
            "specialty_match": self.specialty_match,
            "same_specialty_request": self.same_specialty_request,
            "reviewer_reasoning": self.reviewer_reasoning,
            "reviewer_claims": "\n".join(self.reviewer_claims),
            "would_change": self.would_change,
            "disposition": self.disposition,
            "authorization_number": "" if self.authorization_number == NONE_GIVEN else self.authorization_number,
            "authorization_none_given": "on" if self.authorization_number == NONE_GIVEN else "",
            "documents_requested": self.documents_requested,
            "documents_due": self.documents_due.isoformat() if self.documents_due else "",
            "objection_notes": self.objection_notes,
            "urgent": "on" if self.urgent else "",
            "notes": self.notes,
            "criteria_discussed": list(self.criteria_discussed),
            "objections": list(self.objections),
        }
        return form


def form_values(form: FormData | Mapping[str, object]) -> dict[str, str | list[str]]:
    """The submitted form as plain values: text fields stripped, repeated fields as lists."""
    values: dict[str, str | list[str]] = {name: str(form.get(name) or "").strip() for name in TEXT_FIELDS}
    for name in LIST_FIELDS:
        if hasattr(form, "getlist"):
            chosen = form.getlist(name)
        else:
            raw = form.get(name)
            chosen = raw if isinstance(raw, list) else ([str(raw)] if raw else [])
        values[name] = [str(v) for v in chosen if v]
    return values


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _time(value: str) -> time | None:
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


def _text(values: Mapping[str, str | list[str]], name: str) -> str:
    value = values[name]
    return value if isinstance(value, str) else ""


def _items(values: Mapping[str, str | list[str]], name: str) -> list[str]:
    value = values[name]
    return value if isinstance(value, list) else []


def _length_errors(values: Mapping[str, str | list[str]]) -> dict[str, str]:
    errors = {}
    for name in TEXT_FIELDS:
        limit = MAX_LONG if name in LONG_FIELDS else DEFAULT_MAX
        if len(_text(values, name)) > limit:
            errors[name] = f"Keep this under {limit:,} characters."
    return errors


def _authorization(values: Mapping[str, str | list[str]], errors: dict[str, str]) -> str:
    number, none_given = _text(values, "authorization_number"), bool(_text(values, "authorization_none_given"))
    if _text(values, "disposition") != "overturned":
        return number
    if number and none_given:
        errors["authorization_number"] = "Give the authorization number or tick 'none given', not both."
    elif not number and not none_given:
        errors["authorization_number"] = (
            "An overturned denial needs the authorization number, or tick 'none given' if the reviewer gave none."
        )
    return number or NONE_GIVEN


def parse_call_form(
    form: FormData | Mapping[str, object], criteria_ids: set[str] | None = None, *, strict: bool = True
) -> tuple[CallRecord | None, dict[str, str]]:
    """Check the submitted form; return the record, or None and an error message per field.

    ``criteria_ids`` are the criteria of the denial's brief: a ticked criterion must be one of them. ``strict``
    False reads back a stored record without the rules of entry (what a disposition requires, the lengths), so a
    note saved under older rules still reads and can be corrected."""
    values = form_values(form)
    errors = _length_errors(values) if strict else {}
    call_date = _date(_text(values, "call_date"))
    start, end = _time(_text(values, "start_time")), _time(_text(values, "end_time"))
    if call_date is None:
        errors["call_date"] = "Give the date of the call (YYYY-MM-DD)."
    if start is None:
        errors["start_time"] = "Give the time the call started (HH:MM)."
    if end is None:
        errors["end_time"] = "Give the time the call ended (HH:MM)."
    if start and end and end < start:
        errors["end_time"] = "The call cannot end before it started."
    if not _text(values, "reviewer_name"):
        errors["reviewer_name"] = "Ask for and record the reviewer's name."
    disposition = _text(values, "disposition")
    if disposition not in DISPOSITIONS:
        errors["disposition"] = "Choose how the call ended."
    authorization = _authorization(values, errors if strict else {})
    if strict and disposition == "pending-documentation" and not _text(values, "documents_requested"):
        errors["documents_requested"] = "Write down what the reviewer asked to be sent."
    documents_due = _date(_text(values, "documents_due")) if _text(values, "documents_due") else None
    if _text(values, "documents_due") and documents_due is None:
        errors["documents_due"] = "Give the date the documents are due (YYYY-MM-DD)."
    elif documents_due and call_date and documents_due < call_date:
        errors["documents_due"] = "The documents cannot be due before the call."
    match = _text(values, "specialty_match") or "unknown"
    if match not in SPECIALTY_MATCH:
        errors["specialty_match"] = "Choose whether the reviewer's specialty matches."
    request = _text(values, "same_specialty_request") or "not-asked"
    if request not in SAME_SPECIALTY_REQUEST:
        errors["same_specialty_request"] = "Choose whether a same-specialty reviewer was requested."
    unknown_objections = [o for o in _items(values, "objections") if o not in OBJECTIONS]
    if unknown_objections:
        errors["objections"] = "Choose objections from the list."
    criteria = _items(values, "criteria_discussed")
    if criteria_ids is not None and any(c not in criteria_ids for c in criteria):
        errors["criteria_discussed"] = "Tick criteria from this denial's brief."
    if errors or call_date is None or start is None or end is None:
        return None, errors
    claims = tuple(line.strip(" -•\t") for line in _text(values, "reviewer_claims").splitlines() if line.strip(" -•\t"))
    return (
        CallRecord(
            call_date=call_date,
            start_time=start,
            end_time=end,
            reviewer_name=_text(values, "reviewer_name"),
            reviewer_credentials=_text(values, "reviewer_credentials"),
            reviewer_specialty=_text(values, "reviewer_specialty"),
            disposition=disposition,
            authorization_number=authorization if disposition == "overturned" else "",
            notes=_text(values, "notes"),
            specialty_match=match,
            same_specialty_request=request,
            criteria_discussed=tuple(dict.fromkeys(criteria)),
            reviewer_reasoning=_text(values, "reviewer_reasoning"),
            reviewer_claims=claims,
            would_change=_text(values, "would_change"),
            documents_requested=_text(values, "documents_requested") if disposition == "pending-documentation" else "",
            documents_due=documents_due if disposition == "pending-documentation" else None,
            objections=tuple(dict.fromkeys(_items(values, "objections"))),
            objection_notes=_text(values, "objection_notes"),
            urgent=bool(_text(values, "urgent")),
        ),
        {},
    )


def record_from_form(form: Mapping[str, object]) -> CallRecord:
    """A stored record (``CallRecord.as_form()``) read back; ``ValueError`` if it no longer parses."""
    record, errors = parse_call_form(form, strict=False)
    if record is None:
        raise ValueError(f"stored call record does not parse: {sorted(errors)}")
    return record


@dataclass(frozen=True)
class NoteContext:
    """What the note says about the case, beyond the record: the denial it answers and what it corrects."""

    service: str
    payer: str
    claim_response_ref: str | None
    reference_number: str | None
    ordering_specialty: str | None = None
    criteria: Mapping[str, str] = field(default_factory=dict)
    corrects: str | None = None
    correction_reason: str = ""


def _block(title: str, body: str | list[str]) -> list[str]:
    if isinstance(body, list):
        lines = [f"- {item}" for item in body] or ["(none recorded)"]
    else:
        lines = body.splitlines() or ["(none recorded)"]
    return ["", title, *lines]


def _reviewer_lines(record: CallRecord, context: NoteContext) -> list[str]:
    reviewer = ", ".join(p for p in (record.reviewer_name, record.reviewer_credentials) if p)
    lines = [
        f"Reviewer: {reviewer}",
        f"Reviewer specialty: {record.reviewer_specialty or 'not stated'}",
        f"Ordering physician's specialty: {context.ordering_specialty or 'not on record'}",
        f"Specialty match: {SPECIALTY_MATCH[record.specialty_match]}",
        f"Same-specialty reviewer: {SAME_SPECIALTY_REQUEST[record.same_specialty_request]}",
    ]
    return lines


def _disposition_lines(record: CallRecord) -> list[str]:
    lines = [f"Disposition: {DISPOSITIONS[record.disposition]}"]
    if record.disposition == "overturned":
        shown = (
            "none given by the reviewer" if record.authorization_number == NONE_GIVEN else record.authorization_number
        )
        lines.append(f"Authorization number: {shown}")
    if record.disposition == "pending-documentation":
        due = record.documents_due.isoformat() if record.documents_due else "no date given"
        lines += [f"Documents requested: {record.documents_requested}", f"Documents due: {due}"]
    if record.urgent:
        lines.append("Marked urgent: waiting could seriously jeopardize the patient's life, health or function")
    return lines


def call_note_text(record: CallRecord, context: NoteContext) -> str:
    """The note filed in the chart: plain text, one fact per line, readable by a person and by an appeal reviewer."""
    lines = ["PEER-TO-PEER REVIEW CALL"]
    if context.corrects:
        lines.append(f"CORRECTION: this note replaces {context.corrects}.")
        if context.correction_reason:
            lines.append(f"Reason for the correction: {context.correction_reason}")
    lines += [
        f"Payer: {context.payer}",
        f"Service: {context.service}",
        f"Payer reference: {context.reference_number or 'not given'} "
        f"({context.claim_response_ref or 'denial entered by hand'})",
        f"Date: {record.call_date.isoformat()}, {record.start_time:%H:%M}-{record.end_time:%H:%M} "
        f"({record.minutes} min)",
        *_reviewer_lines(record, context),
        *_disposition_lines(record),
    ]
    discussed = [f"{context.criteria.get(c, c)} [{c}]" for c in record.criteria_discussed]
    lines += _block("Criteria discussed:", discussed)
    lines += _block("Reviewer's stated reasoning:", record.reviewer_reasoning)
    lines += _block("Factual claims the reviewer made:", list(record.reviewer_claims))
    lines += _block(
        'Reviewer\'s answer to "what additional information would change this decision?":', record.would_change
    )
    objections = [OBJECTIONS[o] for o in record.objections]
    if record.same_specialty_request == "refused" and "non-specialty-reviewer" not in record.objections:
        objections.append("A reviewer of the same specialty was requested and refused")
    if record.objection_notes:
        objections.append(record.objection_notes)
    lines += _block("Procedural objections:", objections)
    lines += _block("Notes:", record.notes)
    return "\n".join(lines) + "\n"
