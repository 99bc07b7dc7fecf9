"""One page of ClaimResponses found by ``p2p-brief sync`` (from a search page or an export file): follow the
page's references in concurrent ``_id`` bursts, read the denials exactly as a chart launch would, and record each
as a case."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from smart_app.brief.model import denial_summary
from smart_app.denials.assess import Clock
from smart_app.denials.pas import open_denials
from smart_app.errors import FhirReadError
from smart_app.fhir.chart import Chart, build_chart, record_owner
from smart_app.fhir.client import FhirClient
from smart_app.fhir.facts import display_name
from smart_app.fhir.reader import missing_references
from smart_app.practice.tracking import Sighting, track_denials
from smart_app.store.db import Database

log = logging.getLogger(__name__)
SYNC_REFERENCES = ("Claim", "Patient", "Coverage", "Organization", "Practitioner", "PractitionerRole")
PAGE_SIZE = 200
ID_CHUNK = 50  # ids per ``_id`` search, to keep URLs short


@dataclass
class SyncReport:
    """What one run did: ClaimResponses read, denials found, cases created, the new ones ready for a P2P, and
    how the server was read (``search`` or ``export``)."""

    pages: int = 0
    read: int = 0
    denials: int = 0
    new_cases: int = 0
    new_p2p_eligible: int = 0
    high_water: str | None = None
    via: str = "search"
    unreadable: int = 0  # export lines that were not a ClaimResponse
    refused: int = 0  # ClaimResponses not recorded: their patient is not their Claim's


def with_references(client: FhirClient, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page plus what it references, three levels deep (Claim -> Coverage -> payer; PractitionerRole ->
    Practitioner), each level one concurrent burst. A failed read raises ``FhirReadError``: the page is not
    recorded and the position does not move past it, so the next run reads it again."""
    resources = list(page)
    for _ in range(3):
        missing = missing_references(resources, client.base_url, SYNC_REFERENCES)
        if not missing:
            break
        queries = {
            f"{t}:{i}": (t, {"_id": ",".join(chunk), "_count": str(ID_CHUNK)})
            for t, ids in missing.items()
            for i, chunk in enumerate(_chunks(sorted(ids), ID_CHUNK))
        }
        for result in client.search_all(queries).values():
            if result.error:  # a case recorded without its Claim or practice would be on nobody's worklist
                raise FhirReadError(f"the page's references could not be read ({result.error}); not recorded")
            resources.extend(result.resources)
    return resources


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def record_page(
    db: Database,
    client: FhirClient,
    iss: str,
    claim_responses: list[dict[str, Any]],
    clock: Clock,
    practice_state: str | None,
    report: SyncReport,
) -> None:
    """Record the page's open denials as cases, counting them (and the new ones ready for a P2P) in ``report``."""
    report.pages += 1
    report.read += len(claim_responses)
    chart = build_chart(with_references(client, claim_responses))
    wanted = {str(r.get("id")) for r in claim_responses}
    read = [r for r in chart.of_type("ClaimResponse") if str(r.get("id")) in wanted]
    current = [r for r in read if _same_patient_as_claim(r, chart)]
    report.refused += len(read) - len(current)
    sightings, summaries = [], []
    for denial in open_denials(current, chart.resolve):
        report.denials += 1
        claim_response = chart.index.get(f"ClaimResponse/{denial.claim_response_id}") or {}
        patient = chart.resolve(claim_response.get("patient")) or {}
        patient_id = str(
            patient.get("id") or str((claim_response.get("patient") or {}).get("reference", "")).split("/")[-1]
        )
        summary = denial_summary(denial, patient=patient, clock=clock, practice_state=practice_state)
        sightings.append(Sighting(patient_id, summary, display_name(patient)))
        summaries.append(summary)
    for summary, created in zip(summaries, track_denials(db, tenant=iss, sightings=sightings, source="sync"),
                                strict=True):  # fmt: skip
        if created:
            report.new_cases += 1
            window = summary.get("p2pWindow") or {}
            if summary.get("recommendation") == "peer-to-peer" and not window.get("closed"):
                report.new_p2p_eligible += 1


def _same_patient_as_claim(claim_response: dict[str, Any], chart: Chart) -> bool:
    """False (and logged, by reference) when the ClaimResponse's patient is not the patient of the Claim it answers:
    recorded, it would put one patient's denial on another's case."""
    claim = chart.resolve(claim_response.get("request"))
    if claim is None:
        return True  # no Claim to compare with: read as a chart launch reads it
    answered_for, requested_for = record_owner(claim_response), record_owner(claim)
    if answered_for is None or requested_for is None or answered_for == requested_for:
        return True
    log.warning(
        "ClaimResponse/%s refused, not recorded as a case: its patient (%s) is not its Claim's (%s, %s)",
        claim_response.get("id"),
        answered_for,
        f"Claim/{claim.get('id')}",
        requested_for,
    )
    return False
