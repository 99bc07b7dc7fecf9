"""Which of the launched patient's cases a launch may reach.

The rule. A launch from the patient's chart (an EHR launch, or a standalone launch that picked a patient) reaches
every denial of that patient, as today: the EHR decided that this user may open this chart, and the app shows
what the chart holds. A practice-wide sign-in (no patient: the worklist's) and every patient opened from it reach
only the cases of the user's own practices (their PractitionerRoles' organizations, asked again every five
minutes), exactly as the worklist shows them: a case whose request names another practice, or none, reads as
absent (404), whether it is read (brief, case, drafts, letters) or written (scheduling log, drafts, call notes,
retries, brief edits). One exception: a denial the user typed in by hand under that sign-in, which names no
practice while they belong to several, stays theirs.

A case's practice is the one on file in ``denial_cases``; a denial the app has not recorded yet is read from the
chart and recorded first, as a chart launch would, so its practice is known before anything is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from smart_app.brief.model import denial_summary, patient_header
from smart_app.errors import FhirError, NotFound
from smart_app.smart.launch import LaunchContext
from smart_app.store.cases import case_practices
from smart_app.web.case_state import database, track_case, typed_by_user
from smart_app.web.context import user_practices
from smart_app.web.loading import clock, load_denial, practice_state

log = logging.getLogger(__name__)


def require_case_access(context: LaunchContext, denial_id: str) -> None:
    """Refuse (``NotFound``) a case this launch may not reach; see the module's docstring for the rule."""
    if denial_id not in reachable_denials(context, [denial_id]):
        raise NotFound(
            "That case is not one of your practices' cases.",
            advice="Open the case from your practice's worklist, or from the patient's chart in the EHR.",
        )


def reachable_denials(context: LaunchContext, denial_ids: Collection[str]) -> set[str]:
    """Those of ``denial_ids`` (the launched patient's) this launch may reach."""
    if not context.practice_wide:
        return set(denial_ids)
    if not context.patient:
        return set()
    practices = _practices(context)
    on_file = case_practices(database(), context.tenant, context.patient, denial_ids)
    unseen = set(denial_ids) - set(on_file)
    for denial_id in unseen:
        _record_from_chart(context, denial_id)
    if unseen:
        on_file = case_practices(database(), context.tenant, context.patient, denial_ids)
    return {
        d
        for d in denial_ids
        if d in on_file and (on_file[d] in practices or (on_file[d] is None and typed_by_user(context, d)))
    }


def _practices(context: LaunchContext) -> set[str]:
    """The user's practices; the ones last asked when the EHR cannot be asked now (a call note being recorded
    while the EHR is down is still saved: it does not wait on the EHR)."""
    try:
        return set(user_practices(context))
    except FhirError as exc:
        if context.organizations is None:
            raise
        log.warning("the user's practices could not be asked again, the last answer is used: %s", type(exc).__name__)
        return set(context.organizations)


def _record_from_chart(context: LaunchContext, denial_id: str) -> None:
    """Record a denial the app has not seen yet as a case (its practice read from the request), as a chart launch
    would; a denial that is not the patient's raises ``NotFound`` here."""
    chart, denial = load_denial(context, denial_id)
    summary = denial_summary(denial, patient=chart.patient, clock=clock(), practice_state=practice_state())
    source = "hand" if summary["enteredByHand"] else "launch"
    track_case(context, summary, patient_name=patient_header(chart)["name"], source=source)
