"""One payer decision seen twice — on the payer's letter, and as a FHIR answer (the EHR's ClaimResponse or PDex EOB,
or the payer's own API) — is one denial: find the pairs, attach the letter to its answer, and list where they differ.

Why these keys. A letter and an answer are the same decision when:
- the letter's reference number equals one of the answer's numbers: ``preAuthRef``, an item's reviewAction
  ``number``, its ``administrationReferenceNumber`` / ``authorizationNumber``, or the answer's ``identifier``. The
  payer prints on its letter the number it gave the decision; PAS and PDex carry that same number in those elements
  (which one depends on the payer and its vendor), so an equal number is the strongest evidence there is. Numbers
  are compared without case, spaces or punctuation ("A26-5903318" is "A265903318"); two different numbers are two
  decisions, whatever else agrees;
- or, when one side has no number, the same service code decided within one day: one request for one service gets
  one decision, and a letter is dated the day of the decision or the next (time zones and a letter dated the next
  morning make a one-day tolerance, not more: a re-request decided a week later is another decision).
Never on the patient's or payer's name alone: every denial of the patient shares them. Both sides are already the
same patient's (the caller pairs only a chart's own answers and letters). A letter that fits two answers, or an
answer that fits two letters, is not merged: a warning says so and the liaison decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from difflib import SequenceMatcher

from smart_app.denials.pas import Denial
from smart_app.denials.triage import reason_text

DAY_TOLERANCE = 1
# Two reasons are one text read twice when they differ only by a few OCR slips: a word misread letter for letter
# ("Iumbar", "OZempic"; spacing and punctuation such as "you_or" are ignored anyway). A number that differs, a word
# added or dropped, or more slips than this is a difference the physician must read.
OCR_SLIPS = 3
SLIP_LIKENESS = 0.6


@dataclass(frozen=True)
class Difference:
    """One field the letter and the answer state differently: the field (a brief key) and each side's value."""

    field: str
    values: tuple[tuple[str, str], ...]  # (channel, value as stated)


@dataclass(frozen=True)
class Pairing:
    """Letters paired with the answer they are the payer's letter for (by denial id), and why any was not."""

    pairs: dict[str, str]  # letter denial id -> answer denial id
    warnings: list[str]


def _number(value: str | None) -> str:
    return re.sub(r"[^0-9A-Z]", "", (value or "").upper())


def answer_numbers(answer: Denial) -> set[str]:
    """Every number the payer gave this answer, normalized: preAuthRef, items' review and reference numbers, and its
    identifiers."""
    found = [answer.pre_auth_ref, *answer.identifiers]
    found += [n for item in answer.items for n in (item.review_number, item.reference_number)]
    return {n for n in map(_number, found) if n}


def _letter_number(letter: Denial) -> str:
    return _number(letter.pre_auth_ref)


def _service_codes(denial: Denial) -> set[str]:
    return {i.service.code.strip().upper() for i in denial.items if i.service and i.service.code}


def _day(when: datetime | None) -> date | None:
    return None if when is None else when.date()  # the day where the writer was (its own offset)


def same_decision(letter: Denial, answer: Denial) -> bool:
    """Whether ``letter`` (a letter's denial) and ``answer`` (a FHIR answer of the same patient) are one decision."""
    number, numbers = _letter_number(letter), answer_numbers(answer)
    if number and numbers:
        return number in numbers
    letter_day, answer_day = _day(letter.decided_at), _day(answer.decided_at)
    if letter_day is None or answer_day is None:
        return False
    close = abs((letter_day - answer_day).days) <= DAY_TOLERANCE
    return close and bool(_service_codes(letter) & _service_codes(answer))


def _decided_words(denial: Denial) -> str:
    return denial.decided_at.date().isoformat() if denial.decided_at else "an unknown date"


def pair_letters(letters: list[Denial], answers: list[Denial]) -> Pairing:
    """Pair each letter with the one answer it is the same decision as; a letter fitting several answers, or an
    answer several letters fit, stays unpaired with a warning (never a guess)."""
    fits = {letter.claim_response_id: [a for a in answers if same_decision(letter, a)] for letter in letters}
    claimed: dict[str, list[str]] = {}
    for letter_id, found in fits.items():
        for answer in found:
            claimed.setdefault(answer.claim_response_id, []).append(letter_id)
    pairs, warnings = {}, []
    for letter_id, found in fits.items():
        if len(found) > 1:
            names = ", ".join(a.claim_response_ref or a.claim_response_id for a in found)
            warnings.append(f"The payer's letter ({letter_id}) fits {len(found)} denials on the list ({names}): it "
                            "was not added to any; check its reference number.")  # fmt: skip
        elif found and len(claimed[found[0].claim_response_id]) > 1:
            answer = found[0]
            name = answer.claim_response_ref or answer.claim_response_id
            warnings.append(f"Several letters ({', '.join(claimed[answer.claim_response_id])}) fit the denial "
                            f"{name} decided {_decided_words(answer)}: none was added to it; check their reference "
                            "numbers.")  # fmt: skip
        elif found:
            pairs[letter_id] = found[0].claim_response_id
    return Pairing(pairs, list(dict.fromkeys(warnings)))


def attach_letter(answer: Denial, letter: Denial) -> Denial:
    """The answer with the payer's letter for it attached: the answer's facts stay the denial's, and the window the
    letter states becomes one more candidate (the stricter wins, as for a denial read from a letter)."""
    return replace(answer, letter=letter, letter_window=letter.letter_window or answer.letter_window,
                   warnings=list(answer.warnings))  # fmt: skip


def _words(text: str) -> str:
    return " ".join(text.split())


def _reviewer(denial: Denial) -> str:
    specialty = denial.reviewer.specialty if denial.reviewer else None
    return (specialty.display or specialty.code or "") if specialty else ""


def _decided(denial: Denial) -> str:
    when = denial.decided_at
    if when is None:
        return ""
    return when.date().isoformat() if when.hour == when.minute == 0 and when.tzinfo is None else when.isoformat()


def _same_time(letter: Denial, answer: Denial) -> bool:
    a, b = letter.decided_at, answer.decided_at
    if a is None or b is None:
        return True  # one side silent: nothing to compare
    if a.tzinfo is None or b.tzinfo is None or (a.hour == a.minute == 0 and a.tzinfo is None):
        return a.date() == b.date()  # a letter's date alone: the day is what it states
    return abs(a.timestamp() - b.timestamp()) < 60


def _comparable(value: str) -> str:
    return _words(value).replace("&", "and").casefold()


def _tokens(text: str) -> list[str]:
    return re.findall(r"[0-9a-z]+", text.casefold())


def _slip(ours: str, theirs: str) -> bool:
    """Whether one word could be the other misread by OCR: the same digits, and mostly the same letters."""
    same_digits = re.sub(r"\D", "", ours) == re.sub(r"\D", "", theirs)
    return same_digits and SequenceMatcher(None, ours, theirs, autojunk=False).ratio() >= SLIP_LIKENESS


def same_wording(ours: str, theirs: str) -> bool:
    """Whether two texts say the same words (case, spacing and punctuation ignored), allowing up to ``OCR_SLIPS``
    words misread letter for letter; never a different number, nor a word more or less."""
    a, b = _tokens(ours), _tokens(theirs)
    slips = 0
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if op != "replace" or i2 - i1 != j2 - j1 or not all(map(_slip, a[i1:i2], b[j1:j2])):
            return False
        slips += i2 - i1
    return slips <= OCR_SLIPS


def differences(answer: Denial, letter: Denial) -> list[Difference]:
    """The fields the answer and its letter state differently (reference, decision date, reason text with whitespace
    normalized, reviewer, service code): each with both values; a field one side does not state is no difference.
    The P2P window is compared where the window is computed (the letter's candidate against the rules')."""
    channel = answer.channel
    found: list[Difference] = []

    def differ(name: str, ours: str, theirs: str, same: bool) -> None:
        if ours and theirs and not same:
            found.append(Difference(name, (("letter", theirs), (channel, ours))))

    ours_ref, theirs_ref = answer.reference_number or "", letter.pre_auth_ref or ""
    differ("preAuthRef", ours_ref, theirs_ref, not theirs_ref or _number(theirs_ref) in answer_numbers(answer))
    differ("decidedOn", _decided(answer), _decided(letter), _same_time(letter, answer))
    ours_reason, theirs_reason = _words(reason_text(answer)), _words(reason_text(letter))
    differ("reason", ours_reason, theirs_reason, same_wording(ours_reason, theirs_reason))
    differ("reviewer", _reviewer(answer), _reviewer(letter), _comparable(_reviewer(answer)) ==
           _comparable(_reviewer(letter)))  # fmt: skip
    ours_codes, theirs_codes = sorted(_service_codes(answer)), sorted(_service_codes(letter))
    differ("service", ", ".join(ours_codes), ", ".join(theirs_codes), ours_codes == theirs_codes)
    return found
