"""A letter's fields turned into the same ``Denial`` a PAS ClaimResponse gives, marked "from the letter".

Like a hand entry (``denials.hand_entry``), the letter carries one decision for its services, its reason in the
payer's words, the payer (and a delegate deciding for it), the reference number and the decision time. The P2P
window the letter states rides along (``Denial.letter_window``): the window rules take it as one more candidate,
so it wins when it is stricter than the payer's rule on file and the brief says "the letter says …".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from smart_app.denials.pas import Denial, DenialItem, Reviewer, StatedContact, StatedWindow
from smart_app.denials.provenance import RULES_ON_FILE
from smart_app.fhir.facts import Code
from smart_app.fhir.systems import SYSTEMS
from smart_app.letters.model import Found, LetterFields

LETTER_PREFIX = "letter-"
DECISIONS = {"denied": "denied", "pended": "pended", "partial": "partial"}
NOT_ON_LETTER = "not on the letter"
TYPED_AT_REVIEW = "typed at the letter's review"


def letter_denial_id(letter_id: str | int) -> str:
    """The id a denial read from a letter has in URLs and in the brief (``letter-<letter_id>``)."""
    return f"{LETTER_PREFIX}{letter_id}"


def denial_from_letter(fields: LetterFields, *, letter_id: str) -> Denial:
    """The ``Denial`` the letter states: one item per service (or one with no service), each with the letter's
    decision (``denied`` when it says none) and reason; the payer as printed, a delegate as the insurer deciding."""
    decision = DECISIONS.get(fields.decision.value if fields.decision else "", "denied")
    reason = [fields.reason_text.value] if fields.reason_text else []
    reference = fields.reference.value if fields.reference else None
    services: list[tuple[Code | None, str | None]] = [
        (Code(found.value.system, found.value.code, None), str(found.value.units) if found.value.units else None)
        for found in fields.services
    ] or [(None, None)]
    items = [
        DenialItem(number, decision, None, None, [], reason, service, units, reference)
        for number, (service, units) in enumerate(services, start=1)
    ]
    payer = fields.payer.value if fields.payer else None
    delegate = fields.delegate.value if fields.delegate else None
    return Denial(
        claim_response_id=letter_denial_id(letter_id),
        claim_response_ref=None,
        claim_ref=None,
        decided_at=_decided_at(fields),
        outcome=None,
        disposition=None,
        pre_auth_ref=reference,
        payer_name=payer or delegate,
        payer_ref=None,
        patient_ref=None,
        items=items,
        diagnoses=[],
        notes=list(fields.notes),
        warnings=[
            "Read from the payer's letter and confirmed by a person: check codes, dates and wording against the letter."
        ],
        insurer={"name": delegate or payer},
        plan_payer={"name": payer} if delegate and payer else None,
        reviewer=_reviewer(fields),
        is_drug=any(found.value.system == SYSTEMS["ndc"] for found in fields.services),
        from_letter=True,
        letter_window=_window(fields),
        letter_contact=_contact(fields),
        provenance=letter_provenance(fields),
        channel="letter",
    )


def _line(found: Found[Any] | None) -> str:
    """The letter line a value was read from (``letter page 1: 'Reference number A265903318'``)."""
    if found is None:
        return NOT_ON_LETTER
    if found.source.page < 1:  # nothing was read there: the liaison typed it at the review
        return TYPED_AT_REVIEW
    return f"letter page {found.source.page}: '{found.source.text}'"


def letter_provenance(fields: LetterFields) -> dict[str, str]:
    """Where each brief field of the letter's denial is on the letter (a field it does not state says so; the window
    it does not state comes from the payer's rules on file)."""
    return {
        "decidedOn": _line(fields.decided_at),
        "reason": _line(fields.reason_text),
        "preAuthRef": _line(fields.reference),
        "service": _line(fields.services[0] if fields.services else None),
        "p2pWindow": _line(fields.p2p_window) if fields.p2p_window else RULES_ON_FILE,
        "reviewer": _line(fields.reviewer_name or fields.reviewer_specialty),
        "payer": _line(fields.payer or fields.delegate),
    }


def _decided_at(fields: LetterFields) -> datetime | None:
    """The decision time; a date alone is that day with no zone (the window rules start it at the practice's 00:00)."""
    if fields.decided_at is None:
        return None
    value = fields.decided_at.value
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def _reviewer(fields: LetterFields) -> Reviewer | None:
    if fields.reviewer_specialty is None and fields.reviewer_name is None:
        return None
    specialty = fields.reviewer_specialty.value if fields.reviewer_specialty else None
    return Reviewer(
        human_reviewed=True if fields.reviewer_name else None,
        npi=None,
        specialty=Code(None, None, specialty) if specialty else None,
    )


def _window(fields: LetterFields) -> StatedWindow | None:
    found = fields.p2p_window
    if found is None:
        return None
    return StatedWindow(found.value.amount, found.value.unit, found.value.text, found.source.page)


def _contact(fields: LetterFields) -> StatedContact | None:
    """The P2P phone, fax and portal as the letter prints them (a portal only as a web address), or None."""
    portal = fields.p2p_portal.value if fields.p2p_portal else None
    if portal and not portal.lower().startswith(("http://", "https://")):
        portal = None if "." not in portal else f"https://{portal}"
    found = [f for f in (fields.p2p_phone, fields.p2p_fax, fields.p2p_portal) if f is not None]
    if not found:
        return None
    return StatedContact(
        phone=fields.p2p_phone.value if fields.p2p_phone else None,
        fax=fields.p2p_fax.value if fields.p2p_fax else None,
        portal=portal,
        page=min(f.source.page for f in found if f.source.page >= 1)
        if any(f.source.page >= 1 for f in found)
        else None,
    )
