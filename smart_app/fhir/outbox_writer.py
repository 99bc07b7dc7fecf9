"""The writer the outbox flush uses: one per FHIR server, authenticated as the app itself (SMART Backend Services),
creating each note once (conditional create where the server supports it, a search by identifier otherwise)."""

from __future__ import annotations

from typing import Any

from smart_app.errors import FhirError, P2PError, WriteBackError
from smart_app.fhir.client import FhirClient
from smart_app.fhir.writeback import supports_conditional_create, write_document_reference
from smart_app.outcome.outbox import Writer
from smart_app.smart.backend import BackendAuth


def backend_writer(iss: str, auth: BackendAuth, settings: dict[str, Any]) -> Writer:
    """A ``Writer`` for ``iss``; token and capability problems become retryable ``WriteBackError``s."""
    client = FhirClient(
        iss,
        lambda: auth.token(iss),
        timeout=settings["FHIR_TIMEOUT"],
        max_retries=settings["FHIR_MAX_RETRIES"],
    )
    conditional: list[bool] = []

    def write(resource: dict[str, Any]) -> str:
        try:
            if not conditional:
                conditional.append(supports_conditional_create(client.capabilities()))
            return write_document_reference(client, resource, conditional=conditional[0])
        except WriteBackError as exc:
            if exc.status_code == 401:
                auth.forget(iss)  # the next attempt fetches a new token
            raise
        except (FhirError, P2PError) as exc:
            raise WriteBackError(exc.message, retryable=True) from exc

    return write
