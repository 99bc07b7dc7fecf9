"""What the app knows of one case, read from its own records for the current launch, and the case's row on the
practice worklist (kept current whenever the case moves)."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from smart_app.denials.hand_entry import HAND_PREFIX, is_hand_denial_id
from smart_app.errors import P2PError
from smart_app.outcome.calls import call_records
from smart_app.outcome.outbox import notes_for_denial
from smart_app.practice.tracking import track_denial
from smart_app.smart.launch import LaunchContext
from smart_app.store.case_records import CaseKey
from smart_app.store.hand_entries import hand_entry_author
from smart_app.web.context import user_practices

log = logging.getLogger(__name__)


def case_key(context: LaunchContext, denial_id: str) -> CaseKey:
    """The case of one denial of the launched patient."""
    return CaseKey(context.tenant, context.patient or "", denial_id)


def database() -> Any:
    """The app's database."""
    return current_app.extensions["p2p_db"]


def calls(context: LaunchContext, denial_id: str) -> list[dict[str, Any]]:
    """This denial's call notes for the launched patient, each with its record read back."""
    key = case_key(context, denial_id)
    return call_records(
        notes_for_denial(database(), iss=key.iss, patient_id=key.patient_id, claim_response_id=denial_id)
    )


def track_case(context: LaunchContext, denial: dict[str, Any], *, patient_name: str | None, source: str) -> None:
    """Record (or refresh) the denial's row on the worklist with its current status. A denial entered by hand names
    the practice chosen on its form; one saved without (before the form asked, or while the EHR could not tell the
    user's practices) belongs to its typist's practice when the EHR lists exactly one for them (only the typist's
    own view may guess: another user opening the patient would give it to their practice). A FHIR denial whose
    request names none stays unattributed: the user opening a chart may work for another practice."""
    named = (denial.get("orderingProvider") or {}).get("organization")
    typed = bool(denial.get("enteredByHand")) and typed_by_user(context, str(denial.get("id") or ""))
    track_denial(
        database(),
        tenant=context.tenant,
        patient_id=context.patient or "",
        denial=denial,
        patient_name=patient_name,
        source=source,
        organization_if_unknown=_only_practice(context) if typed and not named else None,
    )


def typed_by_user(context: LaunchContext, denial_id: str) -> bool:
    """Whether the signed-in user typed this hand-entered denial."""
    if not is_hand_denial_id(denial_id) or not context.fhir_user:
        return False
    entry_id = int(denial_id[len(HAND_PREFIX) :])
    author = hand_entry_author(database(), iss=context.tenant, patient_id=context.patient or "", entry_id=entry_id)
    return author == context.fhir_user


def _only_practice(context: LaunchContext) -> str | None:
    """The user's one practice, or None when none, several or the EHR cannot say."""
    try:
        practices = user_practices(context)
    except P2PError as exc:
        log.info("the user's practices could not be read: %s", type(exc).__name__)
        return None
    return practices[0] if len(practices) == 1 else None
