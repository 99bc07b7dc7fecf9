"""Cases made from confirmed letters: their ids (``letter-<n>``, the uploaded letter's row) and their ``Denial``,
built again from the fields the liaison confirmed each time the case is opened."""

from __future__ import annotations

from smart_app.denials.pas import Denial
from smart_app.letters.denial import LETTER_PREFIX
from smart_app.practice.letter_joins import is_own_case, letter_denial
from smart_app.smart.launch import LaunchContext
from smart_app.store.db import Database
from smart_app.store.letters import letter
from smart_app.store.models import MAX_ROW_ID


def letter_number(denial_id: str) -> int | None:
    """The uploaded letter a case id names, or None when it names none."""
    number = denial_id[len(LETTER_PREFIX) :]
    if not denial_id.startswith(LETTER_PREFIX) or not (number.isascii() and number.isdigit()) or len(number) > 10:
        return None
    return int(number) if 0 < int(number) <= MAX_ROW_ID else None


def joined_to(db: Database, context: LaunchContext, patient_id: str, denial_id: str) -> str | None:
    """The denial a letter case ``letter-<n>`` joined (the payer's answer for the same decision), or None."""
    number = letter_number(denial_id)
    stored = None if number is None else letter(db, iss=context.tenant, patient_id=patient_id, letter_id=number)
    if stored is None or stored.status != "confirmed" or is_own_case(stored):
        return None
    return stored.denial_id


def letter_case(db: Database, context: LaunchContext, patient_id: str, denial_id: str) -> Denial | None:
    """The case ``letter-<n>`` of this patient, or None when it names no confirmed letter of theirs."""
    number = letter_number(denial_id)
    stored = None if number is None else letter(db, iss=context.tenant, patient_id=patient_id, letter_id=number)
    return letter_denial(stored) if stored is not None and stored.status == "confirmed" else None
