"""Prior treatments as courses: records of the same drug (by RxNorm ingredient) or the same procedure family (by
value set) that overlap or touch are merged into one course, in date order."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from smart_app.criteria.index import ACTIVE, Fact
from smart_app.criteria.library import Library


@dataclass
class Course:
    """One course of a drug or a family of procedures."""

    name: str
    kind: str
    start: date
    end: date | None
    ongoing: bool
    active_order: bool = False
    dose: str | None = None
    outcomes: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The brief's ``priorTreatments`` entry."""
        count = len(self.references)
        name = self.name if count == 1 else f"{self.name} ({count} records)"
        return {
            "name": name,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": None if self.ongoing else (self.end or self.start).isoformat(),
            "status": "active" if self.ongoing or self.active_order else None,
            "outcome": "; ".join(dict.fromkeys(self.outcomes)) or None,
            "reference": self.references[0],
            "references": self.references,
            "dose": self.dose,
            "result": result_of(self),
        }


# How a course ended, read from the record's own words (statusReason, notes, outcome); shown beside those words.
RESULT_WORDS = (
    ("contraindicated", re.compile(r"contraindicat", re.IGNORECASE)),
    ("not tolerated", re.compile(r"intoleran|not tolerated|side effect|adverse|nausea|drowsi|rash|hypoglyc", re.I)),
    ("failed", re.compile(r"inadequate|no improvement|ineffective|not effective|minimal (benefit|functional)|"
                          r"no relief|partial relief|goals not met|unchanged|absent response", re.IGNORECASE)),
)  # fmt: skip


NEGATION = re.compile(r"\b(no|not|without|denies|denied|never)\b[\w\s,-]{0,25}$", re.IGNORECASE)


def _said(pattern: re.Pattern[str], words: str) -> bool:
    """Whether ``words`` say it, not negated just before ("no side effects" does not say "side effect")."""
    return any(not NEGATION.search(words[max(0, m.start() - 30) : m.start()]) for m in pattern.finditer(words))


def result_of(course: Course) -> str | None:
    """``ongoing``, ``failed``, ``not tolerated`` or ``contraindicated`` from the course's status and words."""
    words = " ".join(course.outcomes)
    found = [name for name, pattern in RESULT_WORDS if _said(pattern, words)]
    if course.ongoing or course.active_order:
        return "ongoing, inadequate response" if "failed" in found else "ongoing"
    return " and ".join(found) or None


def _group(fact: Fact, library: Library) -> tuple[str, str]:
    if fact.kind == "medication":
        for key in fact.keys:
            if key in library.ingredient_names:
                return key, library.ingredient_names[key]
        return fact.name.lower(), fact.name
    for vs in library.valuesets.values():
        if vs.kind == "procedure" and any(vs.matches(k) for k in fact.keys):
            return vs.id, vs.title
    return fact.name.lower(), fact.name


def courses(facts: list[Fact], library: Library, request: date) -> list[Course]:
    """Merge overlapping or touching records of the same drug or procedure family; undated records are left out."""
    by_group: dict[str, list[Fact]] = {}
    names: dict[str, str] = {}
    for fact in facts:
        if fact.start is None or fact.latest_start > request:  # type: ignore[operator]
            continue
        key, name = _group(fact, library)
        by_group.setdefault(key, []).append(fact)
        names[key] = name
    merged: list[Course] = []
    for key, group in by_group.items():
        current: Course | None = None
        for fact in sorted(group, key=lambda f: f.start):  # type: ignore[arg-type, return-value]
            ongoing = fact.ongoing or (fact.status in ACTIVE and fact.end is not None and fact.end >= request)
            end = request if ongoing else min(fact.end or fact.start, request)  # type: ignore[type-var]
            # visits of one procedure family form one course; drug records join when they overlap or touch
            joins = current is not None and (
                fact.kind == "procedure" or fact.start <= (current.end or current.start) + timedelta(days=1)  # type: ignore[operator]
            )
            if current is not None and joins:
                current.end = max(current.end or current.start, end)  # type: ignore[type-var]
                current.ongoing = current.ongoing or ongoing
            else:
                current = Course(names[key], fact.kind, fact.start, end, ongoing)  # type: ignore[arg-type]
                merged.append(current)
            current.references.append(fact.reference)
            current.active_order = current.active_order or fact.status in ACTIVE
            current.dose = fact.dose or current.dose  # the latest record's dose
            if fact.outcome and fact.kind == "procedure":
                current.outcomes = [fact.outcome]  # a therapy family: its latest visit says how it went
            elif fact.outcome:
                current.outcomes.append(fact.outcome)
    return sorted(merged, key=lambda c: (c.start, c.name))
