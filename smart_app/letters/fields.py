"""The denial's fields found in a letter's lines, each with the line it was read from: pure functions over text.

Payers label the same thing many ways ("Member ID", "Subscriber #", "Customer ID"), and OCR adds noise, so labels
are matched forgivingly (``patterns.labels``); values are returned as printed. A field the letter does not state
is None: nothing here guesses. Each kind of field has its module: ``labelled`` (identity, reference, dates),
``services``, ``reason`` (the reason and the decision), ``policy``, ``p2p`` (P2P instructions and the appeal
deadline), ``parties`` (payer, delegate, reviewer).
"""

from __future__ import annotations

import re

from smart_app.letters import labelled
from smart_app.letters.model import LetterFields, LetterText
from smart_app.letters.p2p import appeal_deadline, p2p_fields
from smart_app.letters.paragraphs import paragraphs
from smart_app.letters.parties import delegate_named, payer_named, reviewer_fields
from smart_app.letters.policy import policy_fields
from smart_app.letters.reason import decision, reason_text
from smart_app.letters.services import services

# The sending fax machine's line across the top of each page ("NOV-13-2026 09:12 FROM: UHC PA DEPT 8665550108
# TO: 2175550161 P.001/002"): the machine's words, not the letter's, so no field is read from it.
FAX_HEADER = re.compile(r"\bFROM\s*:.*\bTO\s*:|\bP\.\s?\d{3}\s?/\s?\d{3}\b", re.IGNORECASE)


def find_fields(text: LetterText) -> LetterFields:
    """Every field the letter states, each with its source line; a field not found is None."""
    lines = [line for line in text.lines if line.text.strip() and not FAX_HEADER.search(line.text)]
    groups = paragraphs(lines)
    decided = labelled.decided_at(lines)
    p2p = p2p_fields(groups)
    reviewer = reviewer_fields(lines, groups)
    return LetterFields(
        payer=payer_named(lines),
        delegate=delegate_named(lines),
        member_id=labelled.token_after(lines, labelled.MEMBER_ID),
        patient_name=labelled.patient_name(lines),
        birth_date=labelled.date_after(lines, labelled.BIRTH),
        reference=labelled.token_after(lines, labelled.REFERENCE),
        decided_at=decided,
        services=services(lines),
        reason_text=reason_text(groups),
        **policy_fields(groups),
        p2p_phone=p2p.phone,
        p2p_fax=p2p.fax,
        p2p_portal=p2p.portal,
        p2p_window=p2p.window,
        reviewer_name=reviewer[0],
        reviewer_credentials=reviewer[1],
        reviewer_specialty=reviewer[2],
        appeal_deadline=appeal_deadline(groups, decided.value if decided else None),
        decision=decision(lines),
        notes=tuple(page.note for page in text.pages if page.note),
    )
