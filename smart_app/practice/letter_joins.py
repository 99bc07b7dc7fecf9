"""The patient's confirmed letters against the payer's FHIR answers: a letter that is the payer's letter for an
answer joins that answer's case (the letter row names the answer's denial id; its own ``letter-<n>`` case, if it
had one, is closed as superseded), so one decision is one case with one clock, whichever channel came first."""

from __future__ import annotations

from dataclasses import dataclass, replace

from smart_app.denials.pas import Denial, Provider
from smart_app.denials.same_decision import attach_letter, pair_letters
from smart_app.letters.denial import denial_from_letter, letter_denial_id
from smart_app.letters.stored import fields_from_json
from smart_app.store.cases import close_superseded
from smart_app.store.db import Database
from smart_app.store.letters import StoredLetter, confirmed_letters, join_letter


@dataclass
class Joined:
    """The answers (each with its letter attached when one joined it), the letters still cases of their own, and
    why a letter was not joined (it fits several)."""

    answers: list[Denial]
    letter_cases: list[Denial]
    warnings: list[str]


def _with_practice(denial: Denial, practice: str | None) -> Denial:
    """The case belongs to the practice the liaison chose on the review (its worklist shows it)."""
    if not practice:
        return denial
    provider = denial.ordering_provider or Provider(None, None, None, None, None)
    return replace(denial, ordering_provider=replace(provider, organization=provider.organization or practice))


def letter_denial(stored: StoredLetter) -> Denial:
    """The ``Denial`` a confirmed letter states."""
    assert stored.confirmed is not None  # noqa: S101 - only confirmed letters are denials
    denial = denial_from_letter(fields_from_json(stored.confirmed), letter_id=str(stored.id))
    return _with_practice(denial, stored.practice)


def is_own_case(stored: StoredLetter) -> bool:
    """Whether a confirmed letter is a case of its own (``letter-<n>``) rather than joined to another denial."""
    return stored.denial_id in (None, letter_denial_id(stored.id))


def join_letters(db: Database, tenant: str, patient_id: str, answers: list[Denial], *, join_new: bool = True) -> Joined:
    """Attach to each of the patient's FHIR answers the letter that joined it, and (``join_new``: ``answers`` are all
    the patient's open answers, so a letter fitting two is seen) join each letter case that is the same decision as
    exactly one answer (recorded, and its ``letter-<n>`` case closed as superseded)."""
    letters = confirmed_letters(db, iss=tenant, patient_id=patient_id)
    own = {letter_denial_id(s.id): s for s in letters if is_own_case(s)}
    joined = {s.denial_id: s for s in reversed(letters) if not is_own_case(s)}  # newest letter last: it wins
    own_denials = [letter_denial(s) for s in own.values()]
    pairing = pair_letters(own_denials if join_new else [], answers)
    for letter_id, answer_id in pairing.pairs.items():
        stored = own.pop(letter_id)
        join_letter(db, iss=tenant, patient_id=patient_id, letter_id=stored.id, denial_id=answer_id)
        joined[answer_id] = stored
    close_superseded(db, tenant, [(patient_id, letter_id) for letter_id in pairing.pairs])
    attached = [attach_letter(a, letter_denial(joined[a.claim_response_id])) if a.claim_response_id in joined else a
                for a in answers]  # fmt: skip
    remaining = [d for d in own_denials if d.claim_response_id in own]
    return Joined(attached, remaining, pairing.warnings)
