"""One page of ClaimResponses or PDex ExplanationOfBenefits found by ``p2p-brief sync`` (from a search page or an
export file): follow the page's references in concurrent ``_id`` bursts, read the denials exactly as a chart launch
would, and record each as a case."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smart_app.brief.model import denial_summary
from smart_app.denials.assess import Clock
from smart_app.denials.pas import Denial, prior_auth_answers
from smart_app.denials.pdex import eob_answers, merge_answers, same_request
from smart_app.errors import FhirReadError
from smart_app.fhir.chart import Chart, build_chart, record_owner
from smart_app.fhir.client import FhirClient
from smart_app.fhir.facts import display_name
from smart_app.fhir.reader import missing_references
from smart_app.practice.letter_joins import join_letters
from smart_app.practice.tracking import Sighting, track_denials
from smart_app.store.cases import close_superseded
from smart_app.store.db import Database

log = logging.getLogger(__name__)
SYNC_REFERENCES = ("Claim", "Patient", "Coverage", "Organization", "Practitioner", "PractitionerRole")
ANSWER_TYPES = ("ClaimResponse", "ExplanationOfBenefit")  # PAS, and PDex with use = preauthorization
PAGE_SIZE = 200
ID_CHUNK = 50  # ids per ``_id`` search, to keep URLs short


@dataclass
class SyncReport:
    """What one run did: ClaimResponses and PDex ExplanationOfBenefits read, denials found, cases created, the new
    ones ready for a P2P, and how the server was read (``search`` or ``export``)."""

    pages: int = 0
    read: int = 0  # ClaimResponses
    eobs_read: int = 0  # ExplanationOfBenefits (any use; only preauthorization ones are denials)
    denials: int = 0
    new_cases: int = 0
    new_p2p_eligible: int = 0
    marks: dict[str, str | None] = field(default_factory=dict)  # how far each type is read, after the run
    not_read: dict[str, str] = field(default_factory=dict)  # answer types the server refused, with its words
    via: str = "search"
    unreadable: int = 0  # export lines that were not the type asked for, and EOBs too malformed to read
    refused: int = 0  # answers not recorded: their patient is not their Claim's

    @property
    def high_water(self) -> str | None:
        """How far the ClaimResponses are read (the first kind of answer, and what a run reported before EOBs)."""
        return self.marks.get("ClaimResponse")


@dataclass(frozen=True)
class Placement:
    """Whose case a denial is in the EHR: the patient's id there, and the practice (``Organization/<id>``) when it
    is not the one the answer names (an answer read from a payer's own API)."""

    patient_id: str | None
    organization: str | None = None
    patient_name: str | None = None  # the chart's own, when the answer's Patient is the payer's record


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
    answers: list[dict[str, Any]],
    clock: Clock,
    practice_state: str | None,
    report: SyncReport,
) -> None:
    """Record the page's open denials (its ClaimResponses, or its PDex ExplanationOfBenefits) as cases, counting
    them (and the new ones ready for a P2P) in ``report``. The patients' answers of the other type are read too,
    so a request answered both ways is one case: the ClaimResponse's, as the patient's page lists it
    (``merge_answers``)."""
    report.pages += 1
    for resource in answers:
        if resource.get("resourceType") == "ExplanationOfBenefit":
            report.eobs_read += 1
        else:
            report.read += 1
    chart = build_chart(with_references(client, answers) + _other_answers(client, answers))
    wanted = {f"{r.get('resourceType')}/{r.get('id')}" for r in answers}
    record_answers(db, iss, chart, wanted, clock, practice_state, report)


def record_answers(
    db: Database,
    tenant: str,
    chart: Chart,
    wanted: set[str],
    clock: Clock,
    practice_state: str | None,
    report: SyncReport,
    place: Callable[[Denial], Placement | None] | None = None,
) -> None:
    """Record as cases the open denials among the chart's answers named in ``wanted`` (``Type/id``). Every answer
    in the chart takes part in the merge (a ClaimResponse and an EOB for one request are one denial); a case whose
    EOB a ClaimResponse now answers is closed. ``place`` names the case's patient and practice in the EHR (default:
    the answer's own patient and requesting organisation; None: not recorded)."""
    answers = [r for t in ANSWER_TYPES for r in chart.of_type(t)]
    refused = {
        f"{r.get('resourceType')}/{r.get('id')}"
        for r in answers
        if f"{r.get('resourceType')}/{r.get('id')}" in wanted and not _same_patient_as_claim(r, chart)
    }
    report.refused += len(refused)
    current = [r for r in answers if f"{r.get('resourceType')}/{r.get('id')}" not in refused]
    eob_denials, skipped = eob_answers([r for r in current if r.get("resourceType") == "ExplanationOfBenefit"],
                                       chart.resolve)  # fmt: skip
    for message in skipped:
        log.warning("sync: %s", message)
    report.unreadable += len(skipped)
    pas_denials = prior_auth_answers([r for r in current if r.get("resourceType") == "ClaimResponse"], chart.resolve)
    merged = merge_answers(pas_denials, list(eob_denials))
    placed = []
    for denial in merged:
        if denial.claim_response_ref not in wanted or not (denial.is_open or denial.decision == "unknown"):
            continue
        placement = place(denial) if place else Placement(_answer_patient(denial, chart))
        if placement is not None and placement.patient_id:
            placed.append((denial, placement))
    sightings, summaries, superseded = [], [], []
    for denial, placement in _with_letters(db, tenant, placed):
        patient_id = str(placement.patient_id)
        report.denials += 1
        patient = (chart.resolve({"reference": denial.patient_ref}) if denial.patient_ref else None) or {}
        summary = denial_summary(denial, patient=patient, clock=clock, practice_state=practice_state)
        if placement.organization:  # the payer's record of the practice, as the EHR knows it
            summary["orderingProvider"] = {**(summary.get("orderingProvider") or {}),
                                           "organization": placement.organization}  # fmt: skip
        sightings.append(Sighting(patient_id, summary, placement.patient_name or display_name(patient)))
        summaries.append(summary)
        superseded += [(patient_id, e.claim_response_id) for e in eob_denials
                       if e.claim_response_id != denial.claim_response_id and same_request(denial, e)]  # fmt: skip
    for summary, created in zip(summaries, track_denials(db, tenant=tenant, sightings=sightings, source="sync"),
                                strict=True):  # fmt: skip
        if created:
            report.new_cases += 1
            window = summary.get("p2pWindow") or {}
            if summary.get("recommendation") == "peer-to-peer" and not window.get("closed"):
                report.new_p2p_eligible += 1
    close_superseded(db, tenant, superseded)


def _with_letters(db: Database, tenant: str, placed: list[tuple[Denial, Placement]]) -> list[tuple[Denial, Placement]]:
    """Each placed answer with the payer's letter for it attached: a letter case of the same patient that is the same
    decision joins the answer's case (its own closed as superseded), so the letter, then the payer's answer, is one
    case. Only the page's answers of that patient are compared (a letter fitting two of them is not joined)."""
    by_patient: dict[str, list[Denial]] = {}
    for denial, placement in placed:
        by_patient.setdefault(str(placement.patient_id), []).append(denial)
    attached: dict[int, Denial] = {}
    for patient_id, denials in by_patient.items():
        joined = join_letters(db, tenant, patient_id, denials)
        if joined.warnings:
            log.warning("sync: %d letter(s) of Patient/%s not joined: each fits several answers", len(joined.warnings),
                        patient_id)  # fmt: skip
        attached.update((id(d), a) for d, a in zip(denials, joined.answers, strict=True))
    return [(attached.get(id(d), d), p) for d, p in placed]


def _answer_patient(denial: Denial, chart: Chart) -> str | None:
    patient = chart.resolve({"reference": denial.patient_ref}) if denial.patient_ref else None
    if patient and patient.get("id"):
        return str(patient["id"])
    return str(denial.patient_ref or "").split("/")[-1] or None


def _other_answers(client: FhirClient, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's patients' answers of the other type (EOBs for a ClaimResponse page, and the reverse), read only
    to find a request answered both ways. A failed read raises ``FhirReadError``: the page is read again next run."""
    types = {str(r.get("resourceType")) for r in page}
    patients = sorted({owner for r in page if (owner := record_owner(r))})
    found: list[dict[str, Any]] = []
    for other in (t for t in ANSWER_TYPES if t not in types):
        queries = {
            f"{other}:{i}": (other, {"patient": ",".join(chunk), "_count": str(PAGE_SIZE)})
            for i, chunk in enumerate(_chunks(patients, ID_CHUNK))
        }
        for result in client.search_all(queries).values():
            if result.refused:  # not granted to this client: twins cannot be found, the page is still recorded
                log.info("sync: %s refused to this client; a request answered both ways may be two cases", other)
                continue
            if result.error:
                raise FhirReadError(f"the page's patients' {other}s could not be read ({result.error}); not recorded")
            found.extend(result.resources)
    return found


def _same_patient_as_claim(claim_response: dict[str, Any], chart: Chart) -> bool:
    """False (and logged, by reference) when the answer's patient is not the patient of the Claim it answers (a
    ClaimResponse's ``request``, an EOB's ``claim``): recorded, it would put one patient's denial on another's case."""
    claim = chart.resolve(claim_response.get("request") or claim_response.get("claim"))
    if claim is None:
        return True  # no Claim to compare with: read as a chart launch reads it
    answered_for, requested_for = record_owner(claim_response), record_owner(claim)
    if answered_for is None or requested_for is None or answered_for == requested_for:
        return True
    log.warning(
        "%s/%s refused, not recorded as a case: its patient (%s) is not its Claim's (%s, %s)",
        claim_response.get("resourceType"),
        claim_response.get("id"),
        answered_for,
        f"Claim/{claim.get('id')}",
        requested_for,
    )
    return False
