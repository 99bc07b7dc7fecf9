"""The written requests a practice sends, drafted for a person to review and send: plain text for a payer portal
or a fax (a PDF is rendered elsewhere from the same text), and a plain-language summary for the patient.

Practices schedule P2Ps by fax and portal, and the paper trail later proves a right was asserted, so a draft
states only what the brief holds: a citation, a window or a phone number the app does not have is left as a
marked blank ("[... — fill in before sending]"), and a fact the content files flag as unverified carries a
"[Check before sending: ...]" line for the sender to settle and delete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from smart_app.denials.deadlines import is_business_day
from smart_app.denials.window import TRUSTED_STATUSES
from smart_app.fhir.facts import Code
from smart_app.outcome.call_note import NONE_GIVEN, CallRecord
from smart_app.outcome.scheduling import CHANNELS, FAILED_ATTEMPTS_FOR_DEMAND, SchedulingEvent

REQUEST_INTRO = (
    "The ordering physician requests a peer-to-peer review of {subject}: a call with the physician reviewer to "
    "discuss the case."
)
CALL_US = "Please call the direct callback number above at one of these times, or reply with another time."
DEMAND = (
    "We ask that you schedule the peer-to-peer review {by}, with a physician reviewer of the same specialty as the "
    "ordering physician, by calling the direct callback number above. If you cannot, please record in this case's "
    "file that no peer-to-peer review was made available despite the attempts listed above, so that the record of "
    "any appeal shows it."
)

ON_THE_CALL = "On {day}, {doctor} talked with a doctor at {payer}. "
OUTCOMES = {
    "overturned": ON_THE_CALL + "Good news: {payer} changed its answer and approved {service}.",
    "upheld": ON_THE_CALL + "{Payer} did not change its answer. It still says no to {service} for now.",
    "pending-documentation": ON_THE_CALL + "{Payer} asked for more of your medical records before it decides. "
    "We will send them.",
    "deferred-same-specialty": ON_THE_CALL + "{Payer} will set up a new call with a doctor trained in the same field "
    "as {doctor}.",
    "not-reached": "On {day}, {doctor} tried to have this call but could not reach a doctor at {payer}. "
    "We are still working on it.",
}


@dataclass(frozen=True)
class Draft:
    """One draft: what kind it is, its title, and the whole text (the title is its first line)."""

    kind: str
    title: str
    text: str


class StepLike(Protocol):
    """A next step as the patient summary reads it (``outcome.next_steps.NextStep`` has this shape)."""

    @property
    def action(self) -> str: ...  # noqa: D102

    @property
    def due(self) -> datetime | None: ...  # noqa: D102

    @property
    def kind(self) -> str: ...  # noqa: D102


# What each next step means to the patient, in their words (the step's date goes before it). A step that is the
# practice's own business (the procedural point for the appeal) is not the patient's to read and is left out.
FOR_THE_PATIENT: dict[str, str | None] = {
    "confirm-authorization": "We will get the approval in writing from the insurance company.",
    "check-claim": "We will check that the insurance company pays for the care.",
    "request-rationale": "We will ask the insurance company to explain its decision in writing.",
    "internal-appeal": "The last day to ask the insurance company to look at its decision again (an appeal).",
    "expedited-appeal": "Because this is urgent, we will ask for a fast appeal.",
    "external-review": "If the appeal is also turned down, you can ask for a review by experts who do not work for "
    "the insurance company.",
    "external-review-automatic": "If the plan keeps its decision, it must send your case to independent reviewers "
    "on its own.",
    "procedural-defect": None,
    "send-documents": "We will send the insurance company the records it asked for.",
    "schedule-second-p2p": "We will set up a new call with a doctor in the same field as your doctor.",
    "reschedule-p2p": "We will try again to set up the call.",
    "written-demand": "We will ask the insurance company in writing for the call.",
}


def _blank(what: str) -> str:
    return f"[{what} — fill in before sending]"


def _check(what: str) -> str:
    return f"[Check before sending: {what}]"


def _date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _day(day: date) -> str:
    return f"{day:%A}, {_date(day)}"


def _clock(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def _moment(moment: datetime) -> str:
    return f"{_day(moment)}, {_clock(moment)} {moment.tzname() or ''}".rstrip()


def _span(start: datetime, end: datetime) -> str:
    begins, ends = _clock(start), _clock(end)
    if begins[-2:] == ends[-2:]:
        begins = begins[:-3]
    return f"{_day(start)}, {begins}–{ends} {end.tzname() or ''}".rstrip()


def proposed_blocks(
    now: datetime, daily_blocks: Sequence[tuple[time, time]], *, business_days: int = 2, count: int = 3
) -> list[tuple[datetime, datetime]]:
    """Three call blocks in the next two business days (after `now`, skipping weekends and US federal holidays)
    when the physician is free: the physician's configured daily free blocks (e.g. 12:15-12:45, 17:00-17:30),
    earliest first; a block already begun today is skipped.

    The blocks are in ``now``'s time zone (``now`` must be aware: every draft prints the zone). A day counts
    toward ``business_days`` only if a block is still ahead on it, so a request written after the last block
    offers the next two business days; fewer than ``count`` blocks come back when the configured blocks are few.
    """
    if now.tzinfo is None:
        raise ValueError("proposed_blocks needs an aware 'now': the blocks are offered in the practice's time zone")
    ordered = sorted(daily_blocks)
    found: list[tuple[datetime, datetime]] = []
    day, days_used = now.date(), 0
    while ordered and days_used < business_days and len(found) < count:
        if is_business_day(day):
            ahead = [
                (datetime.combine(day, start, now.tzinfo), datetime.combine(day, end, now.tzinfo))
                for start, end in ordered
                if datetime.combine(day, start, now.tzinfo) > now
            ]
            found += ahead
            days_used += bool(ahead)
        day += timedelta(days=1)
    return found[:count]


def _addressee(payer: Mapping[str, Any]) -> str:
    """The delegate that reviews (eviCore for Cigna, say) when there is one, else the payer."""
    delegate, plan = payer.get("delegate"), payer.get("recognisedAs")
    if delegate:
        return f"{delegate}, reviewing for {plan}" if plan and plan != delegate else str(delegate)
    return str(payer.get("name") or plan or _blank("payer name"))


def _physician(denial: Mapping[str, Any]) -> Mapping[str, Any]:
    return denial.get("orderingProvider") or {}


def _specialty(denial: Mapping[str, Any]) -> str | None:
    return (_physician(denial).get("specialty") or {}).get("display")


def _decided_on(denial: Mapping[str, Any]) -> date | None:
    decided = denial.get("decidedOn")
    return datetime.fromisoformat(decided).date() if decided else None


def _subject(denial: Mapping[str, Any]) -> str:
    """What the letter is about: a denial, or a request the payer has pended (not yet decided)."""
    if denial.get("decision") == "pended":
        return "the prior-authorization request below, which the payer has pended"
    return "the prior-authorization denial below"


def _code_text(coding: Mapping[str, Any]) -> str:
    code = Code(coding.get("system"), coding.get("code"), coding.get("display"))
    return " ".join(p for p in (code.system_name, code.code, code.display) if p)


def _references(denial: Mapping[str, Any]) -> list[str]:
    labelled = [("Payer reference", denial.get("preAuthRef"))]
    for item in denial.get("items") or []:
        labelled += [("Review number", item.get("reviewNumber")), ("Reference number", item.get("referenceNumber"))]
    lines, seen = [], set()
    for label, value in labelled:
        if value and value not in seen:
            seen.add(value)
            lines.append(f"{label}: {value}")
    return lines or [f"Payer reference: {_blank('payer reference')}"]


def _birth_date(value: str) -> str:
    """A full FHIR date in words; a partial one (``1960``, ``1960-04``) as written."""
    try:
        return _date(date.fromisoformat(value))
    except ValueError:
        return value


def _case_lines(denial: Mapping[str, Any], patient: Mapping[str, Any]) -> list[str]:
    born = patient.get("birthDate")
    decided = _decided_on(denial)
    label = "Date of the payer's answer" if denial.get("decision") == "pended" else "Date of the decision"
    diagnoses = [_code_text(d) for d in denial.get("diagnoses") or []]
    return [
        f"Patient: {patient.get('name') or _blank('patient name')}",
        f"Date of birth: {_birth_date(born) if born else _blank('date of birth')}",
        f"Member ID: {patient.get('memberId') or _blank('member ID')}",
        *_references(denial),
        f"{label}: {_date(decided) if decided else _blank(label.lower())}",
        f"Service: {_code_text(denial['service']) if denial.get('service') else _blank('service and code')}",
        f"Diagnoses: {'; '.join(diagnoses) if diagnoses else _blank('diagnoses')}",
    ]


CALLBACK_LINE = "Direct callback number: "


def callback_number_in(text: str) -> str | None:
    """The direct callback number a drafted request carries (the practice typed it), or None when it is a blank."""
    line = next((ln for ln in text.splitlines() if ln.startswith(CALLBACK_LINE)), "")
    number = line[len(CALLBACK_LINE) :].strip()
    return number if number and not number.startswith("[") else None


def _physician_lines(denial: Mapping[str, Any], callback_phone: str | None) -> list[str]:
    doctor = _physician(denial)
    return [
        f"Ordering physician: {doctor.get('name') or _blank('ordering physician')}",
        f"NPI: {doctor.get('npi') or _blank('NPI')}",
        f"Specialty: {_specialty(denial) or _blank('specialty')}",
        f"{CALLBACK_LINE}{callback_phone or _blank('direct callback number')}",
    ]


def _letter(
    kind: str, title: str, denial: Mapping[str, Any], practice: str | None, today: date, sections: list[str | list[str]]
) -> Draft:
    """A draft to the payer: the title line, To/From/Date, then the sections (a string is one paragraph)."""
    doctor = _physician(denial).get("name") or _blank("ordering physician")
    sender = f"{practice}, for {doctor}" if practice else doctor
    heading = [
        title.upper(),
        f"To: {_addressee(denial.get('payer') or {})}",
        f"From: {sender}",
        f"Date: {_date(today)}",
    ]
    return _draft(kind, title, [heading, *sections])


def _reviewer_request(denial: Mapping[str, Any]) -> list[str]:
    """Ask for a same-specialty reviewer: as of right only where the quoted rule grants it, else as a request."""
    specialty = _specialty(denial)
    whom = "a physician of the same specialty as the ordering physician" + (f" ({specialty})" if specialty else "")
    rights = denial.get("reviewerRights")
    if rights is None:
        return [
            f"We request that the review be held with {whom}. This is our request; we do not claim that a rule "
            "requires it."
        ]
    quoted = f"{rights['citation']}, which provides: “{rights['text']}”"
    if rights.get("sameSpecialty"):
        lines = [f"We request that the review be held with {whom}, as required by {quoted}"]
    else:
        lines = [f"We request that the review be held with {whom}.", f"We also note {quoted}"]
    return lines + ([_check(rights["caveat"])] if rights.get("caveat") else [])


def _window(denial: Mapping[str, Any]) -> Mapping[str, Any]:
    return denial.get("p2pWindow") or {}


def _deadline(denial: Mapping[str, Any], zone: tzinfo | None) -> datetime | None:
    closes = _window(denial).get("deadline")
    if not closes:
        return None
    moment = datetime.fromisoformat(closes)
    return moment.astimezone(zone) if zone else moment


def _window_lines(denial: Mapping[str, Any], zone: tzinfo | None, today: date) -> list[str]:
    window, closes = _window(denial), _deadline(denial, zone)
    lines = []
    if window.get("route") not in (None, "open") and window.get("routeText"):
        lines.append(_check(window["routeText"]))
    if closes is None:
        return lines
    if window.get("closed") or closes.date() < today:
        return [*lines, _check(f"the request window closed {_moment(closes)}; the payer may refuse a late request.")]
    lines += [
        f"This request is made within the peer-to-peer request window, which closes {_moment(closes)}.",
        f"Request window: {window.get('basis')}.",
    ]
    if window.get("verify") and window.get("statusText"):
        lines.append(_check(f"this window is {window['statusText']}."))
    return lines


def _draft(kind: str, title: str, sections: Sequence[str | Sequence[str]]) -> Draft:
    paragraphs = [s if isinstance(s, str) else "\n".join(s) for s in sections if s]
    return Draft(kind, title, "\n\n".join(paragraphs) + "\n")


def p2p_request(
    denial: Mapping[str, Any],
    patient: Mapping[str, Any],
    *,
    blocks: Sequence[tuple[datetime, datetime]],
    callback_phone: str | None,
    practice: str | None,
    today: date,
) -> Draft:
    """The request for a peer-to-peer review: the case, the physician's direct line, the proposed call blocks,
    the window it is made within, and the request for a same-specialty reviewer (citing the rule if one applies).
    """
    zone = blocks[0][0].tzinfo if blocks else None
    offered = [f"{n}. {_span(start, end)}" for n, (start, end) in enumerate(blocks, 1)] or [_blank("proposed times")]
    return _letter(
        "p2p-request",
        "Request for peer-to-peer review",
        denial,
        practice,
        today,
        [
            REQUEST_INTRO.format(subject=_subject(denial)),
            _case_lines(denial, patient),
            _physician_lines(denial, callback_phone),
            ["The ordering physician is available for the call at these times:", *offered, CALL_US],
            _window_lines(denial, zone, today),
            _reviewer_request(denial),
        ],
    )


def confirmation(
    denial: Mapping[str, Any],
    patient: Mapping[str, Any],
    *,
    event: SchedulingEvent,
    callback_phone: str | None,
    practice: str | None,
    today: date,
) -> Draft:
    """Same-day confirmation of a scheduled call: the slot, the reviewer named (or not), the payer's reference,
    the callback number and the restated same-specialty request. ``ValueError`` unless ``event`` is a scheduling."""
    if event.kind != "scheduled" or event.slot is None:
        raise ValueError("a confirmation needs a 'scheduled' event with its slot")
    channel = CHANNELS.get(event.channel, event.channel).lower()
    return _letter(
        "confirmation",
        "Confirmation of scheduled peer-to-peer review",
        denial,
        practice,
        today,
        [
            f"This confirms the peer-to-peer review scheduled on {_date(event.at)} by {channel} for the case below.",
            [
                f"Scheduled call: {_moment(event.slot)}",
                f"Reviewer: {event.reviewer or 'not named'}",
                f"Your reference for this call: {event.reference or 'not given'}",
            ],
            _case_lines(denial, patient),
            _physician_lines(denial, callback_phone),
            "The ordering physician will take the call at the direct callback number above. If the time or the "
            "reviewer changes, please tell us before the call.",
            _reviewer_request(denial),
        ],
    )


def _attempt_lines(failures: Sequence[SchedulingEvent]) -> list[str]:
    lines = ["Our attempts to schedule the peer-to-peer review:"]
    for n, event in enumerate(failures, 1):
        said = f"“{event.said}”" if event.said else "not recorded"
        reference = f". Reference: {event.reference}" if event.reference else ""
        lines.append(
            f"{n}. {_moment(event.at)}, {CHANNELS.get(event.channel, event.channel)}. "
            f"Answered by: {event.who_answered or 'not recorded'}. What was said: {said}{reference}"
        )
    return lines


def _process_lines(denial: Mapping[str, Any], zone: tzinfo | None) -> list[str]:
    """The payer's P2P facts as the brief carries them, each with its source; unverified ones flagged."""
    window, closes = _window(denial), _deadline(denial, zone)
    lines = ["The peer-to-peer process on file for this case:"]
    if window.get("basis") and closes:
        lines.append(f"Request window: {window['basis']}. Deadline: {_moment(closes)}.")
        published = window.get("status") in TRUSTED_STATUSES  # the payer's source, or its own letter
        status = window.get("statusText") or "not from a published payer source"
        lines.append(f"Source: {window['source']}" if published else _check(f"this window is {status}."))
    for label, name in (("Scheduling", "schedule"), ("Who takes part", "whoMustCall")):
        fact = window.get(name)
        if fact:
            published = "://" in fact["source"]  # a payer page; the practice's own notes have no address
            unpublished = _check("this is not from a published payer source — verify with the payer.")
            lines += [f"{label}: {fact['text']}", f"Source: {fact['source']}" if published else unpublished]
    return lines if len(lines) > 1 else [_check("no payer P2P rule is on file: cite the denial letter's own terms.")]


def written_demand(
    denial: Mapping[str, Any],
    patient: Mapping[str, Any],
    *,
    attempts: Sequence[SchedulingEvent],
    callback_phone: str | None,
    practice: str | None,
    today: date,
) -> Draft:
    """After two failed attempts: every attempt, the payer's P2P terms on file with their sources, the reviewer
    rule, and the demand for a same-specialty P2P within the window, or that its absence be recorded for the
    appeal. ``ValueError`` with fewer than two failed attempts, or when a call has been scheduled."""
    failures = sorted((e for e in attempts if e.kind == "attempt-failed"), key=lambda e: e.at)
    if len(failures) < FAILED_ATTEMPTS_FOR_DEMAND:
        raise ValueError(
            f"a written demand follows at least {FAILED_ATTEMPTS_FOR_DEMAND} failed attempts to schedule the P2P; "
            f"{len(failures)} given"
        )
    if any(e.kind == "scheduled" for e in attempts):
        raise ValueError("a call is scheduled: send the confirmation, not a written demand")
    zone = failures[-1].at.tzinfo
    closes = _deadline(denial, zone)
    by = f"before the request window closes {_moment(closes)}" if closes and closes.date() >= today else "promptly"
    return _letter(
        "written-demand",
        "Written demand for a peer-to-peer review",
        denial,
        practice,
        today,
        [
            f"The ordering physician has made {len(failures)} attempts to schedule a peer-to-peer review of "
            f"{_subject(denial)}, without success. This letter puts the request in writing.",
            _case_lines(denial, patient),
            _physician_lines(denial, callback_phone),
            _attempt_lines(failures),
            _process_lines(denial, zone),
            _reviewer_request(denial),
            DEMAND.format(by=by),
        ],
    )


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _approval_number(record: CallRecord) -> list[str]:
    if record.disposition != "overturned":
        return []
    if not record.authorization_number or record.authorization_number == NONE_GIVEN:
        return ["They did not give the approval number on the call. We will send it to you when we get it."]
    return [f"Your approval number is {record.authorization_number}. Keep it for your records."]


def patient_summary(
    denial: Mapping[str, Any],
    patient: Mapping[str, Any],
    *,
    record: CallRecord,
    steps: Sequence[StepLike],
    practice: str | None,
) -> Draft:
    """A plain-language summary for the patient after the call: what was asked for, what happened, what happens
    next (each step with its date) and whom to call. No codes, no reviewer's name, no internal objections."""
    title = "Update on your insurance approval"
    office = practice or "your doctor's office"
    payer_on_file = denial.get("payer") or {}
    payer = payer_on_file.get("recognisedAs") or payer_on_file.get("name") or "your insurance company"
    service = (denial.get("service") or {}).get("display") or "the care your doctor ordered"
    doctor = _physician(denial).get("name") or "your doctor"
    decided = _decided_on(denial)
    answer = "had not decided yet" if denial.get("decision") == "pended" else "said no"
    said_no = f"On {_date(decided)}, {payer} {answer}." if decided else _capital(f"{payer} {answer}.")
    happened = OUTCOMES[record.disposition].format(
        day=_date(record.call_date), doctor=doctor, payer=payer, Payer=_capital(payer), service=service
    )
    upcoming = []
    for step in steps:
        words = FOR_THE_PATIENT.get(step.kind)
        if words is None:  # the practice's own business, or a step kind with no patient wording yet
            continue
        if step.kind == "internal-appeal" and step.due is None:
            words = "We can ask the insurance company to look at its decision again (an appeal)."
        upcoming.append(f"- {_day(step.due.date())}: {words}" if step.due else f"- {words}")
    return _draft(
        "patient-summary",
        title,
        [
            [title.upper(), f"For: {patient.get('name') or 'you'}", f"From: {_capital(office)}"],
            ["What we asked for", _capital(f"{doctor} asked {payer} to approve {service}. {said_no}")],
            [
                "What happened on the call",
                "Your doctor can ask to talk about a request like this with a doctor who works for the insurance "
                "company. This call is called a peer-to-peer review.",
                _capital(happened),
                *_approval_number(record),
            ],
            ["What happens next", *(upcoming or ["We will call you when there is news."])],
            ["Questions?", f"Please call {office} at the number you usually use to reach us."],
        ],
    )
