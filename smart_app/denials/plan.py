"""Which kind of plan a denial is under, and in which state: the keys for payer windows and reviewer rights.

The plan type comes from ``Coverage.type`` (US Core binds it to the Source of Payment Typology, SOPT), else from
words in the Coverage's plan class or the payer's name, else from what a liaison entered by hand. The state
comes from the hand-entered denial, else the patient's address, else the practice's ``P2P_PRACTICE_STATE``;
the brief says which, because the plan's state of issue is what the law follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from smart_app.denials.pas import Denial
from smart_app.fhir.facts import codes_of, concept_text
from smart_app.rule_files import rule_file

SOPT_SYSTEMS = frozenset({"urn:oid:2.16.840.1.113883.3.221.5", "https://nahdo.org/sopt", "http://nahdo.org/sopt"})


@dataclass(frozen=True)
class PlanContext:
    """The plan type (a key of ``planTypes`` in payers.yaml, or None) and the state, each with its basis."""

    plan_type: str | None
    plan_type_basis: str
    state: str | None
    state_basis: str
    fully_insured: bool | None = None  # known only when entered by hand; a commercial plan may be self-funded


def plan_types() -> dict[str, dict[str, Any]]:
    """The plan types of ``criteria/payers.yaml``: label, SOPT codes, words, defaults."""
    return dict(rule_file("payers")["planTypes"])


def _from_sopt(coverage: dict[str, Any]) -> tuple[str, str] | None:
    for code in codes_of(coverage.get("type")):
        if code.system not in SOPT_SYSTEMS or not code.code:
            continue
        # The longest listed prefix wins: 111 (Medicare HMO) is Medicare Advantage, 1 alone says only "Medicare".
        matches = [
            (len(prefix), key)
            for key, entry in plan_types().items()
            for prefix in entry.get("sopt", [])
            if code.code.startswith(prefix)
        ]
        if matches:
            key = max(matches)[1]
            return key, f"Coverage type SOPT {code.code} ({code.display or 'no display'})"
    return None


def _from_words(text: str) -> str | None:
    """The first plan type one of whose words appears in ``text`` as a whole word ("EPO", not "Depot")."""
    for key, entry in plan_types().items():
        if any(re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) for word in entry.get("words", [])):
            return key
    return None


def plan_context(denial: Denial, patient: dict[str, Any] | None, practice_state: str | None) -> PlanContext:
    """The plan type and state that select the payer's window and the reviewer-rights rule."""
    plan_type, basis = None, "The plan type is not recorded on the Coverage; confirm it with the payer."
    if denial.plan_type_hint in plan_types():
        plan_type, basis = denial.plan_type_hint, "Plan type entered by hand."
    elif denial.coverage and _from_sopt(denial.coverage):
        plan_type, basis = _from_sopt(denial.coverage)  # type: ignore[misc]
    else:
        words = " ".join(
            [
                concept_text(c.get("type")) + " " + str(c.get("name") or c.get("value") or "")
                for c in (denial.coverage or {}).get("class") or []
                if isinstance(c, dict)
            ]
            + [concept_text((denial.coverage or {}).get("type")), denial.payer_name or ""]
        )
        found = _from_words(words)
        if found:
            plan_type, basis = found, f"Plan type read from the words of the Coverage or payer name ({words.strip()})."
    state, state_basis = None, "No state on record: reviewer-rights rules of a state cannot be applied."
    addresses = [a for a in (patient or {}).get("address") or [] if isinstance(a, dict) and a.get("state")]
    if denial.state_hint:
        state, state_basis = denial.state_hint.upper(), "State entered by hand."
    elif addresses:
        home = next((a for a in addresses if a.get("use") == "home"), addresses[0])
        state = str(home["state"]).upper()
        state_basis = f"The patient's address ({state}); the law of the plan's state of issue governs — confirm it."
    elif practice_state:
        state, state_basis = practice_state.upper(), f"The practice's state (P2P_PRACTICE_STATE={practice_state})."
    fully_insured = True if denial.plan_type_hint in ("commercial", "marketplace", "medicaid-managed-care") else None
    if plan_type in ("marketplace", "medicaid-managed-care", "medicare-advantage"):
        fully_insured = True  # never an employer's self-funded plan
    return PlanContext(plan_type, basis, state, state_basis, fully_insured)
