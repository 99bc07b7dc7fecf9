"""``p2p-brief sync --payer NAME``: prior-authorization decisions from the payer's own API, onto the EHR's worklist.

Where they come from (HL7/davinci-epdx at 444e07e, PDex STU 2.2):
- the **Provider Access API** (``input/pagecontent/provider-access-api.md``): access by SMART Backend Services
  client credentials (§pdex-336); ``POST [base]/Group/[id]/$davinci-data-export`` with ``Prefer: respond-async``
  (§pdex-338..340), then the Bulk Data status URL and NDJSON files (§pdex-341). The Group is the payer's
  attribution list for the practice (v1), or the matched Group its ``$provider-member-match`` returned (v2,
  ``provider-access-api-v2.md`` §pdex-241, §pdex-262: "use the Matched Group Id to make subsequent
  $davinci-data-export operation requests"); the practice puts that Group's id in the payer registry. The
  request carries Bulk Data's ``_type=ExplanationOfBenefit`` and ``_since`` (the last run's ``transactionTime``).
  A registration without a Group searches ``ExplanationOfBenefit?_lastUpdated=ge…`` instead.
- each decision is a PDex Prior Authorization EOB (``use = preauthorization``), read by ``denials.pdex``;
- one known request is asked of the **PAS API** (Da Vinci PAS): ``POST [pas]/Claim/$inquire`` with an inquiry
  Bundle (the EHR's Claim first, then what it references), answered by a Bundle whose ClaimResponse is the decision.

Every decision is placed on the EHR's chart by member ID and birth date (``member_match``) and on the practice by
the NPI the payer names; one that matches no chart, or more than one, is refused and listed, never guessed. While
any is refused the payer's position is not moved, so the next run reads it again (recorded ones stay one case each).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smart_app.denials.assess import Clock
from smart_app.denials.pdex import eob_answers, eob_denial_id
from smart_app.errors import FhirError, InputError, PayerReadError
from smart_app.fhir.bulk import start_export_at
from smart_app.fhir.chart import Chart, build_chart, chart_from_bundle
from smart_app.fhir.client import FhirClient, operation_outcome_text
from smart_app.fhir.facts import role_organization
from smart_app.fhir.reader import references_in
from smart_app.practice.member_match import Member, match_members, member_of, npi_of, practices_by_npi
from smart_app.practice.payer_registry import PayerRegistration
from smart_app.practice.sync import sync_by_search
from smart_app.practice.sync_export import sync_by_export
from smart_app.practice.sync_pages import Placement, SyncReport, record_answers, with_references
from smart_app.store.db import Database
from smart_app.store.payer_answers import save_payer_answer
from smart_app.store.sync_progress import load_progress, save_progress

log = logging.getLogger(__name__)
EOB = "ExplanationOfBenefit"
PAYER_SCOPE = "system/ExplanationOfBenefit.rs system/Patient.rs system/Coverage.rs system/Organization.rs " \
              "system/Practitioner.rs system/PractitionerRole.rs system/Claim.rs system/ClaimResponse.rs"  # fmt: skip


@dataclass
class PayerSyncReport(SyncReport):
    """A payer run's counts, and each decision refused with why (references only: no names, IDs or dates)."""

    refusals: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _PayerRun:
    db: Database
    payer: FhirClient
    ehr: FhirClient
    tenant: str
    clock: Clock
    practice_state: str | None
    report: PayerSyncReport
    payer_key: str = ""


def sync_payer(
    db: Database,
    payer: FhirClient,
    ehr: FhirClient,
    registration: PayerRegistration,
    *,
    clock: Clock,
    practice_state: str | None = None,
) -> PayerSyncReport:
    """Read the payer's prior-authorization EOBs changed since the last run (its Group's ``$davinci-data-export``,
    else a search) and record each open denial as a case of the EHR patient it matches."""
    tenant = ehr.base_url.rstrip("/")
    iss = payer.base_url.rstrip("/")
    before = load_progress(db, iss, EOB)
    run = _PayerRun(db, payer, ehr, tenant, clock, practice_state, PayerSyncReport(via="export"), registration.key)
    try:
        if registration.group:
            group = registration.group
            sync_by_export(db, payer, iss, EOB, clock=clock, practice_state=practice_state, report=run.report,
                           record=lambda page: _record_eobs(run, page),
                           kick_off=lambda types, since: start_export_at(
                               payer, f"Group/{group}/$davinci-data-export", types, since, post=True))  # fmt: skip
        else:
            run.report.via = "search"
            sync_by_search(db, payer, iss, EOB, record=lambda page: _record_eobs(run, page), report=run.report)
    except _EhrFailed as failed:  # the EHR's own error, worded for the EHR
        raise failed.error from failed.error
    except FhirError as exc:  # anything else failed on the payer's side: say so, not "the chart"
        raise PayerReadError(f"payer {registration.key}: {exc.message}") from exc
    if run.report.refusals:  # read them again next run: a chart corrected in the EHR then matches
        save_progress(db, iss, before, EOB)
        run.report.marks[EOB] = before.high_water
    log.info("sync payer %s: %d EOB(s) read, %d new case(s), %d refused", iss, run.report.eobs_read,
             run.report.new_cases, len(run.report.refusals))  # fmt: skip
    return run.report


def _record_eobs(run: _PayerRun, page: list[dict[str, Any]]) -> None:
    run.report.pages += 1
    run.report.eobs_read += len(page)
    chart = build_chart(with_references(run.payer, page))
    on_page = {str(p.get("id")) for p in page}
    eobs = [r for r in chart.of_type(EOB) if str(r.get("id")) in on_page]
    denials, skipped = eob_answers(eobs, chart.resolve)
    run.report.unreadable += len(skipped)
    open_refs = {d.claim_response_ref for d in denials if d.is_open or d.decision == "unknown"}
    answers = [e for e in eobs if f"{EOB}/{e.get('id')}" in open_refs]
    placements = _place(run, chart, answers, {d.claim_response_ref or "": d.ordering_provider for d in denials})
    _keep(run.db, run.tenant, run.payer_key, chart, placements)
    record_answers(run.db, run.tenant, chart, set(placements), run.clock, run.practice_state, run.report,
                   place=lambda d: placements.get(d.claim_response_ref or ""))  # fmt: skip


def _keep(db: Database, tenant: str, payer_key: str, chart: Chart, placements: dict[str, Placement]) -> None:
    """Keep each placed answer with what it names, under its chart: the case's brief is built from it (the EHR
    has no copy). Saved before the case, so a case never lacks its answer."""
    for ref, placement in placements.items():
        kind, _, ident = ref.partition("/")
        answer = chart.index.get(ref)
        if answer is None or not placement.patient_id:
            continue
        denial_id = eob_denial_id(ident) if kind == EOB else ident
        save_payer_answer(db, tenant=tenant, patient_id=placement.patient_id, denial_id=denial_id, payer=payer_key,
                          resources=with_what_it_names(answer, chart))  # fmt: skip


def with_what_it_names(answer: dict[str, Any], chart: Chart) -> list[dict[str, Any]]:
    """The answer and every record it references in the chart, transitively (its member, Coverage, payer,
    provider, the provider's practice): nothing of another member's."""
    found = {f"{answer.get('resourceType')}/{answer.get('id')}": answer}
    queue = [answer]
    while queue:
        for reference in references_in(queue.pop()):
            target = chart.resolve({"reference": reference})
            key = f"{(target or {}).get('resourceType')}/{(target or {}).get('id')}"
            if target is not None and key not in found:
                found[key] = target
                queue.append(target)
    return list(found.values())


class _EhrFailed(Exception):
    """An EHR read failed inside a payer run: carried out as the EHR's error, not turned into the payer's."""

    def __init__(self, error: FhirError) -> None:
        super().__init__(error.message)
        self.error = error


def _place(
    run: _PayerRun, chart: Chart, answers: list[dict[str, Any]], providers: dict[str, Any]
) -> dict[str, Placement]:
    """Each answer's EHR patient and practice; the ones that cannot be placed go to the report's refusals."""
    members = {f"{a.get('resourceType')}/{a.get('id')}": member_of(a, chart) for a in answers}
    npis = {ref: npi_of(chart.resolve({"reference": getattr(providers.get(ref), "organization", None)}))
            for ref in members}  # fmt: skip
    try:
        matches = match_members(run.ehr, list(set(members.values())), payer_key=run.payer_key)
        practices = practices_by_npi(run.ehr, {n for n in npis.values() if n})
    except FhirError as exc:
        raise _EhrFailed(exc) from exc
    placements: dict[str, Placement] = {}
    for ref, member in members.items():
        match = matches[member]
        practice = practices.get(npis[ref] or "")
        if match.refusal or not match.patient_id:
            _refuse(run.report, ref, member, match.refusal or "no match")
        elif practice is None:
            _refuse(run.report, ref, member, "its practice (the NPI the payer names) is no single Organization in "
                                              "the EHR")  # fmt: skip
        else:
            placements[ref] = Placement(match.patient_id, practice, match.patient_name)
    return placements


def _refuse(report: PayerSyncReport, ref: str, member: Member, reason: str) -> None:
    report.refused += 1
    report.refusals.append((f"{ref} (the payer's {member.payer_patient})", reason))
    log.warning("payer decision %s refused, not recorded: %s", ref, reason)


def inquire(
    db: Database,
    pas: FhirClient,
    ehr: FhirClient,
    claim_reference: str,
    *,
    clock: Clock,
    practice_state: str | None = None,
    payer_key: str = "",
) -> PayerSyncReport:
    """Ask the payer's PAS API for its decision on one request the EHR holds (``Claim/<id>``) and record it as a
    case of that Claim's patient, when the payer's answer names the same member (member ID and birth date)."""
    kind, _, claim_id = claim_reference.partition("/")
    if kind != "Claim" or not claim_id or "/" in claim_id:
        raise InputError(f"--inquire {claim_reference!r}: expected the EHR's request as Claim/<id>")
    claim = ehr.read("Claim", claim_id)
    sent = with_references(ehr, [claim])
    answer = _inquiry(pas, ehr.base_url, sent)
    report = PayerSyncReport(via="inquire")
    if answer is None:
        report.refusals.append((claim_reference, "the payer holds no decision for this request"))
        return report
    chart = chart_from_bundle(answer)
    answers = chart.of_type("ClaimResponse")
    report.read = len(answers)
    if not answers:
        report.refusals.append((claim_reference, "the payer's answer holds no ClaimResponse"))
        return report
    requested_for = str((claim.get("patient") or {}).get("reference") or "").split("/")[-1]
    members = {f"ClaimResponse/{a.get('id')}": member_of(a, chart) for a in answers}
    matches = match_members(ehr, list(set(members.values())), payer_key=payer_key)
    practice = _request_practice(claim, build_chart(sent))
    placements: dict[str, Placement] = {}
    for ref, member in members.items():
        match = matches[member]
        if match.patient_id and match.patient_id != requested_for:
            _refuse(report, ref, member, f"the payer's member is another chart than the request's ({claim_reference})")
        elif match.refusal or not match.patient_id:
            _refuse(report, ref, member, match.refusal or "no match")
        else:
            placements[ref] = Placement(match.patient_id, practice, match.patient_name)
    _keep(db, ehr.base_url.rstrip("/"), payer_key, chart, placements)
    record_answers(db, ehr.base_url.rstrip("/"), chart, set(placements), clock, practice_state, report,
                   place=lambda d: placements.get(d.claim_response_ref or ""))  # fmt: skip
    return report


def _inquiry(pas: FhirClient, ehr_base: str, sent: list[dict[str, Any]]) -> dict[str, Any] | None:
    """POST the PAS inquiry Bundle (the Claim first) to ``Claim/$inquire``; the payer's answer Bundle, or None when
    it answers 404 (it holds no decision for that request)."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "entry": [
            {"fullUrl": f"{ehr_base.rstrip('/')}/{r.get('resourceType')}/{r.get('id')}", "resource": r} for r in sent
        ],  # fmt: skip
    }
    response = pas.operation("Claim/$inquire", bundle)
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 404:
        return None
    if response.status_code != 200 or not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        detail = operation_outcome_text(body) or f"HTTP {response.status_code}"
        raise PayerReadError(f"the payer's Claim/$inquire gave no answer Bundle ({detail})")
    return body


def _request_practice(claim: dict[str, Any], chart: Chart) -> str | None:
    """The practice the EHR's request came from: its provider when an Organization, else the role's."""
    provider = chart.resolve(claim.get("provider")) or {}
    if provider.get("resourceType") == "Organization":
        return f"Organization/{provider.get('id')}"
    return role_organization(provider)
