"""``GET/POST /denials/new``: a liaison enters a denial from the payer's fax or portal letter for the patient."""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from smart_app.denials.hand_entry import (
    LETTER_ZONES,
    PLAN_TYPE_CHOICES,
    SERVICE_SYSTEMS,
    hand_denial_id,
    parse_hand_entry,
)
from smart_app.store.hand_entries import save_hand_entry
from smart_app.web.context import check_csrf, current_launch
from smart_app.web.form_keys import form_key_for, submitted_form_key
from smart_app.web.loading import clock

bp = Blueprint("hand_entry", __name__)


def _form_page(form: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    html = render_template(
        "denial_new.html",
        launch=current_launch(),
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
    """The blank form."""
    return _form_page({"service_system": "CPT"}, {})


@bp.post("/denials/new")
def save_denial() -> ResponseReturnValue:
    """Check and store the entry, then open its brief; a bad form comes back with every field as typed. A second
    submit of the same form (its one-time key) stores nothing and opens the entry the first one stored."""
    context = current_launch()
    check_csrf(context)
    now = clock()
    entry, errors = parse_hand_entry(request.form, now.zone, now=now.now)
    if entry is None:
        return _form_page(dict(request.form), errors, status=400)
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
