"""Whether a letter is about a given patient: its printed name and birth date against the FHIR Patient's.

A letter for another patient must never become this patient's case. Names are compared as words, in any order
and case, punctuation and middle initials aside ("QUILLFEATHER, RAYMOND T" is Raymond T. Quillfeather); the birth
date must be the same day. What the letter does not print cannot be compared, and is said so, not assumed.
"""

from __future__ import annotations

import re
from typing import Any

from smart_app.letters.model import LetterFields


def _words(name: str) -> set[str]:
    return {word for word in re.findall(r"[a-z]+", name.lower()) if len(word) > 1}


def patient_names(patient: dict[str, Any]) -> list[str]:
    """The Patient's names as "Given Family" strings (every ``name`` it carries)."""
    names = []
    for name in patient.get("name") or []:
        if isinstance(name, dict):
            text = name.get("text") or " ".join([*(name.get("given") or []), name.get("family") or ""])
            if str(text).strip():
                names.append(str(text).strip())
    return names


def same_name(printed: str, patient: dict[str, Any]) -> bool:
    """Whether the printed name is one of the Patient's: its family name and first given name both appear."""
    printed_words = _words(printed)
    for name in patient.get("name") or []:
        if not isinstance(name, dict):
            continue
        family = _words(str(name.get("family") or ""))
        given = _words(" ".join(str(g) for g in (name.get("given") or [])[:1]))
        if family and given and family <= printed_words and given <= printed_words:
            return True
        if name.get("text") and _words(str(name["text"])) <= printed_words:
            return True
    return False


def patient_mismatch(fields: LetterFields, patient: dict[str, Any]) -> str | None:
    """What differs between the letter's patient and ``patient`` (name, birth date), or None when they agree. A
    letter that prints neither cannot be matched and is refused too."""
    differences = []
    names = patient_names(patient) or ["(no name)"]
    if fields.patient_name and not same_name(fields.patient_name.value, patient):
        differences.append(f"the letter's patient name “{fields.patient_name.value}” is not {names[0]}")
    birth = patient.get("birthDate")
    if fields.birth_date and str(birth or "") != fields.birth_date.value.isoformat():
        differences.append(f"the letter's birth date {fields.birth_date.value.isoformat()} is not {birth or 'on file'}")
    if fields.patient_name is None and fields.birth_date is None:
        return "the letter names no patient and no birth date, so it cannot be matched to the patient"
    return "; ".join(differences) or None
