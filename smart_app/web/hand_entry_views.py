"""``GET/POST /denials/new``: a liaison enters a denial from the payer's fax or portal letter for the patient."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from smart_app.denials.hand_entry import (
    LETTER_ZONES,
    PLAN_TYPE_CHOICES,
    SERVICE_SYSTEMS,
    hand_denial_id,
    parse_hand_entry,
)
from smart_app.errors import FhirError
from smart_app.fhir.membership import organization_names
from smart_app.smart.launch import LaunchContext
from smart_app.store.hand_entries import save_hand_entry
from smart_app.web.context import check_csrf, current_launch, fhir_client, user_practices
from smart_app.web.form_keys import form_key_for, submitted_form_key
from smart_app.web.loading import clock

bp = Blueprint("hand_entry", __name__)
log = logging.getLogger(__name__)


def practices_of(context: LaunchContext) -> list[str] | None:
    """The user's practices (``Organization/<id>``); the ones last asked when the EHR cannot be asked now; None
    when the EHR has never been able to say."""
    try:
        return user_practices(context)
    except FhirError as exc:
        log.info("the user's practices could not be read: %s", type(exc).__name__)
        return context.organizations


def named_practices(context: LaunchContext, practices: list[str]) -> list[tuple[str, str]]:
    """Each practice with its name, read from the EHR in one request, A to Z; its reference when unreadable."""
    try:
        names = organization_names(fhir_client(context), practices)
    except FhirError as exc:
        log.info("the practices' names could not be read: %s", type(exc).__name__)
        names = {}
    return sorted(((ref, names.get(ref, ref)) for ref in practices), key=lambda pair: pair[1].casefold())


def _form_page(
    form: dict[str, str], errors: dict[str, str], practices: list[str] | None, status: int = 200
) -> tuple[str, int]:
    context = current_launch()
    html = render_template(
        "denial_new.html",
        launch=context,
        practices=None if practices is None else named_practices(context, practices),
        form=form,
        errors=errors,
        plan_types=PLAN_TYPE_CHOICES,
        zones=LETTER_ZONES,
        service_systems=list(SERVICE_SYSTEMS),
        form_key=form_key_for(form),
    )
    return html, status


@bp.get("/denials/new")
def new_denial() -> ResponseReturnValue:
    """The blank form (the user's one practice chosen when they have one)."""
    practices = practices_of(current_launch())
    only = practices[0] if practices and len(practices) == 1 else ""
    return _form_page({"service_system": "CPT", "practice": only}, {}, practices)


@bp.post("/denials/new")
def save_denial() -> ResponseReturnValue:
    """Check and store the entry, then open its brief; a bad form comes back with every field as typed. A second
    submit of the same form (its one-time key) stores nothing and opens the entry the first one stored. The entry
    names the practice chosen (one of the user's), so its case is on that practice's worklist."""
    context = current_launch()
    check_csrf(context)
    now = clock()
    practices = practices_of(context)
    entry, errors = parse_hand_entry(request.form, now.zone, now=now.now, practices=practices)
    if entry is None:
        return _form_page(dict(request.form), errors, practices, status=400)
    entry_id, _ = save_hand_entry(
        current_app.extensions["p2p_db"],
        iss=context.tenant,
        patient_id=context.patient or "",
        fields=entry.as_fields(),
        entered_by=context.fhir_user,
        form_key=submitted_form_key(),
    )
    g.audit_resource = f"hand-entered/{hand_denial_id(entry_id)}"
    return redirect(url_for("brief.brief", claim_response_id=hand_denial_id(entry_id), ctx=context.handle), code=303)
