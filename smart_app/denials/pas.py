"""Read a prior-authorization answer (Da Vinci PAS ClaimResponse, or plain R4) the way the payer wrote it.

PAS 2.x puts the decision per item in ``item.adjudication.extension(reviewAction).code`` (X12 306: A3 not
certified, A4 pended, ...). Real feeds differ: the review action may sit on the item itself (PAS 1.x and the
reference implementation until 2023), on ``addItem`` or on the header adjudication; ``outcome`` is
``complete`` for denials and pended answers alike, so it is never the decision by itself. The service and the
diagnoses live only on the Claim, joined by ``item.sequence``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smart_app.denials.codes import review_action, review_action_systems
from smart_app.fhir.dates import parse_datetime
from smart_app.fhir.facts import Code, codes_of

PAS_SD = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
REVIEW_ACTION = PAS_SD + "extension-reviewAction"
REVIEW_ACTION_CODE = PAS_SD + "extension-reviewActionCode"
ADMIN_REFERENCE = PAS_SD + "extension-administrationReferenceNumber"
REASON_SYSTEM_886 = "https://codesystem.x12.org/external/886"
OPEN_DECISIONS = frozenset({"denied", "pended", "partial", "modified", "contact-payer"})

Resolver = Callable[[Any], dict[str, Any] | None]


@dataclass
class DenialItem:
    """One item's answer: the decision, its codes and words, and the service it was for."""

    sequence: int | None
    decision: str  # approved | partial | denied | pended | modified | cancelled | contact-payer | no-action | unknown
    review_action: Code | None
    review_number: str | None
    reason_codes: list[Code]
    reason_text: list[str]
    service: Code | None
    quantity: str | None
    reference_number: str | None = None


@dataclass
class Denial:
    """A prior-authorization answer with the request it answers."""

    claim_response_id: str
    claim_response_ref: str
    claim_ref: str | None
    decided_at: datetime | None
    outcome: str | None
    disposition: str | None
    pre_auth_ref: str | None
    payer_name: str | None
    payer_ref: str | None
    patient_ref: str | None
    items: list[DenialItem]
    diagnoses: list[Code]
    notes: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def decision(self) -> str:
        """The answer as a whole: the most adverse item decision (denied > pended > partial > ... > approved)."""
        order = ["denied", "pended", "contact-payer", "modified", "partial", "cancelled", "no-action", "approved"]
        decisions = [item.decision for item in self.items] or ["unknown"]
        return next((d for d in order if d in decisions), decisions[0])

    @property
    def is_open(self) -> bool:
        """Whether the answer is a denial or pended (something a P2P or more documentation could change)."""
        return self.decision in OPEN_DECISIONS


def _extensions(element: Any, url: str) -> list[dict[str, Any]]:
    return [e for e in (element or {}).get("extension") or [] if isinstance(e, dict) and e.get("url") == url]


def _review_action_ext(element: dict[str, Any]) -> dict[str, Any] | None:
    """The reviewAction extension on an item or addItem, its adjudications, or directly on it (PAS 1.x)."""
    for adjudication in element.get("adjudication") or []:
        found = _extensions(adjudication, REVIEW_ACTION)
        if found:
            return found[0]
    found = _extensions(element, REVIEW_ACTION)
    return found[0] if found else None


def _read_review_action(ext: dict[str, Any] | None) -> tuple[Code | None, str | None, list[Code]]:
    if not ext:
        return None, None, []
    code: Code | None = None
    number = None
    reasons: list[Code] = []
    for sub in ext.get("extension") or []:
        url = sub.get("url")
        if url in (REVIEW_ACTION_CODE, "code", "reviewActionCode"):
            codes = [c for c in codes_of(sub.get("valueCodeableConcept")) if c.system in review_action_systems()]
            code = codes[0] if codes else None
        elif url == "number":
            number = sub.get("valueString")
        elif url == "reasonCode":
            reasons.extend(codes_of(sub.get("valueCodeableConcept")))
    return code, number, reasons


def _decision(code: Code | None, adjudications: list[dict[str, Any]]) -> str:
    if code and code.code:
        entry = review_action(code.code)
        return entry["decision"] if entry else "unknown"
    categories = {c.code for a in adjudications for c in codes_of(a.get("category"))}
    if "denied" in categories:  # plain R4 adjudication category, not PAS
        return "denied"
    return "unknown"


def _claim_items(claim: dict[str, Any] | None) -> dict[int, dict[str, Any]]:
    return {i["sequence"]: i for i in (claim or {}).get("item") or [] if isinstance(i, dict) and "sequence" in i}


def _notes_by_number(claim_response: dict[str, Any]) -> dict[int | None, str]:
    return {n.get("number"): n["text"] for n in claim_response.get("processNote") or [] if n.get("text")}


def _item(item: dict[str, Any], claim_items: dict[int, dict[str, Any]], notes: dict[int | None, str]) -> DenialItem:
    code, number, reasons = _read_review_action(_review_action_ext(item))
    sequence = item.get("itemSequence")
    requested = claim_items.get(sequence) if isinstance(sequence, int) else None
    service_codes = codes_of((requested or {}).get("productOrService"))
    quantity = (requested or {}).get("quantity") or {}
    ref_numbers = [
        e.get("valueIdentifier", {}).get("value") or e.get("valueString") for e in _extensions(item, ADMIN_REFERENCE)
    ]
    return DenialItem(
        sequence=sequence,
        decision=_decision(code, item.get("adjudication") or []),
        review_action=code,
        review_number=number,
        reason_codes=reasons,
        reason_text=[notes[n] for n in item.get("noteNumber") or [] if n in notes],
        service=service_codes[0] if service_codes else None,
        quantity=str(quantity.get("value")) if quantity.get("value") is not None else None,
        reference_number=next((r for r in ref_numbers if r), None),
    )


def read_denial(claim_response: dict[str, Any], resolve: Resolver) -> Denial:
    """Read one ClaimResponse, joining its Claim and payer through ``resolve`` (a Chart's reference resolver)."""
    cr_id = str(claim_response.get("id"))
    warnings: list[str] = []
    claim = resolve(claim_response.get("request"))
    claim_ref = (claim_response.get("request") or {}).get("reference")
    if claim is None:
        warnings.append(
            f"The prior-authorization request (Claim) for ClaimResponse/{cr_id} is not in the chart; "
            "the service and diagnoses come from the response alone."
        )
    notes = _notes_by_number(claim_response)
    claim_items = _claim_items(claim)
    items = [_item(i, claim_items, notes) for i in claim_response.get("item") or [] if isinstance(i, dict)]
    if not items and claim_response.get("outcome") == "error":
        items = [
            DenialItem(
                None,
                "denied",
                None,
                None,
                [c for e in claim_response.get("error") or [] for c in codes_of(e.get("code"))],
                [],
                None,
                None,
            )
        ]
    if items and all(i.decision == "unknown" for i in items):
        warnings.append(
            f"ClaimResponse/{cr_id} carries no review action the app recognises; "
            "check the payer's letter for the decision."
        )
    insurer = resolve(claim_response.get("insurer"))
    diagnoses = [
        c for d in (claim or {}).get("diagnosis") or [] for c in codes_of(d.get("diagnosisCodeableConcept"))[:1]
    ]
    return Denial(
        claim_response_id=cr_id,
        claim_response_ref=f"ClaimResponse/{cr_id}",
        claim_ref=claim_ref if claim is not None or claim_ref else None,
        decided_at=parse_datetime(claim_response.get("created")),
        outcome=claim_response.get("outcome"),
        disposition=claim_response.get("disposition"),
        pre_auth_ref=claim_response.get("preAuthRef"),
        payer_name=(insurer or {}).get("name") or (claim_response.get("insurer") or {}).get("display"),
        payer_ref=(claim_response.get("insurer") or {}).get("reference"),
        patient_ref=(claim_response.get("patient") or {}).get("reference"),
        items=items,
        diagnoses=diagnoses,
        notes=list(notes.values()),
        warnings=warnings,
    )


def open_denials(claim_responses: list[dict[str, Any]], resolve: Resolver) -> list[Denial]:
    """Denied or pended prior-authorization answers, newest first (``use`` other than preauthorization skipped)."""
    denials = [read_denial(cr, resolve) for cr in claim_responses if cr.get("use") in (None, "preauthorization")]
    open_ones = [d for d in denials if d.is_open or d.decision == "unknown"]
    return sorted(open_ones, key=lambda d: d.decided_at.timestamp() if d.decided_at else 0, reverse=True)


def service_text(denial: Denial) -> str:
    """The denied service in words, e.g. ``CPT 72148 MRI lumbar spine without contrast``."""
    services = [i.service for i in denial.items if i.service]
    if not services:
        return "Service not stated"
    s = services[0]
    return " ".join(p for p in (s.system_name, s.code, s.display) if p)
