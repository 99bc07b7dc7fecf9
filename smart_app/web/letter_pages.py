"""The pages of an uploaded letter: the upload form with the patient's letters, and one letter's review (its page
images with the source line of each field boxed, beside the form prefilled with what was read)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import render_template

from smart_app.letters.review import SERVICE_ROWS, WINDOW_UNITS, form_values
from smart_app.letters.stored import fields_from_json
from smart_app.smart.launch import LaunchContext
from smart_app.store.cases import case_decided_on
from smart_app.store.letters import StoredLetter, letters_for
from smart_app.web.case_state import database
from smart_app.web.hand_entry_views import named_practices, practices_of
from smart_app.web.letter_cases import letter_number
from smart_app.web.letter_filing import chart_takes, filed

LOW_CONFIDENCE = 60.0  # a page OCR read with a mean word confidence below this is flagged for the liaison
READING_FOR_AT_MOST = timedelta(minutes=10)  # a letter still unread after this was dropped (the server stopped)


def letter_practices(context: LaunchContext) -> list[str] | None:
    """The user's practices (the last ones asked when the EHR cannot be asked now); None when never known."""
    return practices_of(context)


def visible_letters(context: LaunchContext) -> list[StoredLetter]:
    """The launched patient's letters this launch may see: all of them from the chart; from the worklist, those of
    the user's practices and those the user uploaded."""
    letters = letters_for(database(), iss=context.tenant, patient_id=context.patient or "")
    if not context.practice_wide:
        return letters
    practices = set(letter_practices(context) or [])
    return [s for s in letters if s.uploaded_by == context.fhir_user or (s.practice and s.practice in practices)]


def render_upload(context: LaunchContext, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    """The upload form and the patient's letters, each with where it stands (``error="no-file"``: the last upload
    had no file)."""
    html = render_template("letter_upload.html", launch=context, letters=visible_letters(context), error=error)
    return html, status


def uploaded_by_user(context: LaunchContext, stored: StoredLetter) -> bool:
    """Whether the launch's user uploaded the letter."""
    return stored.uploaded_by is not None and stored.uploaded_by == context.fhir_user


def refusal(context: LaunchContext, stored: StoredLetter) -> str | None:
    """Why the letter was refused: to its uploader, whose patient it names (they hold the letter and must upload
    it to that patient's chart); to anyone else, only what differs (``stored.error``): another patient's name and
    birth date are not shown to every user of this chart."""
    if stored.status != "refused":
        return None
    other = (stored.confirmed or {}).get("otherPatient")
    if isinstance(other, dict) and uploaded_by_user(context, stored):
        return render_template("letter_errors.txt", kind="other-patient", **other).strip()
    return stored.error


def _boxes(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """Each found field's source box as CSS percentages of its page (``id`` names the field on the form)."""
    named = [(name, found) for name, found in fields.items() if isinstance(found, dict)]
    named += [(f"service_{i}", found) for i, found in enumerate(fields.get("services") or []) if found]
    boxes = []
    for name, found in named:
        box = found["source"].get("box")
        if not box or found["source"].get("page", 0) < 1:
            continue
        left, top, right, bottom = (max(0.0, min(1.0, float(v))) for v in box)
        boxes.append({"id": name.replace("_", "-"), "field": name, "page": found["source"]["page"],
                      "left": left * 100, "top": top * 100, "width": max(right - left, 0.002) * 100,
                      "height": max(bottom - top, 0.002) * 100})  # fmt: skip
    return boxes


def _pages(reading: dict[str, Any]) -> list[dict[str, Any]]:
    """Each page with what the liaison must know of it: OCR read it poorly, or read nothing on it."""
    pages = []
    for page in reading.get("pages") or []:
        confidence = page.get("ocrConfidence")
        poor = bool(page.get("ocrUsed")) and (confidence is None or confidence < LOW_CONFIDENCE or not page["lines"])
        pages.append({**page, "poor": poor})
    return pages


def _age(stored: StoredLetter) -> timedelta:
    uploaded = stored.uploaded_at if stored.uploaded_at.tzinfo else stored.uploaded_at.replace(tzinfo=UTC)
    return datetime.now(UTC) - uploaded


def _joined_decided(context: LaunchContext, stored: StoredLetter) -> str | None:
    """The decision date of the denial a confirmed letter joined (its case's, on file), or None."""
    if stored.status != "confirmed" or not stored.denial_id or letter_number(stored.denial_id) is not None:
        return None
    return case_decided_on(database(), context.tenant, context.patient or "", stored.denial_id)


def render_letter(
    context: LaunchContext,
    stored: StoredLetter,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """One letter's page: its review (pages, boxes, the form as read or as submitted), or where it stands."""
    reading = stored.reading or {}
    fields = reading.get("fields") or {}
    values = form
    if values is None and fields:
        values = form_values(fields_from_json(fields))
    practices = letter_practices(context) if stored.status == "read" else []
    html = render_template(
        "letter_review.html",
        launch=context,
        letter=stored,
        found=fields,
        pages=_pages(reading),
        boxes=_boxes(fields),
        form=values or {},
        errors=errors or {},
        practices=None if practices is None else named_practices(context, practices),
        service_rows=SERVICE_ROWS,
        window_units=WINDOW_UNITS,
        case_number=letter_number(stored.denial_id or ""),
        joined_decided=_joined_decided(context, stored),
        reading_now=stored.status == "received" and _age(stored) < READING_FOR_AT_MOST,
        chart_takes=chart_takes(context, stored),
        filed=filed(context, stored.id) if stored.status == "confirmed" else None,
        refusal=refusal(context, stored),
    )
    return html, status
