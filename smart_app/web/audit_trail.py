"""Record each access to patient data in the audit log, after the response is made and only when it succeeded:
which view (the action), the launch's user and patient, and the resource named in the URL (ids only)."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request

from smart_app.store.audit import record_event

#: endpoint -> (action, resource from the URL's arguments)
AUDITED: dict[str, tuple[str, str | None]] = {
    "denials.index": ("denials.opened", None),
    "brief.brief": ("brief.opened", "ClaimResponse/{claim_response_id}"),
    "brief.brief_pdf": ("brief.pdf", "ClaimResponse/{claim_response_id}"),
    "brief.script": ("script.opened", "ClaimResponse/{claim_response_id}"),
    "brief.script_pdf": ("script.pdf", "ClaimResponse/{claim_response_id}"),
    "case.case": ("case.opened", "ClaimResponse/{denial_id}"),
    "case.draft_pdf": ("draft.downloaded", "draft/{draft_id}"),
    "case.draft_text": ("draft.downloaded", "draft/{draft_id}"),
    "case.letter": ("letter.opened", "call-note/{note_id}"),
    "case.letter_pdf": ("letter.pdf", "call-note/{note_id}"),
    "hand_entry.save_denial": ("denial.entered", None),
    "letters.upload_letter": ("payer-letter.uploaded", None),
    "letters.review": ("payer-letter.opened", "payer-letter/{letter_id}"),
    "letters.confirm": ("payer-letter.confirmed", "payer-letter/{letter_id}"),
    "worklist.export_csv": ("worklist.csv", None),
    "worklist.export_fhir": ("worklist.fhir", None),
    "audit.index": ("audit.viewed", None),
}


def _record(response: Response) -> Response:
    audited = AUDITED.get(request.endpoint or "")
    context = g.get("launch_context")
    if audited is None or context is None or response.status_code >= 400:
        return response
    action, template = audited
    resource = g.get("audit_resource") or (template.format(**(request.view_args or {})) if template else None)
    record_event(
        current_app.extensions["p2p_db"],
        tenant=context.tenant,
        user=context.fhir_user,
        action=action,
        patient_id=context.patient,
        resource=resource,
    )
    return response


def init_app(app: Flask) -> None:
    """Record audited views after each successful response."""
    app.after_request(_record)
