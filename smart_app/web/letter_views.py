"""Denial letters uploaded by the liaison: ``POST /letters`` saves the file and reads it, ``GET /letters/<id>``
shows each page beside the fields read (each with its source line highlighted), ``POST /letters/<id>/confirm``
makes the case and opens its brief. A letter is saved before it is read and never deleted: one that cannot be read,
or that names another patient, stays listed with the reason."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from smart_app.brief.model import denial_summary
from smart_app.denials.hand_entry import practice_choice
from smart_app.denials.pas import Denial
from smart_app.denials.same_decision import attach_letter, pair_letters
from smart_app.errors import FhirError, LetterUnreadable, NotFound, P2PError
from smart_app.fhir.facts import display_name
from smart_app.letters.denial import denial_from_letter, letter_denial_id
from smart_app.letters.document import max_bytes, page_image
from smart_app.letters.model import LetterFields
from smart_app.letters.reading import read_letter
from smart_app.letters.review import parse_review, patient_differs
from smart_app.letters.stored import fields_from_json, fields_json, reading_json
from smart_app.practice.letter_joins import is_own_case, letter_denial
from smart_app.smart.launch import LaunchContext
from smart_app.store.letters import StoredLetter, confirm_letter, letter, letter_file, record_reading, refuse_letter
from smart_app.store.letters import save_letter as store_letter
from smart_app.store.models import MAX_ROW_ID
from smart_app.web.case_access import require_case_access
from smart_app.web.case_state import database, track_case
from smart_app.web.context import check_csrf, current_launch, fhir_client, settings
from smart_app.web.form_keys import submitted_form_key
from smart_app.web.letter_filing import chart_takes, file_in_chart, media_type
from smart_app.web.letter_pages import letter_practices, render_letter, render_upload, uploaded_by_user
from smart_app.web.loading import clock, load_open_answers, practice_state
from smart_app.web.worklist_views import patient_launch, patient_of_case, practice_launch

bp = Blueprint("letters", __name__)
log = logging.getLogger(__name__)
FORM_MARGIN = 64 * 1024  # the multipart form around the file


def _patient(context: LaunchContext) -> str:
    if not context.patient:
        raise NotFound("Open a patient's chart to upload a letter for them.")
    return context.patient


def own_letter(context: LaunchContext, letter_id: int) -> StoredLetter:
    """One letter of the launched patient this launch may see; ``NotFound`` otherwise (a letter that became a case
    follows the case's rule; one opened from the worklist must be the user's practices' or their own upload)."""
    stored = letter(database(), iss=context.tenant, patient_id=_patient(context), letter_id=letter_id)
    if stored is None:
        raise NotFound("That letter is not in the launched patient's record.")
    if stored.denial_id:
        require_case_access(context, stored.denial_id)
    elif context.practice_wide and stored.uploaded_by != context.fhir_user:
        if stored.practice is None or stored.practice not in (letter_practices(context) or []):
            raise NotFound("That letter is not one of your practices' letters.")
    return stored


@bp.get("/letters/new")
def new_letter() -> ResponseReturnValue:
    """The upload form, with the patient's letters and where each stands."""
    context = current_launch()
    _patient(context)
    return render_upload(context)


@bp.post("/letters")
def upload_letter() -> ResponseReturnValue:
    """Save the uploaded file first, then read it; open its review (or, for a letter that cannot be read, the page
    saying why, the letter kept). A second submit of the same form opens the letter the first one saved."""
    request.max_content_length = max_bytes() + FORM_MARGIN  # before anything reads the form (the launch's ctx)
    if (request.content_length or 0) > request.max_content_length:
        return _too_large()
    try:
        context = current_launch()
        check_csrf(context)
        upload = request.files.get("letter")
    except RequestEntityTooLarge:  # a body sent without its length
        return _too_large()
    if context.patient is None:  # from the worklist: the patient chosen beside the file
        context = _worklist_patient(context)
    patient_id = _patient(context)
    if upload is None or not upload.filename:
        return render_upload(context, error="no-file", status=400)
    data = upload.read()
    filename = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    too_large = len(data) > max_bytes()
    letter_id, created = store_letter(
        database(), iss=context.tenant, patient_id=patient_id, practice=None, uploaded_by=context.fhir_user,
        filename=filename, media_type=media_type(data) or upload.mimetype or "application/octet-stream",
        content=b"" if too_large else data, size=len(data), form_key=submitted_form_key(),
    )  # fmt: skip
    g.audit_resource = f"payer-letter/{letter_id}"
    if created:
        _start_reading(context, patient_id, letter_id, data, filename, too_large=too_large)
    return redirect(url_for("letters.review", letter_id=letter_id, ctx=context.handle), code=303)


def _worklist_patient(context: LaunchContext) -> LaunchContext:
    """A launch for the patient the worklist's upload form names (one of the practice's cases), under the same
    sign-in; ``NotFound`` for a case not on the user's worklist."""
    practice_launch()
    chosen = request.form.get("patient_case", "")
    if not (chosen.isascii() and chosen.isdigit()) or not 0 < int(chosen) <= MAX_ROW_ID:
        raise NotFound("Choose whose letter it is from the worklist's patients.")
    opened = patient_launch(context, patient_of_case(context, int(chosen)))
    g.launch_context = opened  # the rest of the request (and its audit row) is about that patient
    return opened


def _too_large() -> ResponseReturnValue:
    """The page for a file past the cap: nothing of it was read, so there is nothing to keep."""
    limit = "%.3g" % (max_bytes() / (1024 * 1024))
    return render_template("letter_too_large.html", limit_mb=limit), 413


def _start_reading(
    context: LaunchContext, patient_id: str, letter_id: int, data: bytes, filename: str, *, too_large: bool
) -> None:
    """Read the saved letter in a thread of its own, waiting for it up to ``P2P_LETTER_WAIT_SECONDS``: most letters
    are read by then and the upload opens their review; a long scan goes on being read while its page says so and
    refreshes (the request never outlives the server's worker timeout)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    reader = threading.Thread(
        target=_read, args=(app, context.tenant, patient_id, letter_id, data, filename, too_large), daemon=True
    )
    reader.start()
    reader.join(timeout=float(settings()["LETTER_WAIT_SECONDS"]))


def _read(
    app: Flask, tenant: str, patient_id: str, letter_id: int, data: bytes, filename: str, too_large: bool
) -> None:
    """Read the letter and keep what was read, or why it could not be (the file stays either way); at most
    ``P2P_LETTER_READERS`` letters are read at once, the others waiting their turn."""
    with app.app_context(), app.extensions["p2p_letter_readers"]:
        db, error, reading = app.extensions["p2p_db"], None, None
        if too_large:
            error = render_template("letter_errors.txt", kind="too-large", size=len(data), limit=max_bytes()).strip()
        else:
            try:
                reading = reading_json(read_letter(data, filename))
            except LetterUnreadable as exc:
                error = exc.reason
            except Exception as exc:  # a crash in a reader must not lose the letter: it stays, marked
                log.error("letter %s could not be read: %s", letter_id, type(exc).__name__)  # never its words
                error = render_template("letter_errors.txt", kind="crash").strip()
        record_reading(db, iss=tenant, patient_id=patient_id, letter_id=letter_id, reading=reading, error=error)


@bp.get("/letters/<row_id:letter_id>")
def review(letter_id: int) -> ResponseReturnValue:
    """The letter's pages beside the fields read off them, ready to correct and confirm (or where it stands)."""
    context = current_launch()
    stored = own_letter(context, letter_id)
    return render_letter(context, stored)


def _rotation(reading: dict[str, Any] | None, page: int) -> int:
    """The degrees OCR turned ``page`` to read it (0 for a text page, or a reading kept before rotations were)."""
    pages = (reading or {}).get("pages") or []
    return next((int(p.get("rotation") or 0) for p in pages if p.get("number") == page), 0)


@bp.get("/letters/<row_id:letter_id>/pages/<int:page>.png")
def page_png(letter_id: int, page: int) -> ResponseReturnValue:
    """One page of the letter as an image (never cached: it shows the patient's letter)."""
    context = current_launch(touch=False)
    stored = own_letter(context, letter_id)
    if stored.status == "refused" and not uploaded_by_user(context, stored):
        raise NotFound("That page is not in the letter.")  # another patient's letter: its uploader's alone
    data = letter_file(database(), iss=context.tenant, patient_id=_patient(context), letter_id=letter_id)
    if not data:
        raise NotFound("That page is not in the letter.")
    try:
        png = page_image(data, stored.filename, page, rotation=_rotation(stored.reading, page))
    except LetterUnreadable as exc:
        raise NotFound("That page is not in the letter.") from exc
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@bp.post("/letters/<row_id:letter_id>/confirm")
def confirm(letter_id: int) -> ResponseReturnValue:
    """Check the reviewed fields; a letter naming another patient is refused (and kept, with the reason); else the
    fields are kept, the case made, and its brief opened. A second submit opens the case the first one made."""
    context = current_launch()
    check_csrf(context)
    stored = own_letter(context, letter_id)
    patient_id = _patient(context)
    if stored.status == "confirmed" and stored.denial_id:
        if not is_own_case(stored):  # it joined a denial already on the list: its page says so
            return redirect(url_for("letters.review", letter_id=letter_id, ctx=context.handle), code=303)
        return redirect(url_for("brief.brief", claim_response_id=stored.denial_id, ctx=context.handle), code=303)
    if stored.status != "read" or stored.reading is None:
        return redirect(url_for("letters.review", letter_id=letter_id, ctx=context.handle), code=303)
    now = clock()
    reviewed, errors = parse_review(request.form, fields_from_json(stored.reading["fields"]), now.zone, now=now.now)
    practice = practice_choice((request.form.get("practice") or "").strip(), letter_practices(context), errors)
    if reviewed is None or errors:
        return render_letter(context, stored, form=dict(request.form), errors=errors, status=400)
    try:
        patient = fhir_client(context).read("Patient", patient_id)
    except FhirError as exc:
        log.info("the patient could not be read to check letter %s: %s", letter_id, type(exc).__name__)
        return render_letter(context, stored, form=dict(request.form), errors={"chart": "unreadable"}, status=503)
    confirmed = {**fields_json(reviewed.fields), "corrected": list(reviewed.corrected)}
    differs = patient_differs(reviewed.fields, patient)
    if differs is not None:
        # Listed for every user of this chart: what differs, never the other patient's name or birth date (the
        # letter's uploader alone sees those, kept with the fields they confirmed; see letter_pages.refusal).
        reason = render_template("letter_errors.txt", kind="another-patient", differs=differs["differs"]).strip()
        refuse_letter(database(), iss=context.tenant, patient_id=patient_id, letter_id=letter_id, reason=reason,
                      confirmed={**confirmed, "otherPatient": differs})  # fmt: skip
        return redirect(url_for("letters.review", letter_id=letter_id, ctx=context.handle), code=303)
    answer = _same_decision_on_list(context, letter_id, reviewed.fields)
    denial_id = answer.claim_response_id if answer else letter_denial_id(letter_id)
    if confirm_letter(database(), iss=context.tenant, patient_id=patient_id, letter_id=letter_id,
                      confirmed=confirmed, denial_id=denial_id, practice=practice):  # fmt: skip
        _put_on_worklist(context, letter_id, patient, answer)
        if request.form.get("file_in_chart") == "yes" and chart_takes(context, stored):
            file_in_chart(context, stored)
    if answer is not None:
        return redirect(url_for("letters.review", letter_id=letter_id, ctx=context.handle), code=303)
    return redirect(url_for("brief.brief", claim_response_id=denial_id, ctx=context.handle), code=303)


def _same_decision_on_list(context: LaunchContext, letter_id: int, fields: LetterFields) -> Denial | None:
    """The open denial already on the patient's list that this letter is the payer's letter for (one answer only:
    a letter fitting two stays a case of its own, and its brief warns); None when the EHR cannot be read now (the
    next launch joins them)."""
    try:
        _, answers = load_open_answers(context)
    except P2PError as exc:
        log.info("letter %s: the patient's answers could not be read to match it: %s", letter_id, type(exc).__name__)
        return None
    from_letter = denial_from_letter(fields, letter_id=str(letter_id))
    joined = pair_letters([from_letter], answers).pairs.get(from_letter.claim_response_id)
    return next((a for a in answers if a.claim_response_id == joined), None)


def _put_on_worklist(context: LaunchContext, letter_id: int, patient: dict[str, Any], answer: Denial | None) -> None:
    """Record the case the letter became, or refresh the case it joined (its clock now counts the letter's window),
    so its practice's worklist shows it at once."""
    made = letter(database(), iss=context.tenant, patient_id=_patient(context), letter_id=letter_id)
    if made is None:
        return
    denial = attach_letter(answer, letter_denial(made)) if answer is not None else letter_denial(made)
    summary = denial_summary(denial, patient=patient, clock=clock(), practice_state=practice_state())
    track_case(context, summary, patient_name=display_name(patient), source="letter")
