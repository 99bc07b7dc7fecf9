"""The stable JSON of a letter read (``p2p-brief letter --format json``, and the upload's review form).

Keys: ``payer``, ``delegate``, ``memberId``, ``patientName``, ``birthDate``, ``reference``, ``decidedAt``,
``services`` (a list), ``reasonText``, ``policyCited`` {``title``, ``id``, ``section``}, ``p2p`` {``phone``,
``fax``, ``portal``, ``window``}, ``reviewer`` {``name``, ``credentials``, ``specialty``}, ``appealDeadline``,
``decision``; each leaf ``{"value": ..., "source": {"page": n, "text": "the line"}}`` or null. Dates are ISO
(``decidedAt`` an ISO date-time with its offset when the letter prints a time), a service's value is ``{"system",
"code", "units"}``, a window's ``{"amount", "unit", "text"}``. Beside them: ``ocr`` {``used``, ``confidence``},
``pages`` (each page's number, whether OCR read it, its confidence, any note, and the degrees clockwise OCR turned
a sideways scan to read it), and ``notes``. Keys may be
added; these do not change meaning.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from smart_app.letters.model import Found, LetterReading, Service, Window


def _value(value: object) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Service | Window):
        return asdict(value)
    return value


def leaf(found: Found[Any] | None) -> dict[str, Any] | None:
    """One field as ``{"value", "source": {"page", "text"}}``, or None when the letter does not state it."""
    if found is None:
        return None
    return {"value": _value(found.value), "source": {"page": found.source.page, "text": found.source.text}}


def letter_json(reading: LetterReading) -> dict[str, Any]:
    """The letter's fields and how it was read, as the stable JSON contract."""
    fields, text = reading.fields, reading.text
    return {
        "payer": leaf(fields.payer),
        "delegate": leaf(fields.delegate),
        "memberId": leaf(fields.member_id),
        "patientName": leaf(fields.patient_name),
        "birthDate": leaf(fields.birth_date),
        "reference": leaf(fields.reference),
        "decidedAt": leaf(fields.decided_at),
        "services": [leaf(service) for service in fields.services],
        "reasonText": leaf(fields.reason_text),
        "policyCited": {
            "title": leaf(fields.policy_title),
            "id": leaf(fields.policy_id),
            "section": leaf(fields.policy_section),
        },
        "p2p": {
            "phone": leaf(fields.p2p_phone),
            "fax": leaf(fields.p2p_fax),
            "portal": leaf(fields.p2p_portal),
            "window": leaf(fields.p2p_window),
        },
        "reviewer": {
            "name": leaf(fields.reviewer_name),
            "credentials": leaf(fields.reviewer_credentials),
            "specialty": leaf(fields.reviewer_specialty),
        },
        "appealDeadline": leaf(fields.appeal_deadline),
        "decision": leaf(fields.decision),
        "ocr": {"used": text.ocr_used, "confidence": text.ocr_confidence},
        "pages": [
            {
                "page": page.number,
                "ocr": page.ocr_used,
                "confidence": page.ocr_confidence,
                "note": page.note,
                "rotation": page.rotation,
            }
            for page in text.pages
        ],
        "notes": list(fields.notes),
    }
