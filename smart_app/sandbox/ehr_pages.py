"""The EHR's own screens: patient list, chart with the app embedded in an iframe, notes, launch."""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, make_response, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from .chart_summary import latest_encounter, notes, summarize
from .ehr_state import current_ehr
from .fax_inbox import KINDS, letter_file, letters_for
from .oauth_models import LaunchContext
from .references import as_dict, as_list, concept_text

log = logging.getLogger("smart_app.sandbox")
bp = Blueprint("ehr_pages", __name__)


def page(template: str, status: int = 200, **context: Any) -> Response:
    """Render an EHR page; pages show PHI, so they are never cached."""
    response = make_response(render_template(template, ehr_profile=current_ehr().settings.profile, **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def patient_list() -> Response:
    """The demo patients, each linking to its chart."""
    ehr = current_ehr()
    patients = [summarize(ehr.store, p) for p in ehr.store.all("Patient")]
    patients.sort(key=lambda p: p.name.lower())
    return page("ehr/patients.html", patients=patients)


def _no_chart() -> Response:
    return page("ehr/error.html", 404, title="Patient not found", message="There is no chart for this patient.")


@bp.get("/chart/<patient_id>")
def chart(patient_id: str) -> Response:
    """A patient's chart: banner, left nav, and the app embedded as Epic and Oracle Health embed it."""
    ehr = current_ehr()
    patient = ehr.store.get("Patient", patient_id)
    if patient is None:
        return _no_chart()
    launch_src = "/launch?" + urlencode({"patient": patient_id})
    note_count = len(notes(ehr.store, patient_id))
    return page(
        "ehr/chart.html",
        patient=summarize(ehr.store, patient),
        launch_src=launch_src,
        note_count=note_count,
        active="app",
    )


@bp.get("/chart/<patient_id>/notes")
def chart_notes(patient_id: str) -> Response:
    """The patient's notes, including those the app wrote back."""
    ehr = current_ehr()
    patient = ehr.store.get("Patient", patient_id)
    if patient is None:
        return _no_chart()
    documents = [_note_view(d) for d in notes(ehr.store, patient_id)]
    return page(
        "ehr/notes.html",
        patient=summarize(ehr.store, patient),
        notes=documents,
        note_count=len(documents),
        active="notes",
    )


@bp.get("/chart/<patient_id>/letters")
def chart_letters(patient_id: str) -> Response:
    """The fax inbox: the patient's payer letters, each as its text PDF and as the scan the fax machine made."""
    ehr = current_ehr()
    patient = ehr.store.get("Patient", patient_id)
    if patient is None:
        return _no_chart()
    return page(
        "ehr/letters.html",
        patient=summarize(ehr.store, patient),
        letters=letters_for(patient_id),
        kinds=KINDS,
        note_count=len(notes(ehr.store, patient_id)),
        active="letters",
    )


@bp.get("/chart/<patient_id>/letters/<letter_id>/<kind>")
def chart_letter_file(patient_id: str, letter_id: str, kind: str) -> Response:
    """One letter's file, dated to the day the demo's charts are dated for."""
    ehr = current_ehr()
    known = {spec["id"] for spec in letters_for(patient_id)}
    content = letter_file(letter_id, kind, ehr.charts_dated or date.today()) if letter_id in known else None
    if content is None:
        return page(
            "ehr/error.html", 404, title="Letter not found", message="There is no such letter for this patient."
        )
    response = make_response(content)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{letter_id}-{kind}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/launch")
def launch() -> WerkzeugResponse:
    """Issue a one-time launch and send the browser to the app's launch URL with ``iss`` and ``launch``."""
    ehr = current_ehr()
    patient_id = request.args.get("patient", "")
    client = ehr.settings.client(request.args.get("client_id"))
    if client is None:
        return page("ehr/error.html", 400, title="Unknown app", message="No app with that client_id is registered.")
    if not patient_id or ehr.store.get("Patient", patient_id) is None:
        return page("ehr/error.html", 404, title="Patient not found", message="There is no chart for this patient.")
    context = LaunchContext(
        patient=patient_id,
        encounter=latest_encounter(ehr.store, patient_id),
        user=ehr.user,
        smart_style_url=ehr.settings.origin + "/smart-style.json",
        need_patient_banner=False,
        client_id=client.client_id,
    )
    launch_id = ehr.registry.issue_launch(context)
    log.info("EHR launch of %s for Patient/%s", client.client_id, patient_id)
    separator = "&" if "?" in client.launch_url else "?"
    target = client.launch_url + separator + urlencode({"iss": ehr.settings.fhir_base, "launch": launch_id})
    response = redirect(target, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


def _note_view(document: dict[str, Any]) -> dict[str, Any]:
    attachment = as_dict(as_dict((as_list(document.get("content")) or [{}])[0]).get("attachment"))
    text = None
    content_type = str(attachment.get("contentType") or "")
    if content_type.startswith("text/") and isinstance(attachment.get("data"), str):
        try:
            text = base64.b64decode(attachment["data"]).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            text = None
    return {
        "id": document.get("id"),
        "title": concept_text(document.get("type")) or "Note",
        "date": str(document.get("date") or as_dict(document.get("meta")).get("lastUpdated") or ""),
        "status": document.get("docStatus") or document.get("status"),
        "content_type": content_type,
        "text": text,
    }
