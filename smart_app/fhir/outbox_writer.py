"""The writer the outbox flush uses: one per FHIR server, authenticated as the app itself (SMART Backend Services),
creating each note once as that server's write profile allows."""

from __future__ import annotations

from typing import Any

from smart_app.errors import WriteBackError
from smart_app.fhir.client import FhirClient
from smart_app.fhir.write_profiles import profile_for
from smart_app.fhir.writeback import document_writer
from smart_app.outcome.outbox import Writer
from smart_app.smart.backend import BackendAuth


def backend_writer(iss: str, auth: BackendAuth, settings: dict[str, Any]) -> Writer:
    """A ``Writer`` for ``iss``; a 401 drops the cached token so the next attempt fetches a new one."""
    client = FhirClient.from_settings(iss, lambda: auth.token(iss), settings)
    write = document_writer(client, search_first=profile_for(iss, settings["WRITE_PROFILES"]).identifier_search)

    def write_with_fresh_token(resource: dict[str, Any], *, unconfirmed: bool = False) -> str:
        try:
            return write(resource, unconfirmed=unconfirmed)
        except WriteBackError as exc:
            if exc.status_code == 401:
                auth.forget(iss)
            raise

    return write_with_fresh_token
