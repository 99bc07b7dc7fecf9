"""The payer's letter filed in the chart: a DocumentReference holding the letter as it arrived (the PDF, or the
fax's page images), written through the outbox like a call note, where the EHR's write profile takes that file.

US Core takes any attachment type; Oracle Health's DocumentReference create takes ``application/pdf`` but no
images; Epic's clinical-note create takes only ``text/plain`` (``launch/write-profiles.md``), so there the letter
stays with the case in the app and nothing is offered. The type is LOINC 51852-2 "Letter" (checked against
https://loinc.org/51852-2/ as listed in the RIVO-Noord Zorgviewer IG's ValueSet DocumentLOINCCodelist); the
identifier is derived from the tenant and the letter's row, so a retry lands once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from smart_app.fhir.writeback import CATEGORY_SYSTEM, IDENTIFIER_SYSTEM, LOINC, attachment

LETTER_TYPE = {"system": LOINC, "code": "51852-2", "display": "Letter"}
IMAGES = ("image/tiff", "image/png", "image/jpeg")
TAKES = {"us-core": ("application/pdf", *IMAGES), "oracle-health": ("application/pdf",), "epic": ()}
NAMESPACE = uuid.UUID("6f1d3c52-7a0e-4d8b-9a51-2b64c0d7e9a1")


def chart_takes_letter(profile_name: str, media_type: str) -> bool:
    """Whether an EHR written to as ``profile_name`` takes a letter of this media type as a DocumentReference."""
    return media_type in TAKES.get(profile_name, ())


def letter_document_id(tenant: str, letter_id: int) -> str:
    """The stable UUID of one letter's DocumentReference (its outbox row and its identifier)."""
    return str(uuid.uuid5(NAMESPACE, f"{tenant}|letter|{letter_id}"))


def letter_document(
    *,
    document_id: str,
    patient_id: str,
    data: bytes,
    media_type: str,
    title: str,
    filed_at: datetime,
    author_ref: str | None,
) -> dict[str, Any]:
    """The DocumentReference filing one payer letter in the patient's chart."""
    created = filed_at.isoformat(timespec="seconds")
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": f"urn:uuid:{document_id}"}],
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [LETTER_TYPE], "text": "Payer's prior-authorization letter"},
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "clinical-note", "display": "Clinical Note"}]}],
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": created,
        "description": "The payer's prior-authorization letter, as received",
        "content": [attachment(data, media_type, title, created)],
    }
    if author_ref:
        resource["author"] = [{"reference": author_ref}]
    return resource
