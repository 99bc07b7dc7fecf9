"""Read a prior-authorization decision the payer posted as a Da Vinci PDex ``ExplanationOfBenefit``
(``use = preauthorization``) into the same ``Denial`` the PAS ClaimResponse reader fills.

Where PDex puts each part (HL7/davinci-epdx at 444e07e, ``input/fsh/ProfilePdexPriorAuthorization.fsh``):
- the decision per item: ``item.adjudication.extension(reviewAction)`` (line 97), whose sub-extension
  ``extension-reviewActionCode`` carries the X12 306 code (``Extensions.fsh`` lines 72-95: also ``number`` and
  ``reasonCode``); for the whole request the same extension on the header ``adjudication`` (line 114);
- the denial reason: an adjudication whose ``category`` is ``PDexAdjudicationDiscriminator#denialreason`` (lines
  85-87 per item, 108-110 on the header) with ``reason`` bound to CARC/RARC
  (``X12ClaimAdjustmentReasonCodesCMSRemittanceAdviceRemarkCodes``, ``CodeSystemStubs.fsh`` line 142: codes from
  ``https://x12.org/codes/claim-adjustment-reason-codes``);
- when decided: ``item.adjudication.extension(adjudicationActionDate)`` (``WhenAdjudicated``, line 98), else
  ``created``; the periods go to the notes, never to the decision date: the authorization's ``preAuthRefPeriod``
  (line 38; 0..* in R4), the item's ``preAuthPeriod`` (line 50) and the ``billablePeriod`` (the dates of service);
- the numbers: ``preAuthRef``, item ``previousAuthorizationNumber`` / ``administrationReferenceNumber`` (lines
  51-52, the PAS extensions);
- who: ``insurer`` 1..1 (line 30), ``provider`` 1..1 (line 32), ``patient`` 1..1 (line 26), the reviewer as PAS's
  ``claimResponseReviewer`` (line 15); the request it answers is R4's ``ExplanationOfBenefit.claim``.
An EOB keeps its service on ``item.productOrService`` itself (no Claim join needed). Nothing here is guessed: a
missing part is a warning on the denial; without a review action an item's decision is ``unknown`` (``pended``
for a ``queued`` outcome, as the PAS reader does), never inferred from a denial reason. ``use`` is filtered here,
not searched: it is no base R4 search parameter (``input/intro-notes/StructureDefinition-pdex-priorauthorization-
intro.md`` lines 13-17).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smart_app.denials.codes import reason_display, review_action, review_action_systems
from smart_app.denials.pas import (
    ADMIN_REFERENCE,
    AUTHORIZATION_NUMBER,
    DRUG_SYSTEMS,
    Denial,
    DenialItem,
    Resolver,
    _provider,
    _reviewer,
    _timestamp,
    identifier_values,
    prior_auth_answers,
)
from smart_app.denials.pas import (
    REVIEW_ACTION as PAS_REVIEW_ACTION,
)
from smart_app.denials.pas import (
    REVIEW_ACTION_CODE as PAS_REVIEW_ACTION_CODE,
)
from smart_app.denials.provenance import answer_provenance
from smart_app.fhir.dates import parse_date, parse_datetime
from smart_app.fhir.facts import Code, codes_of

EOB_PREFIX = "eob-"
PDEX_SD = "http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/"
PDEX_REVIEW_ACTION = PDEX_SD + "extension-reviewAction"
PDEX_REVIEW_ACTION_CODE = PDEX_SD + "extension-reviewActionCode"
WHEN_ADJUDICATED = PDEX_SD + "base-ext-when-adjudicated"
DENIAL_REASON = "denialreason"  # http://hl7.org/fhir/us/davinci-pdex/CodeSystem/PDexAdjudicationDiscriminator


@dataclass(frozen=True)
class _Action:
    code: Code | None
    number: str | None
    reasons: list[Code]
    when: str | None


def eob_denial_id(eob_id: str) -> str:
    """The denial id used in the app's URLs for an EOB: ``eob-<id>``, never a ClaimResponse's id."""
    return f"{EOB_PREFIX}{eob_id}"


def is_eob_denial_id(denial_id: str) -> bool:
    """Whether ``denial_id`` names a PDex ExplanationOfBenefit rather than a ClaimResponse or a hand entry."""
    return denial_id.startswith(EOB_PREFIX) and len(denial_id) > len(EOB_PREFIX)


def answer_reference(denial_id: str) -> str:
    """The FHIR reference of the payer's answer a (non-hand) denial id names: an EOB for ``eob-<id>``, else a
    ClaimResponse."""
    if is_eob_denial_id(denial_id):
        return f"ExplanationOfBenefit/{denial_id[len(EOB_PREFIX) :]}"
    return f"ClaimResponse/{denial_id}"


def _with_display(code: Code) -> Code:
    return code if code.display else Code(code.system, code.code, reason_display(code.system, code.code))


def _action(adjudications: list[dict[str, Any]]) -> _Action:
    """The review action from the first adjudication that carries one, and when the payer adjudicated."""
    when = _when(adjudications)
    for adjudication in adjudications:
        for ext in adjudication.get("extension") or []:
            if isinstance(ext, dict) and ext.get("url") in (PDEX_REVIEW_ACTION, PAS_REVIEW_ACTION):
                code, number, reasons = None, None, []
                for sub in ext.get("extension") or []:
                    url = (sub or {}).get("url")
                    if url in (PDEX_REVIEW_ACTION_CODE, PAS_REVIEW_ACTION_CODE, "code", "reviewActionCode"):
                        found = [
                            c for c in codes_of(sub.get("valueCodeableConcept")) if c.system in review_action_systems()
                        ]
                        code = found[0] if found else None
                    elif url == "number":
                        number = sub.get("valueString")
                    elif url == "reasonCode":
                        reasons += [_with_display(c) for c in codes_of(sub.get("valueCodeableConcept"))]
                return _Action(code, number, reasons, when)
    return _Action(None, None, [], when)


def _when(adjudications: list[dict[str, Any]]) -> str | None:
    for adjudication in adjudications:
        for ext in adjudication.get("extension") or []:
            if isinstance(ext, dict) and ext.get("url") == WHEN_ADJUDICATED and ext.get("valueDateTime"):
                return str(ext["valueDateTime"])
    return None


def _denial_reasons(adjudications: list[dict[str, Any]]) -> list[Code]:
    """``reason`` of each ``denialreason`` adjudication (CARC/RARC), with the shipped table's words."""
    return [
        _with_display(c)
        for a in adjudications
        if any(cat.code == DENIAL_REASON for cat in codes_of(a.get("category")))
        for c in codes_of(a.get("reason"))
    ]


def _adjudications(element: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in element.get("adjudication") or [] if isinstance(a, dict)]


def _extension_number(item: dict[str, Any]) -> str | None:
    for ext in item.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") in (AUTHORIZATION_NUMBER, ADMIN_REFERENCE):
            value = (ext.get("valueIdentifier") or {}).get("value") or ext.get("valueString")
            if value:
                return str(value)
    return None


def _quantity(item: dict[str, Any]) -> str | None:
    quantity = item.get("quantity") or {}
    if quantity.get("value") is None:
        return None
    unit = quantity.get("unit") or quantity.get("code")
    return f"{quantity['value']} {unit}" if unit else str(quantity["value"])


def _decision(action: _Action, outcome: Any) -> str:
    if action.code and action.code.code:
        entry = review_action(action.code.code)
        return entry["decision"] if entry else "unknown"
    return "pended" if outcome == "queued" else "unknown"


def _items(eob: dict[str, Any], header: _Action, header_reasons: list[Code]) -> tuple[list[DenialItem], list[str]]:
    notes = {n.get("number"): n["text"] for n in eob.get("processNote") or [] if isinstance(n, dict) and n.get("text")}
    items: list[DenialItem] = []
    dates: list[str] = []
    for item in (i for i in eob.get("item") or [] if isinstance(i, dict)):
        adjudications = _adjudications(item)
        action = _action(adjudications)
        if action.code is None and header.code is not None:
            action = _Action(header.code, action.number or header.number, action.reasons or header.reasons, action.when)
        services = codes_of(item.get("productOrService"))
        items.append(
            DenialItem(
                sequence=item.get("sequence") if isinstance(item.get("sequence"), int) else None,
                decision=_decision(action, eob.get("outcome")),
                review_action=action.code,
                review_number=action.number,
                reason_codes=action.reasons + (_denial_reasons(adjudications) or header_reasons),
                reason_text=[notes[n] for n in item.get("noteNumber") or [] if n in notes],
                service=services[0] if services else None,
                quantity=_quantity(item),
                reference_number=_extension_number(item),
            )
        )
        dates += [action.when] if action.when else []
    if not items and (header.code is not None or header_reasons):
        items = [DenialItem(None, _decision(header, eob.get("outcome")), header.code, header.number,
                            header.reasons + header_reasons, [], None, None)]  # fmt: skip
    return items, dates


def _period_words(period: Any) -> str | None:
    if not isinstance(period, dict) or not (period.get("start") or period.get("end")):
        return None
    return f"{period.get('start', 'not stated')} to {period.get('end', 'not stated')}"


def _period_note(eob: dict[str, Any]) -> list[str]:
    """The periods the payer's record states, in words for the brief's notes: the authorization's
    ``preAuthRefPeriod`` (0..* in R4, one per ``preAuthRef``), each item's authorized ``preAuthPeriod`` and the
    ``billablePeriod`` (the dates of service the decision covers). None of them is the decision's own date."""
    periods = eob.get("preAuthRefPeriod") or []
    notes = [
        f"Authorization period on the payer's record: {words}."
        for words in (_period_words(p) for p in (periods if isinstance(periods, list) else [periods]))
        if words
    ]
    for item in (i for i in eob.get("item") or [] if isinstance(i, dict)):
        periods = item.get("preAuthPeriod") or []  # PDex item 0..*: the period each authorization covers
        for words in (_period_words(p) for p in (periods if isinstance(periods, list) else [periods])):
            if words:
                notes.append(f"Item {item.get('sequence', '?')}: authorized period on the payer's record: {words}.")
    billable = _period_words(eob.get("billablePeriod"))
    if billable:
        notes.append(f"Dates of service on the payer's record: {billable}.")
    return notes


def _warnings(eob_ref: str, eob: dict[str, Any], items: list[DenialItem]) -> list[str]:
    warnings = []
    if not items:
        warnings.append(f"{eob_ref} has no item decisions; check the payer's letter for the decision.")
    elif all(i.decision == "unknown" for i in items):
        warnings.append(f"{eob_ref} carries no review action the app recognises; check the payer's letter.")
    if any(i.service is None for i in items if i.sequence is not None):
        warnings.append(f"{eob_ref} has no service code for an item; name the service from the payer's letter.")
    if any(i.decision in ("denied", "partial", "modified") and not i.reason_codes for i in items):
        warnings.append(f"{eob_ref} gives no denial reason code for a denied item; take it from the payer's letter.")
    if not (eob.get("insurer") or {}).get("reference") and not (eob.get("insurer") or {}).get("display"):
        warnings.append(f"{eob_ref} names no payer (insurer).")
    return warnings


def read_eob_denial(eob: dict[str, Any], resolve: Resolver) -> Denial:
    """Read one PDex prior-authorization ExplanationOfBenefit, resolving its payer, provider and Coverage."""
    eob_id = str(eob.get("id"))
    eob_ref = f"ExplanationOfBenefit/{eob_id}"
    header_adjudications = _adjudications(eob)
    header = _action(header_adjudications)
    items, dates = _items(eob, header, _denial_reasons(header_adjudications))
    decided = max((d for d in (parse_datetime(x) for x in dates) if d), default=None, key=lambda d: d.isoformat())
    decided = decided or parse_datetime(eob.get("created"))
    warnings = _warnings(eob_ref, eob, items)
    if decided is None:
        warnings.append(f"{eob_ref} has no decision date; take it from the payer's letter.")
    insurer_ref = eob.get("insurer") or {}
    insurer = resolve(insurer_ref)
    claim_ref = (eob.get("claim") or {}).get("reference")
    claim = resolve(eob.get("claim")) if claim_ref else None
    insurances = [i for i in eob.get("insurance") or [] if isinstance(i, dict)]
    focal = next((i for i in insurances if i.get("focal")), insurances[0] if insurances else None)
    coverage = resolve((focal or {}).get("coverage"))
    payors = (coverage or {}).get("payor") or []
    claim_type = {c.code for c in codes_of(eob.get("type"))}
    return Denial(
        claim_response_id=eob_denial_id(eob_id),
        claim_response_ref=eob_ref,
        claim_ref=claim_ref,
        decided_at=decided,
        outcome=eob.get("outcome"),
        disposition=eob.get("disposition"),
        pre_auth_ref=_first_pre_auth_ref(eob),
        payer_name=(insurer or {}).get("name") or insurer_ref.get("display"),
        payer_ref=insurer_ref.get("reference"),
        patient_ref=(eob.get("patient") or {}).get("reference"),
        items=items,
        diagnoses=[c for d in eob.get("diagnosis") or [] for c in codes_of(d.get("diagnosisCodeableConcept"))[:1]],
        notes=[n["text"] for n in eob.get("processNote") or [] if isinstance(n, dict) and n.get("text")]
        + _period_note(eob),
        warnings=warnings,
        insurer=insurer or ({"name": insurer_ref["display"]} if insurer_ref.get("display") else None),
        coverage=coverage,
        plan_payer=resolve(payors[0]) if payors else None,
        ordering_provider=_provider(eob.get("provider"), resolve),
        reviewer=_reviewer(eob),
        request_key=claim_ref.split("/_history/")[0] if claim_ref else None,
        updated_at=parse_datetime((eob.get("meta") or {}).get("lastUpdated")),
        requested_on=parse_date((claim or {}).get("created")),
        is_drug="pharmacy" in claim_type or any(i.service and i.service.system in DRUG_SYSTEMS for i in items),
        provenance=answer_provenance(eob),
        channel="pdex-eob",
        identifiers=identifier_values(eob),
    )


def _first_pre_auth_ref(eob: dict[str, Any]) -> str | None:
    refs = eob.get("preAuthRef")
    if isinstance(refs, list):  # R4 EOB: preAuthRef is 0..* string
        return next((str(r) for r in refs if r), None)
    return str(refs) if refs else None


def eob_answers(eobs: list[dict[str, Any]], resolve: Resolver) -> tuple[list[Denial], list[str]]:
    """Every preauthorization EOB read as a denial, and a message for each one too malformed to read (skipped)."""
    denials, skipped = [], []
    for eob in eobs:
        if eob.get("use") not in (None, "preauthorization"):
            continue
        try:
            denials.append(read_eob_denial(eob, resolve))
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            skipped.append(
                f"ExplanationOfBenefit/{eob.get('id')} could not be read and is left out ({type(exc).__name__})."
            )
    return denials, skipped


def same_request(pas: Denial, eob: Denial) -> bool:
    """Whether a ClaimResponse's denial and an EOB's answer the same request: the same Claim, or the same
    preAuthRef from the same payer."""
    if pas.request_key and eob.request_key and pas.request_key == eob.request_key:
        return True
    if pas.claim_ref and eob.claim_ref and pas.claim_ref.split("/_history/")[0] == eob.request_key:
        return True
    return bool(pas.pre_auth_ref and pas.pre_auth_ref == eob.pre_auth_ref and pas.payer_ref == eob.payer_ref)


def merge_answers(pas: list[Denial], eobs: list[Denial]) -> list[Denial]:
    """PAS answers plus the EOBs that answer a request no ClaimResponse answers; a PAS answer that has an EOB twin
    keeps a warning naming it (the ClaimResponse is the one used)."""
    kept = list(eobs)
    for answer in pas:
        twins = [e for e in eobs if same_request(answer, e)]
        for twin in twins:
            if twin in kept:
                kept.remove(twin)
            answer.warnings.append(
                f"The payer also posted this decision as {twin.claim_response_ref} (PDex); the ClaimResponse is used."
            )
    return pas + kept


def open_denials_with_eobs(
    claim_responses: list[dict[str, Any]], eobs: list[dict[str, Any]], resolve: Resolver
) -> tuple[list[Denial], list[str]]:
    """Denied, pended or unknown answers from ClaimResponses and PDex EOBs (one per request), newest first, and
    the messages for EOBs left out as unreadable."""
    answers, skipped = all_answers(claim_responses, eobs, resolve)
    return [d for d in answers if d.is_open or d.decision == "unknown"], skipped


def all_answers(
    claim_responses: list[dict[str, Any]], eobs: list[dict[str, Any]], resolve: Resolver
) -> tuple[list[Denial], list[str]]:
    """Every prior-authorization answer from both channels, one per request, newest first."""
    from_eobs, skipped = eob_answers(eobs, resolve)
    merged = merge_answers(prior_auth_answers(claim_responses, resolve), from_eobs)
    return sorted(merged, key=_timestamp, reverse=True), skipped
