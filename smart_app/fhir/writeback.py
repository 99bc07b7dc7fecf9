"""Write the call note to the chart as a US Core DocumentReference, exactly once.

US Core 6.1/7.0 DocumentReference: status, type (LOINC, Doc scale), category clinical-note, subject, date,
author, ``context.encounter``/``period``, content with ``contentType`` and base64 ``data``. The note type is
34748-4 "Telephone encounter Note"; a server whose value set lacks it gets 11506-3 "Progress note". A stable
``identifier`` (``urn:ietf:rfc:3986`` + ``urn:uuid``) makes a retried write land once: conditional create with
``If-None-Exist`` where the CapabilityStatement allows it, a search by identifier first where it does not. A create
whose answer was lost (a 5xx, a dropped connection) is never sent again blind: the next attempt is ``unconfirmed``
and looks first (by identifier, or, where the EHR offers no identifier search, through the patient's notes); if it
cannot tell, the note is parked for a person rather than risk a second copy in the chart.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any

from smart_app.errors import FhirAuthError, FhirError, FhirUnreachable, P2PError, WriteBackError
from smart_app.fhir.client import CreateOutcomeUnknown, CreateRefused, FhirClient

LOINC = "http://loinc.org"
IDENTIFIER_SYSTEM = "urn:ietf:rfc:3986"
NOTE_TYPES = {
    "34748-4": "Telephone encounter Note",
    "11506-3": "Progress note",
}
PREFERRED_NOTE_TYPE = "34748-4"
FALLBACK_NOTE_TYPE = "11506-3"
PLAIN_TEXT = "text/plain; charset=utf-8"
CATEGORY_SYSTEM = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"


def build_document_reference(
    *,
    note_id: str,
    patient_id: str,
    note_text: str,
    written_at: datetime,
    call_start: datetime,
    call_end: datetime,
    claim_ref: str | None,
    claim_response_ref: str | None,
    encounter_id: str | None = None,
    author_ref: str | None = None,
    note_type: str = PREFERRED_NOTE_TYPE,
    replaces: str | None = None,
) -> dict[str, Any]:
    """The DocumentReference for one call note; ``note_id`` is the UUID that makes retries idempotent.

    ``replaces`` is the reference of the note this one corrects (``relatesTo`` code ``replaces``): a correction
    is a new DocumentReference, never an edit of the one in the chart."""
    related = [{"reference": ref} for ref in (claim_ref, claim_response_ref) if ref]
    context: dict[str, Any] = {
        "period": {"start": call_start.isoformat(timespec="seconds"), "end": call_end.isoformat(timespec="seconds")},
        "related": related,
    }
    if encounter_id:
        context["encounter"] = [{"reference": f"Encounter/{encounter_id}"}]
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": f"urn:uuid:{note_id}"}],
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": LOINC, "code": note_type, "display": NOTE_TYPES[note_type]}],
            "text": "Payer peer-to-peer review call",
        },
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "clinical-note", "display": "Clinical Note"}]}],
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": written_at.isoformat(timespec="seconds"),
        "description": "Peer-to-peer review call with the payer's reviewer",
        "content": [
            attachment(
                note_text.encode("utf-8"),
                PLAIN_TEXT,
                "Peer-to-peer call note",
                written_at.isoformat(timespec="seconds"),
            )
        ],
        "context": context,
    }
    if author_ref:
        resource["author"] = [{"reference": author_ref}]
    if replaces:
        resource["relatesTo"] = [{"code": "replaces", "target": {"reference": replaces}}]
    return resource


def attachment(data: bytes, content_type: str, title: str, created: str) -> dict[str, Any]:
    """One ``content`` entry: ``data`` base64-encoded, with its type, title and creation time."""
    return {
        "attachment": {
            "contentType": content_type,
            "data": base64.b64encode(data).decode("ascii"),
            "title": title,
            "creation": created,
        }
    }


def supports_conditional_create(capabilities: dict[str, Any], resource_type: str = "DocumentReference") -> bool:
    """Whether the CapabilityStatement declares ``conditionalCreate`` for ``resource_type``."""
    for rest in capabilities.get("rest") or []:
        for resource in rest.get("resource") or []:
            if resource.get("type") == resource_type:
                return bool(resource.get("conditionalCreate"))
    return False


def _identifier_query(resource: dict[str, Any]) -> str:
    identifier = resource["identifier"][0]
    return f"{identifier['system']}|{identifier['value']}"


def _is_type_rejection(exc: CreateRefused) -> bool:
    return exc.status_code in (400, 422) and "type" in exc.detail.lower()


def _carrying(resources: list[dict[str, Any]], identifier: dict[str, Any]) -> dict[str, Any] | None:
    """The first resource that really carries ``identifier`` (a server that ignores the search parameter answers
    with every note of the patient, which must not count as "already written")."""
    for found in resources:
        for own in found.get("identifier") or []:
            if (
                own.get("system") == identifier["system"]
                and own.get("value") == identifier["value"]
                and found.get("id")
            ):
                return found
    return None


def write_document_reference(
    client: FhirClient,
    resource: dict[str, Any],
    *,
    conditional: bool,
    search_first: bool = True,
    unconfirmed: bool = False,
) -> str:
    """Create ``resource`` once and return ``DocumentReference/<id>``; raise ``WriteBackError`` saying why not.

    Without conditional create, a search by identifier first finds a copy an earlier attempt left (where the EHR
    supports that search: ``search_first``); where it supports neither, the outbox's record of each id the EHR
    returned is what keeps a retry from writing twice, and an ``unconfirmed`` earlier attempt (sent, answer lost)
    is looked for among the patient's notes. A create whose answer is lost raises with ``maybe_written``."""
    query = _identifier_query(resource)
    if_none_exist = f"identifier={query}" if conditional else None
    try:
        if not conditional and (search_first or unconfirmed):
            found = _already_written(client, resource, by_identifier=search_first, unconfirmed=unconfirmed)
            if found is not None:
                return found
        try:
            result = client.create(resource, if_none_exist=if_none_exist)
        except CreateRefused as exc:
            coding = resource["type"]["coding"][0]
            if not (_is_type_rejection(exc) and coding["code"] == PREFERRED_NOTE_TYPE):
                raise
            coding.update(code=FALLBACK_NOTE_TYPE, display=NOTE_TYPES[FALLBACK_NOTE_TYPE])
            result = client.create(resource, if_none_exist=if_none_exist)
    except CreateRefused as exc:
        retryable = exc.status_code >= 500 or exc.status_code in (408, 429)
        raise WriteBackError(
            f"The EHR answered HTTP {exc.status_code}: {exc.detail}",
            retryable=retryable,
            status_code=exc.status_code,
            maybe_written=exc.may_be_stored,
        ) from exc
    except CreateOutcomeUnknown as exc:
        raise WriteBackError(
            f"{exc.message}; the EHR may have kept the note, so it is looked for before it is sent again",
            retryable=True,
            maybe_written=True,
        ) from exc
    except FhirAuthError as exc:
        raise WriteBackError(exc.message, retryable=True, status_code=401) from exc
    except FhirUnreachable as exc:
        raise WriteBackError(exc.message, retryable=True) from exc
    if not result.resource_id:
        raise WriteBackError(
            "The EHR accepted the note but did not say where it is (no id, no Location)", retryable=False
        )
    return f"DocumentReference/{result.resource_id}"


def _already_written(
    client: FhirClient, resource: dict[str, Any], *, by_identifier: bool, unconfirmed: bool
) -> str | None:
    """``DocumentReference/<id>`` of the copy of ``resource`` already in the chart, or None when there is none.

    Searched by identifier where the EHR offers that search, else among the patient's notes. After an attempt
    whose answer was lost (``unconfirmed``), not being able to tell is an error, never a reason to send again:
    retried later if the search failed, parked for a person if the EHR cannot be asked at all."""
    identifier = resource["identifier"][0]
    if by_identifier:
        existing = client.search("DocumentReference", {"identifier": _identifier_query(resource)})
    else:
        patient_id = str(resource["subject"]["reference"]).split("/")[-1]
        existing = client.search("DocumentReference", {"patient": patient_id})
    match = _carrying(existing.resources, identifier)
    if match is not None:
        return f"DocumentReference/{match['id']}"
    if unconfirmed and existing.error:
        refused = existing.refused  # the grant lacks DocumentReference search: waiting won't help
        raise WriteBackError(
            f"An earlier attempt reached the EHR but its answer was lost, and the EHR could not be asked whether it "
            f"kept the note ({existing.error}); it is not sent again until it can be"
            + (". Look in the patient's chart for a peer-to-peer call note of this call" if refused else ""),
            retryable=not refused,
            maybe_written=True,
        )
    if unconfirmed and not by_identifier:
        raise WriteBackError(
            "An earlier attempt reached the EHR but its answer was lost, and this EHR cannot be asked by identifier "
            "whether it kept the note. Look in the patient's chart for a peer-to-peer call note of this call before "
            "sending it again",
            retryable=False,
            maybe_written=True,
        )
    return None


def document_writer(client: FhirClient, *, search_first: bool) -> Callable[..., str]:
    """A writer for the outbox: creates one DocumentReference per call, reading the CapabilityStatement once;
    ``unconfirmed=True`` when an earlier attempt's answer was lost. Any failure is a ``WriteBackError`` (anything
    but a refusal the EHR explains is retryable)."""
    conditional: list[bool] = []

    def write(resource: dict[str, Any], *, unconfirmed: bool = False) -> str:
        try:
            if not conditional:
                conditional.append(supports_conditional_create(client.capabilities()))
            return write_document_reference(
                client, resource, conditional=conditional[0], search_first=search_first, unconfirmed=unconfirmed
            )
        except WriteBackError:
            raise
        except (FhirError, P2PError) as exc:
            raise WriteBackError(exc.message, retryable=True) from exc

    return write
