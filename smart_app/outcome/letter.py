"""The draft letter of medical necessity after an upheld denial: the brief's chart facts, the call record and the
policy's criteria laid out for the physician to edit and sign.

Nothing clinical is written that is not in the inputs. A criterion reads as met only with a dated chart fact to
cite; what the chart does not document reads "[not documented — confirm before sending]"; guideline citations
come only from the brief's ``guidelines`` (verified content files, plus what the practice added); every claim the
reviewer made is listed with a blank for the physician's answer, never argued by the program. Every blank is a
bracketed placeholder, collected per section, that the printed draft highlights.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from smart_app.brief.render import environment, html_to_pdf
from smart_app.outcome.call_note import DISPOSITIONS, OBJECTIONS, CallRecord

NOT_DOCUMENTED = "[not documented — confirm before sending]"
RESPONSE = "[response to this claim]"
NOT_MET = "[not met on the chart — address this criterion or remove it]"
SIGNATURE = "[signature]"
DATE = "[date]"
ADDRESS = "[the payer's address for reconsideration requests]"
ENCLOSURES = "[list the chart records enclosed]"
HEADER_BLANKS = (NOT_DOCUMENTED, SIGNATURE, DATE, ADDRESS)


@dataclass(frozen=True)
class LetterSection:
    """One headed part of the letter; ``placeholders`` are the bracketed blanks its paragraphs hold, in order."""

    heading: str
    paragraphs: tuple[str, ...]
    placeholders: tuple[str, ...] = ()  # what the physician must fill in or confirm in this section


@dataclass(frozen=True)
class Letter:
    """The draft letter, as data: the HTML, the PDF and the plain text are all made from it."""

    title: str
    addressee: str
    re_lines: tuple[str, ...]  # patient, DOB, member ID, service with code, payer reference, denial date
    sections: tuple[LetterSection, ...]
    signature_lines: tuple[str, ...]  # ordering physician name, NPI, specialty; "[signature]" "[date]"
    prepared_on: date | None = None

    def text(self) -> str:
        """The whole letter as plain text (placeholders stay in their brackets)."""
        lines = [self.title, "", self.addressee, "", "Re:", *(f"  {line}" for line in self.re_lines)]
        for section in self.sections:
            lines += ["", section.heading.upper(), *(p for paragraph in section.paragraphs for p in ("", paragraph))]
        lines += ["", "Sincerely,", "", *self.signature_lines]
        return "\n".join(lines) + "\n"


class _Draft:
    """Paragraphs of one section, and the blanks they leave for the physician."""

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self.blanks: list[str] = []

    def blank(self, token: str) -> str:
        """Record a bracketed placeholder and return it for the paragraph."""
        if token not in self.blanks:
            self.blanks.append(token)
        return token

    def add(self, *parts: str | None) -> None:
        """One paragraph from its non-empty parts."""
        self.paragraphs.append(" ".join(p for p in parts if p))

    def section(self, heading: str) -> LetterSection:
        """The finished section; its placeholders in reading order, with the blanks its helpers filled in."""
        text = "\n".join(self.paragraphs)
        found = [b for b in dict.fromkeys([*self.blanks, NOT_DOCUMENTED]) if b in text]
        return LetterSection(heading, tuple(self.paragraphs), tuple(sorted(found, key=text.index)))


def _quote(text: str) -> str:
    return f"“{text.strip()}”"


def _code(coding: Mapping[str, Any]) -> str:
    return " ".join(p for p in (coding.get("code"), coding.get("display")) if p)


def _or_blank(value: Any) -> str:
    return str(value) if value else NOT_DOCUMENTED


def _payer(denial: Mapping[str, Any]) -> str:
    payer = denial.get("payer") or {}
    name = payer.get("name") or NOT_DOCUMENTED
    return f"{name} (reviewed by {payer['delegate']})" if payer.get("delegate") else name


def _service(denial: Mapping[str, Any]) -> str:
    service = denial.get("service") or {}
    text = denial.get("serviceText") or _code(service)
    code = service.get("code")
    return f"{text} (code {code})" if code and code not in text else text or NOT_DOCUMENTED


def _denied_on(denial: Mapping[str, Any]) -> str | None:
    decided = denial.get("decidedOn")
    return decided[:10] if decided else None


def _re_lines(brief: Mapping[str, Any], denial: Mapping[str, Any]) -> tuple[str, ...]:
    patient = brief.get("patient") or {}
    return (
        f"Patient: {_or_blank(patient.get('name'))}",
        f"Date of birth: {_or_blank(patient.get('birthDate'))}",
        f"Member ID: {_or_blank(patient.get('memberId'))}",
        f"Service: {_service(denial)}",
        f"Payer reference: {_or_blank(denial.get('preAuthRef'))}",
        f"Denial date: {_or_blank(_denied_on(denial))}",
    )


def _request(brief: Mapping[str, Any], denial: Mapping[str, Any], record: CallRecord) -> LetterSection:
    draft = _Draft()
    patient = _or_blank((brief.get("patient") or {}).get("name"))
    draft.add(
        f"I request reconsideration of {_payer(denial)}'s denial of prior authorization for {_service(denial)} for "
        f"my patient, {patient}. The denial is dated {_or_blank(_denied_on(denial))}, reference "
        f"{_or_blank(denial.get('preAuthRef'))}, and was upheld after a peer-to-peer review on "
        f"{record.call_date.isoformat()}."
    )
    reason = denial.get("reason") or {}
    codes = "; ".join(_code(c) for c in reason.get("codes") or [] if c.get("code"))
    if reason.get("text"):
        draft.add("The denial states:", _quote(reason["text"]))
    else:
        draft.add("The denial gives no reason in words.", f"Its reason codes: {codes}." if codes else None)
    return draft.section("Request for reconsideration")


def _relevant_conditions(brief: Mapping[str, Any], denial: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The chart's conditions coded as one of the request's diagnoses or cited as a criterion's evidence."""
    requested = {(d.get("system"), d.get("code")) for d in denial.get("diagnoses") or []}
    cited = {e.get("reference") for c in denial.get("criteria") or [] for e in c.get("evidence") or []}
    return [
        c
        for c in brief.get("conditions") or []
        if c.get("reference") in cited
        or any((k.get("system"), k.get("code")) in requested for k in c.get("codes") or [])
    ]


#: How a chart record is named to a payer: by the kind of record, not its id in the EHR ("Condition/cond-…").
RECORD_KINDS = {
    "Condition": "problem list",
    "Observation": "result",
    "Procedure": "procedure record",
    "MedicationRequest": "medication order",
    "MedicationStatement": "medication list",
    "MedicationDispense": "pharmacy dispensing record",
    "DocumentReference": "clinical note",
    "DiagnosticReport": "report",
    "Encounter": "visit record",
    "ServiceRequest": "order",
    "AllergyIntolerance": "allergy list",
    "Immunization": "immunization record",
}


def record_words(reference: str | None) -> str:
    """``Condition/cond-lumbar-lbp`` -> ``problem list``: the kind of chart record, as the letter's reader says it."""
    kind = (reference or "").split("/")[0]
    return RECORD_KINDS.get(kind, "chart record")


def _diagnoses(brief: Mapping[str, Any], denial: Mapping[str, Any]) -> LetterSection:
    draft = _Draft()
    requested = [_code(d) for d in denial.get("diagnoses") or []]
    draft.add(f"Diagnoses on the request: {'; '.join(requested) + '.' if requested else NOT_DOCUMENTED}")
    conditions = _relevant_conditions(brief, denial)
    for condition in conditions:
        codes = ", ".join(c["code"] for c in condition.get("codes") or [] if "icd-10" in (c.get("system") or ""))
        name = f"{condition.get('name')} ({codes})" if codes else str(condition.get("name"))
        onset = condition.get("onset")
        dated = f"documented {onset}" if onset else f"onset {draft.blank('[onset date — confirm before sending]')}"
        status = condition.get("clinicalStatus")
        draft.add(f"{name}: {dated} ({record_words(condition.get('reference'))}){f', {status}' if status else ''}.")
    charted = {(k.get("system"), k.get("code")) for c in conditions for k in c.get("codes") or []}
    for diagnosis in denial.get("diagnoses") or []:
        if (diagnosis.get("system"), diagnosis.get("code")) not in charted:
            draft.add(f"{_code(diagnosis)}: not on the chart's condition list {NOT_DOCUMENTED}")
    return draft.section("Diagnoses")


def _evidence(items: Iterable[Mapping[str, Any]]) -> str:
    return "".join(f"\n• {e['summary']}, documented {e['date']} ({record_words(e['reference'])})" for e in items)


def _criterion(criterion: Mapping[str, Any], discussed: bool, draft: _Draft) -> None:
    text = criterion.get("text") or criterion.get("id")
    on_call = "(Discussed on the peer-to-peer call.)" if discussed else None
    dated = [e for e in criterion.get("evidence") or [] if e.get("date") and e.get("reference")]
    status = criterion.get("status")
    note = draft.blank(f"[chart check: {criterion['note']}]") if status != "met" and criterion.get("note") else None
    attested = draft.blank(f"[{criterion['attested']} — cite the dated record]") if criterion.get("attested") else None
    if status == "met" and dated:
        draft.add(f"Met: {text}", on_call, f"The chart documents:{_evidence(dated)}")
    elif status == "met":
        draft.add(text, draft.blank("[marked met, but no dated chart record to cite — confirm before sending]"))
    elif status == "not-met":
        related = f"On the chart:{_evidence(dated)}" if dated else None
        draft.add(f"Not met on the chart: {text}", draft.blank(NOT_MET), note, attested, on_call, related)
    else:
        related = f"Related chart record, which does not establish it:{_evidence(dated)}" if dated else None
        draft.add(text, NOT_DOCUMENTED, note, attested, on_call, related)


def _named_at_ordering(denial: Mapping[str, Any], draft: _Draft) -> None:
    """The policy section the payer itself named for the order (Da Vinci CRD), cited with its assertion id."""
    for assertion in denial.get("coverageAssertions") or []:
        for link in assertion.get("policyLinks") or []:
            trace = f" (coverage assertion {assertion['assertionId']}" if assertion.get("assertionId") else " ("
            trace += f", {assertion['date']})" if assertion.get("date") else ")"
            named = f"{link['note']}: {link['url']}" if link.get("note") else link["url"]
            draft.add(f"When this order was placed, {_payer(denial)} named the policy that applies{trace}: {named}.")


def _criteria(denial: Mapping[str, Any], record: CallRecord) -> LetterSection:
    draft = _Draft()
    _named_at_ordering(denial, draft)
    policy = denial.get("policy")
    if not policy:
        draft.add(f"No coverage policy is on file for this service: its criteria are {NOT_DOCUMENTED}")
        return draft.section("Coverage criteria")
    publisher = f" — {policy['publisher']}" if policy.get("publisher") else ""
    source = f"Source: {policy['source']}" if policy.get("source") else None
    if policy.get("standIn"):  # another publisher's policy: never presented to the payer as its own
        payer = _payer(denial)
        draft.add(
            f"{payer}'s own coverage policy for this service is not on file with the practice. The criteria below "
            f"follow a published policy for the same service: {policy.get('title')}{publisher}.",
            source,
            draft.blank(f"[name the {payer} policy the denial cites, and check its criteria against these]"),
        )
    else:
        draft.add(f"Policy: {policy.get('title')}{publisher}.", source)
    draft.add("Each of its criteria, with the dated chart record that documents it:")
    for criterion in denial.get("criteria") or []:
        _criterion(criterion, criterion.get("id") in record.criteria_discussed, draft)
    return draft.section("Coverage criteria")


def _treatments(denial: Mapping[str, Any]) -> LetterSection:
    draft = _Draft()
    for t in denial.get("priorTreatments") or []:
        start = t.get("start") or draft.blank("[start date — confirm before sending]")
        span = f"{start} to {t['end']}" if t.get("end") else f"from {start}, no end date on record"
        dose = f" Dose: {t['dose']}." if t.get("dose") else ""
        result = f" Result: {t['result']}." if t.get("result") else ""
        outcome = f" Outcome: {t.get('outcome') or NOT_DOCUMENTED}"
        refs = t.get("references") or [t.get("reference")]
        more = len(refs) - 1
        cited = record_words(refs[0]) + (f" and {more} more record{'s' if more > 1 else ''}" if more else "")
        draft.add(f"{t.get('name')}, {span} ({cited}).{dose}{result}{outcome}")
    if not draft.paragraphs:
        draft.add(f"Prior treatment for this condition: {NOT_DOCUMENTED}")
    return draft.section("Prior treatments")


def _guidelines(denial: Mapping[str, Any]) -> LetterSection:
    draft = _Draft()
    for guideline in denial.get("guidelines") or []:
        supports = f"It supports: {guideline['supports']}" if guideline.get("supports") else None
        source = f"Source: {guideline['source']}" if guideline.get("source") else None
        draft.add(guideline["citation"], supports, guideline.get("addedBy") and f"({guideline['addedBy']})", source)
    if not draft.paragraphs:
        draft.add(f"No guideline is on file for this service {draft.blank('[add one from a verified source]')}")
    return draft.section("Clinical guidelines")


def _call(denial: Mapping[str, Any], record: CallRecord) -> LetterSection:
    draft = _Draft()
    reviewer = ", ".join(p for p in (record.reviewer_name, record.reviewer_credentials) if p)
    specialty = record.reviewer_specialty or "specialty not stated"
    draft.add(f"A peer-to-peer review took place on {record.call_date.isoformat()} with {reviewer} ({specialty}).")
    names = {c.get("id"): c.get("text") for c in denial.get("criteria") or []}
    if record.criteria_discussed:
        draft.add("Criteria discussed: " + "; ".join(names.get(c) or c for c in record.criteria_discussed))
    reasoning = _quote(record.reviewer_reasoning) if record.reviewer_reasoning else NOT_DOCUMENTED
    draft.add("The reviewer's stated reasoning:", reasoning)
    for claim in record.reviewer_claims:
        draft.add("The reviewer stated:", _quote(claim), draft.blank(RESPONSE))
    would_change = _quote(record.would_change) if record.would_change else NOT_DOCUMENTED
    draft.add("Asked what additional information would change the decision, the reviewer answered:", would_change)
    return draft.section("The peer-to-peer review")


def _procedure_facts(denial: Mapping[str, Any], record: CallRecord) -> list[str]:
    ordering = ((denial.get("orderingProvider") or {}).get("specialty") or {}).get("display")
    facts = []
    if record.specialty_match == "different":
        facts.append(
            f"The reviewer's specialty ({record.reviewer_specialty or 'not stated'}) is not that of the ordering "
            f"physician ({ordering or NOT_DOCUMENTED})."
        )
    if record.same_specialty_request == "refused":
        facts.append("A reviewer of the same specialty was requested on the call and refused.")
    facts += [f"{OBJECTIONS[o]}." for o in record.objections if o in OBJECTIONS and o != "non-specialty-reviewer"]
    if "non-specialty-reviewer" in record.objections and record.specialty_match != "different":
        facts.append(f"{OBJECTIONS['non-specialty-reviewer']}.")
    if record.objection_notes:
        facts.append(f"Recorded at the time: {_quote(record.objection_notes)}")
    return facts


def _procedure(denial: Mapping[str, Any], record: CallRecord) -> LetterSection | None:
    """The procedural paragraph, only when the record shows a mismatch, a refused request or an objection."""
    facts = _procedure_facts(denial, record)
    if not facts:
        return None
    draft = _Draft()
    draft.add(*facts)
    rights = denial.get("reviewerRights")
    if rights:
        caveat = draft.blank(f"[{rights['caveat']}]") if rights.get("caveat") else None
        draft.add(f"{rights['citation']} provides:", _quote(rights.get("text") or rights.get("say") or ""), caveat)
        draft.add("I ask that the reconsideration be decided by a reviewer who meets this requirement.")
    else:
        draft.add("I ask that the reconsideration be decided by a physician of the same or a similar specialty.")
    return draft.section("Review procedure")


def _closing(
    brief: Mapping[str, Any], denial: Mapping[str, Any], record: CallRecord, callback_phone: str | None
) -> LetterSection:
    draft = _Draft()
    patient = _or_blank((brief.get("patient") or {}).get("name"))
    draft.add(
        f"For these reasons I ask {_payer(denial)} to reverse the denial and approve {_service(denial)} for "
        f"{patient}. The chart records cited above are enclosed: {draft.blank(ENCLOSURES)}"
    )
    if record.urgent:
        draft.add(
            "I ask for an expedited review: waiting could seriously jeopardize the patient's life, health or "
            f"function {draft.blank('[state the clinical reason]')}"
        )
    draft.add(f"I am available to discuss this request at {callback_phone or draft.blank('[direct callback number]')}.")
    return draft.section("Request for approval")


def _signature(denial: Mapping[str, Any]) -> tuple[str, ...]:
    provider = denial.get("orderingProvider") or {}
    specialty = (provider.get("specialty") or {}).get("display")
    return (
        SIGNATURE,
        _or_blank(provider.get("name")),
        f"NPI {_or_blank(provider.get('npi'))}",
        f"Specialty: {_or_blank(specialty)}",
        f"Date: {DATE}",
    )


def letter_of_medical_necessity(
    brief: Mapping[str, Any],
    record: CallRecord,
    *,
    today: date,
    denial_index: int = 0,
    callback_phone: str | None = None,
) -> Letter:
    """The draft letter for one upheld denial of ``brief`` (``build_brief``'s model) after the call in ``record``.
    ``callback_phone`` is the physician's direct line the practice entered; the Claim's number (a front desk) is
    never offered instead: without one, the letter leaves a blank.

    ``ValueError`` unless the call upheld the denial: after an overturn there is nothing to ask for, and a pending
    or deferred review is answered with documents or a second call, not a letter."""
    if record.disposition != "upheld":
        shown = DISPOSITIONS.get(record.disposition, record.disposition)
        raise ValueError(f"a letter of medical necessity follows an upheld denial, not {shown!r}")
    denial = brief["denials"][denial_index]
    sections = (
        _request(brief, denial, record),
        _diagnoses(brief, denial),
        _criteria(denial, record),
        _treatments(denial),
        _guidelines(denial),
        _call(denial, record),
        _procedure(denial, record),
        _closing(brief, denial, record, callback_phone),
    )
    return Letter(
        title="Letter of medical necessity: request for reconsideration of a prior-authorization denial",
        addressee=f"To: {_payer(denial)}, prior authorization reconsideration, {ADDRESS}",
        re_lines=_re_lines(brief, denial),
        sections=tuple(s for s in sections if s is not None),
        signature_lines=_signature(denial),
        prepared_on=today,
    )


def placeholders_in(letter: Letter) -> tuple[str, ...]:
    """Every blank the letter leaves for the physician, each once, in reading order."""
    found = [p for s in letter.sections for p in s.placeholders]
    header = " ".join((letter.addressee, *letter.re_lines, *letter.signature_lines))
    found += [token for token in HEADER_BLANKS if token in header]
    return tuple(dict.fromkeys(found))


def _segments(text: str, blanks: tuple[str, ...]) -> list[tuple[str, bool]]:
    """``text`` cut into (part, is_placeholder) pieces, so the template can mark the blanks and still escape all."""
    if not blanks:
        return [(text, False)]
    pattern = re.compile("(" + "|".join(re.escape(b) for b in sorted(blanks, key=len, reverse=True)) + ")")
    return [(part, part in blanks) for part in pattern.split(text) if part]


def render_letter_html(letter: Letter) -> str:
    """The draft as a self-contained printable page (US Letter, the blanks highlighted)."""
    blanks = placeholders_in(letter)
    template = environment().get_template("letter_print.html")
    count = sum(letter.text().count(blank) for blank in blanks)
    return template.render(letter=letter, blank_count=count, segments=lambda text: _segments(text, blanks))


def render_letter_pdf(letter: Letter) -> bytes:
    """The draft as PDF, through WeasyPrint like the brief."""
    return html_to_pdf(render_letter_html(letter))
