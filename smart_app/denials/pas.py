"""Read a prior-authorization answer (Da Vinci PAS ClaimResponse, or plain R4) the way the payer wrote it.

PAS 2.x puts the decision per item in ``item.adjudication.extension(reviewAction).code`` (X12 306: A3 not
certified, A4 pended, ...). Real feeds differ: the review action may sit on the item itself (PAS 1.x and the
reference implementation until 2023), on ``addItem`` or on the header adjudication; ``outcome`` is
``complete`` for denials and pended answers alike, so it is never the decision by itself. The service and the
diagnoses live only on the Claim, joined by ``item.sequence``; the ordering provider and the Coverage come from
the Claim too, and the reviewer (PAS 2.2 ``claimResponseReviewer``) from the response's header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from smart_app.denials.codes import reason_display, review_action, review_action_systems
from smart_app.denials.provenance import answer_provenance
from smart_app.fhir.dates import parse_date, parse_datetime
from smart_app.fhir.facts import Code, codes_of, concept_text, display_name, role_organization
from smart_app.fhir.systems import SYSTEMS

PAS_SD = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
REVIEW_ACTION = PAS_SD + "extension-reviewAction"
REVIEW_ACTION_CODE = PAS_SD + "extension-reviewActionCode"
ADMIN_REFERENCE = PAS_SD + "extension-administrationReferenceNumber"
AUTHORIZATION_NUMBER = PAS_SD + "extension-authorizationNumber"
REVIEWER = PAS_SD + "extension-claimResponseReviewer"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
DRUG_SYSTEMS = frozenset({SYSTEMS["ndc"], SYSTEMS["rxnorm"]})
INPATIENT_PLACES = frozenset({"21", "51", "61"})  # CMS place of service: inpatient hospital, psychiatric, rehab
OPEN_DECISIONS = frozenset({"denied", "pended", "partial", "modified", "contact-payer", "rejected"})
ADVERSE_ORDER = (
    "denied",
    "rejected",
    "pended",
    "contact-payer",
    "unknown",  # an unrecognised code may be a denial: never let a certified item hide it
    "modified",
    "partial",
    "cancelled",
    "no-action",
    "approved",
)
# The reference implementation fills ``disposition`` with one word when it omits the review action.
DISPOSITION_WORDS = {"denied": "denied", "pending": "pended", "pended": "pended", "granted": "approved"}
DISPOSITION_WORDS |= {"approved": "approved", "partial": "partial"}

Resolver = Callable[[Any], dict[str, Any] | None]


@dataclass
class DenialItem:
    """One item's answer: the decision, its codes and words, and the service it was for."""

    sequence: int | None
    decision: str  # approved | partial | denied | pended | modified | cancelled | contact-payer | no-action | ...
    review_action: Code | None
    review_number: str | None
    reason_codes: list[Code]
    reason_text: list[str]
    service: Code | None
    quantity: str | None
    reference_number: str | None = None
    authorized_instead: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Provider:
    """The ordering physician as the request names them."""

    name: str | None
    npi: str | None
    specialty: Code | None
    phone: str | None
    reference: str | None
    organization: str | None = None  # the practice the request came from (``Organization/<id>``)


@dataclass(frozen=True)
class Reviewer:
    """Who reviewed the request for the payer (PAS ``claimResponseReviewer``)."""

    human_reviewed: bool | None
    npi: str | None
    specialty: Code | None


@dataclass(frozen=True)
class StatedWindow:
    """A P2P request window the payer's own letter states ("within 2 business days of this notice"): ``amount`` of
    ``unit`` (``hours``, ``calendar-days``, ``business-days``), the letter's ``words``, and the page they are on."""

    amount: int
    unit: str
    words: str
    page: int | None = None


@dataclass
class Denial:
    """A prior-authorization answer with the request it answers."""

    claim_response_id: str
    claim_response_ref: str | None
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
    insurer: dict[str, Any] | None = None
    coverage: dict[str, Any] | None = None
    plan_payer: dict[str, Any] | None = None
    ordering_provider: Provider | None = None
    reviewer: Reviewer | None = None
    request_key: str | None = None
    is_drug: bool = False
    setting: str | None = None  # inpatient | outpatient, from the place of service on the request
    updated_at: datetime | None = None  # meta.lastUpdated: breaks ties between answers decided at the same time
    requested_on: date | None = None  # Claim.created: the day time rules of a policy count back from
    entered_by_hand: bool = False
    from_letter: bool = False  # read from the payer's letter (a PDF or a scan), confirmed by a person
    letter_window: StatedWindow | None = None  # the P2P window the letter states: wins when stricter than the rules
    plan_type_hint: str | None = None
    state_hint: str | None = None
    # Where each brief field was read: an element path, a letter line, or "typed by hand" (``denials.provenance``).
    provenance: dict[str, str] = field(default_factory=dict)
    channel: str = "pas-claimresponse"  # pas-claimresponse | pdex-eob | letter | hand-entry | payer-api
    identifiers: list[str] = field(default_factory=list)  # the answer's own business identifiers (``identifier``)
    letter: Denial | None = None  # the payer's letter for this same decision, attached (``denials.same_decision``)

    @property
    def decision(self) -> str:
        """The answer as a whole: the most adverse item decision (denied > pended > partial > ... > approved)."""
        decisions = [item.decision for item in self.items] or ["unknown"]
        return next((d for d in ADVERSE_ORDER if d in decisions), decisions[0])

    @property
    def is_open(self) -> bool:
        """Whether the answer is a denial or pended (something a P2P or more documentation could change)."""
        return self.decision in OPEN_DECISIONS

    @property
    def reference_number(self) -> str | None:
        """The number to quote to the payer: the authorization number, else an item's reference or review number."""
        return self.pre_auth_ref or next(
            (i.reference_number or i.review_number for i in self.items if i.reference_number or i.review_number),
            None,
        )


def _extensions(element: Any, url: str) -> list[dict[str, Any]]:
    return [e for e in (element or {}).get("extension") or [] if isinstance(e, dict) and e.get("url") == url]


def _extension_value(ext: dict[str, Any]) -> str | None:
    """A number carried as ``valueIdentifier``, ``valueString``, or a nested sub-extension (PAS slices)."""
    value = (ext.get("valueIdentifier") or {}).get("value") or ext.get("valueString")
    if value:
        return str(value)
    return next(
        (v for sub in ext.get("extension") or [] if isinstance(sub, dict) for v in [_extension_value(sub)] if v), None
    )


def _review_action_ext(element: dict[str, Any]) -> dict[str, Any] | None:
    """The reviewAction extension on an item or addItem, its adjudications, or directly on it (PAS 1.x)."""
    for adjudication in element.get("adjudication") or []:
        found = _extensions(adjudication, REVIEW_ACTION)
        if found:
            return found[0]
    found = _extensions(element, REVIEW_ACTION)
    return found[0] if found else None


def _with_display(code: Code) -> Code:
    return code if code.display else Code(code.system, code.code, reason_display(code.system, code.code))


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
            reasons.extend(_with_display(c) for c in codes_of(sub.get("valueCodeableConcept")))
    return code, number, reasons


def _decision(code: Code | None, adjudications: list[dict[str, Any]]) -> str:
    if code and code.code:
        entry = review_action(code.code)
        return entry["decision"] if entry else "unknown"
    categories = {c.code for a in adjudications for c in codes_of(a.get("category"))}
    if "denied" in categories:  # plain R4 adjudication category, not PAS
        return "denied"
    return "unknown"


def _plain_reasons(adjudications: list[dict[str, Any]]) -> list[Code]:
    """``adjudication.reason`` of a plain R4 response (CARC and the like), with the table's words."""
    return [_with_display(c) for a in adjudications for c in codes_of(a.get("reason"))]


def _claim_items(claim: dict[str, Any] | None) -> dict[int, dict[str, Any]]:
    return {i["sequence"]: i for i in (claim or {}).get("item") or [] if isinstance(i, dict) and "sequence" in i}


def _notes_by_number(claim_response: dict[str, Any]) -> dict[int | None, str]:
    return {n.get("number"): n["text"] for n in claim_response.get("processNote") or [] if n.get("text")}


def _quantity(element: dict[str, Any] | None) -> str | None:
    quantity = (element or {}).get("quantity") or {}
    if quantity.get("value") is None:
        return None
    unit = quantity.get("unit") or quantity.get("code")
    return f"{quantity['value']} {unit}" if unit else str(quantity["value"])


def _authorized_instead(sequence: Any, add_items: list[dict[str, Any]]) -> list[str]:
    """What the payer authorized in place of item ``sequence`` (``addItem.itemSequence`` is an array in R4)."""
    found = []
    for add in add_items:
        if sequence in (add.get("itemSequence") or []):
            what = concept_text(add.get("productOrService")) or "an alternative service"
            quantity = _quantity(add)
            found.append(f"{what} × {quantity}" if quantity else what)
    return found


def _item(
    item: dict[str, Any],
    claim_items: dict[int, dict[str, Any]],
    notes: dict[int | None, str],
    header: tuple[Code | None, str | None, list[Code]],
    add_items: list[dict[str, Any]],
) -> DenialItem:
    code, number, reasons = _read_review_action(_review_action_ext(item))
    if code is None and header[0] is not None:  # PAS 2.1+: the decision may sit on the header adjudication only
        code, number, reasons = header[0], number or header[1], reasons or header[2]
    adjudications = [a for a in item.get("adjudication") or [] if isinstance(a, dict)]
    sequence = item.get("itemSequence")
    requested = claim_items.get(sequence) if isinstance(sequence, int) else None
    service_codes = codes_of((requested or item).get("productOrService"))
    ref_numbers = [
        _extension_value(e) for url in (AUTHORIZATION_NUMBER, ADMIN_REFERENCE) for e in _extensions(item, url)
    ]
    decision = _decision(code, adjudications)
    return DenialItem(
        sequence=sequence,
        decision=decision,
        review_action=code,
        review_number=number,
        reason_codes=reasons + _plain_reasons(adjudications),
        reason_text=[notes[n] for n in item.get("noteNumber") or [] if n in notes],
        service=service_codes[0] if service_codes else None,
        quantity=_quantity(requested),
        reference_number=next((r for r in ref_numbers if r), None),
        authorized_instead=_authorized_instead(sequence, add_items) if decision in ("modified", "partial") else [],
    )


def _new_items(add_items: list[dict[str, Any]], claim_items: dict[int, dict[str, Any]]) -> list[DenialItem]:
    """``addItem`` entries that answer no requested item: services the payer authorized on its own."""
    found = []
    for add in add_items:
        if any(s in claim_items for s in add.get("itemSequence") or []):
            continue
        code, number, reasons = _read_review_action(_review_action_ext(add))
        services = codes_of(add.get("productOrService"))
        found.append(
            DenialItem(
                None,
                _decision(code, add.get("adjudication") or []),
                code,
                number,
                reasons,
                [],
                services[0] if services else None,
                _quantity(add),
            )
        )
    return found


def _provider(reference: Any, resolve: Resolver) -> Provider | None:
    """The ordering provider from a Practitioner or PractitionerRole reference (specialty and phone on the role)."""
    resource = resolve(reference)
    if resource is None:
        display = (reference or {}).get("display") if isinstance(reference, dict) else None
        return Provider(display, None, None, None, None) if display else None
    role = resource if resource.get("resourceType") == "PractitionerRole" else None
    person = resolve(role.get("practitioner")) if role else resource
    text = display_name(person, with_prefix=True)
    npis = [i.get("value") for i in (person or {}).get("identifier") or [] if i.get("system") == NPI_SYSTEM]
    specialties = [c for s in (role or {}).get("specialty") or [] for c in codes_of(s)]
    phones = [t.get("value") for t in (role or person or {}).get("telecom") or [] if t.get("system") == "phone"]
    return Provider(
        name=text,
        npi=next((n for n in npis if n), None),
        specialty=specialties[0] if specialties else None,
        phone=next((p for p in phones if p), None),
        reference=(reference or {}).get("reference") if isinstance(reference, dict) else None,
        organization=_organization(reference, resource, role),
    )


def _organization(reference: Any, resource: dict[str, Any], role: dict[str, Any] | None) -> str | None:
    """The requesting organisation as ``Organization/<id>``: the provider itself when it is an Organization,
    else the role's."""
    if resource.get("resourceType") == "Organization":
        return f"Organization/{resource.get('id')}" if resource.get("id") else None
    return role_organization(role)


def _reviewer(claim_response: dict[str, Any]) -> Reviewer | None:
    found = _extensions(claim_response, REVIEWER)
    if not found:
        return None
    parts = {sub.get("url"): sub for sub in found[0].get("extension") or [] if isinstance(sub, dict)}
    specialty = codes_of((parts.get("reviewerSpecialty") or {}).get("valueCodeableConcept"))
    return Reviewer(
        human_reviewed=(parts.get("wasHumanReviewedFlag") or {}).get("valueBoolean"),
        npi=((parts.get("reviewerNPI") or {}).get("valueIdentifier") or {}).get("value"),
        specialty=specialty[0] if specialty else None,
    )


def _focal_coverage(claim: dict[str, Any] | None, claim_response: dict[str, Any], resolve: Resolver) -> Any:
    insurances = [i for i in (claim or claim_response).get("insurance") or [] if isinstance(i, dict)]
    focal = next((i for i in insurances if i.get("focal")), insurances[0] if insurances else None)
    return resolve((focal or {}).get("coverage"))


def _decision_from_words(claim_response: dict[str, Any]) -> str | None:
    """A decision from ``disposition`` or a ``queued`` outcome, for feeds that omit the review action."""
    word = (claim_response.get("disposition") or "").strip().lower().rstrip(".")
    if word in DISPOSITION_WORDS:
        return DISPOSITION_WORDS[word]
    if claim_response.get("outcome") == "queued":
        return "pended"
    return None


def _request_key(claim_response: dict[str, Any], claim: dict[str, Any] | None) -> str | None:
    request = claim_response.get("request") or {}
    if request.get("reference"):
        return str(request["reference"]).split("/_history/")[0]
    identifier = request.get("identifier") or {}
    if identifier.get("value"):
        return f"{identifier.get('system', '')}|{identifier['value']}"
    return f"Claim/{claim['id']}" if claim and claim.get("id") else None


def _contradictions(cr_id: str, claim_response: dict[str, Any], items: list[DenialItem]) -> list[str]:
    warnings = []
    said = _decision_from_words(claim_response)
    decided = {i.decision for i in items if i.decision != "unknown"}
    if said and decided and said not in decided:
        warnings.append(
            f"ClaimResponse/{cr_id} says '{claim_response.get('disposition')}' in its disposition but its review "
            f"action says {', '.join(sorted(decided))}; the review action is used — confirm with the payer."
        )
    if claim_response.get("outcome") == "error" and decided & {"approved", "partial", "modified"}:
        warnings.append(
            f"ClaimResponse/{cr_id} reports an error and also certifies items; confirm the decision with the payer."
        )
    return warnings


def _items_from(
    claim_response: dict[str, Any], claim: dict[str, Any] | None, notes: dict[int | None, str]
) -> list[DenialItem]:
    claim_items = _claim_items(claim)
    add_items = [a for a in claim_response.get("addItem") or [] if isinstance(a, dict)]
    header = _read_review_action(_review_action_ext({"adjudication": claim_response.get("adjudication") or []}))
    items = [
        _item(i, claim_items, notes, header, add_items) for i in claim_response.get("item") or [] if isinstance(i, dict)
    ]
    items += _new_items(add_items, claim_items)
    if not items and claim_response.get("outcome") == "error":
        errors = [_with_display(c) for e in claim_response.get("error") or [] for c in codes_of(e.get("code"))]
        items = [DenialItem(None, "rejected", None, None, errors, [], None, None)]
    if not items and header[0] is not None:
        items = [DenialItem(None, _decision(header[0], []), header[0], header[1], header[2], [], None, None)]
    fallback = _decision_from_words(claim_response)
    for item in items:
        if item.decision == "unknown" and fallback:
            item.decision = fallback
    if not items and fallback:
        items = [DenialItem(None, fallback, None, None, [], [], None, None)]
    requested = list(_claim_items(claim).values())
    if len(items) == 1 and items[0].service is None and len(requested) == 1:  # a header-only answer to one item
        services = codes_of(requested[0].get("productOrService"))
        items[0].service = services[0] if services else None
        items[0].sequence = requested[0].get("sequence")
    return items


def _warnings(
    cr_id: str, claim_response: dict[str, Any], claim: dict[str, Any] | None, items: list[DenialItem]
) -> list[str]:
    warnings: list[str] = []
    if claim is None:
        warnings.append(
            f"The prior-authorization request (Claim) for ClaimResponse/{cr_id} is not in the chart; "
            "the service and diagnoses come from the response alone."
        )
    elif any(i.service is None or i.service.code is None for i in items if i.sequence is not None):
        warnings.append(
            f"The request {claim.get('resourceType', 'Claim')}/{claim.get('id')} has no service code for an item, "
            "so no policy can be matched to it; name the service from the payer's letter."
        )
    if not items:
        warnings.append(f"ClaimResponse/{cr_id} has no item decisions; check the payer's letter for the decision.")
    elif all(i.decision == "unknown" for i in items):
        warnings.append(
            f"ClaimResponse/{cr_id} carries no review action the app recognises; "
            "check the payer's letter for the decision."
        )
    if items and not any(i.review_action for i in items) and _decision_from_words(claim_response):
        warnings.append(
            f"ClaimResponse/{cr_id} has no review action code; the decision was read from its "
            f"{'disposition' if claim_response.get('disposition') else 'outcome'}."
        )
    if parse_datetime(claim_response.get("created")) is None:
        warnings.append(f"ClaimResponse/{cr_id} has no decision date; take it from the payer's letter.")
    return warnings + _contradictions(cr_id, claim_response, items)


def read_denial(claim_response: dict[str, Any], resolve: Resolver) -> Denial:
    """Read one ClaimResponse, joining its Claim, Coverage, payer and providers through ``resolve``."""
    cr_id = str(claim_response.get("id"))
    claim = resolve(claim_response.get("request"))
    claim_ref = (claim_response.get("request") or {}).get("reference")
    notes = _notes_by_number(claim_response)
    items = _items_from(claim_response, claim, notes)
    insurer = resolve(claim_response.get("insurer"))
    coverage = _focal_coverage(claim, claim_response, resolve)
    payors = (coverage or {}).get("payor") or []
    diagnoses = [
        c for d in (claim or {}).get("diagnosis") or [] for c in codes_of(d.get("diagnosisCodeableConcept"))[:1]
    ]
    claim_type = {c.code for c in codes_of((claim or {}).get("type"))}
    return Denial(
        claim_response_id=cr_id,
        claim_response_ref=f"ClaimResponse/{cr_id}",
        claim_ref=claim_ref,
        decided_at=parse_datetime(claim_response.get("created")),
        outcome=claim_response.get("outcome"),
        disposition=claim_response.get("disposition"),
        pre_auth_ref=claim_response.get("preAuthRef")
        or next((_extension_value(e) for e in _extensions(claim_response, AUTHORIZATION_NUMBER)), None),
        payer_name=(insurer or {}).get("name") or (claim_response.get("insurer") or {}).get("display"),
        payer_ref=(claim_response.get("insurer") or {}).get("reference"),
        patient_ref=(claim_response.get("patient") or {}).get("reference"),
        items=items,
        diagnoses=diagnoses,
        notes=list(notes.values()),
        warnings=_warnings(cr_id, claim_response, claim, items),
        insurer=insurer or ({"name": payer_display(claim_response)} if payer_display(claim_response) else None),
        coverage=coverage,
        plan_payer=resolve(payors[0]) if payors else None,
        ordering_provider=_provider(
            (claim or claim_response).get("provider") or claim_response.get("requestor"), resolve
        ),
        reviewer=_reviewer(claim_response),
        request_key=_request_key(claim_response, claim),
        setting=_setting(claim),
        updated_at=parse_datetime((claim_response.get("meta") or {}).get("lastUpdated")),
        requested_on=parse_date((claim or {}).get("created")),
        is_drug="pharmacy" in claim_type or any(i.service and i.service.system in DRUG_SYSTEMS for i in items),
        provenance=answer_provenance(claim_response, claim),
        identifiers=identifier_values(claim_response),
    )


def identifier_values(answer: dict[str, Any]) -> list[str]:
    """The values of an answer's ``identifier`` (the payer's own number for it, often printed on its letter)."""
    return [str(i["value"]) for i in answer.get("identifier") or [] if isinstance(i, dict) and i.get("value")]


def _setting(claim: dict[str, Any] | None) -> str | None:
    """``inpatient`` when an item's place of service is inpatient (POS 21, 51, 61), ``outpatient`` for any other
    stated place, None when the request states none."""
    if claim is None:
        return None
    items = [i for i in claim.get("item") or [] if isinstance(i, dict)]
    places = {c.code for i in items for c in codes_of(i.get("locationCodeableConcept")) if c.code}
    if not places:
        return None  # unknown: every setting's window is a candidate and the earliest wins
    return "inpatient" if places & INPATIENT_PLACES else "outpatient"


def payer_display(claim_response: dict[str, Any]) -> str | None:
    """The insurer's display text on the response's reference, when there is one."""
    return (claim_response.get("insurer") or {}).get("display")


def _newest_per_request(denials: list[Denial]) -> list[Denial]:
    """A pended answer followed by a final one for the same request: keep the newest (PAS subscriptions).

    Ties on the decision time are broken by ``meta.lastUpdated``, then a final answer beats a pended one.
    """
    latest: dict[str, Denial] = {}
    alone: list[Denial] = []
    for denial in denials:
        if denial.request_key is None:
            alone.append(denial)
            continue
        kept = latest.get(denial.request_key)
        if kept is None or _recency(denial) > _recency(kept):
            latest[denial.request_key] = denial
    return alone + list(latest.values())


def _recency(denial: Denial) -> tuple[float, float, int]:
    updated = denial.updated_at.timestamp() if denial.updated_at and denial.updated_at.tzinfo else 0.0
    return (_timestamp(denial), updated, 0 if denial.decision == "pended" else 1)


def _timestamp(denial: Denial) -> float:
    if denial.decided_at is None:
        return 0.0
    if denial.decided_at.tzinfo is None:  # a date without a time: its day, in UTC for ordering only
        return denial.decided_at.replace(tzinfo=UTC).timestamp()
    return denial.decided_at.timestamp()


def prior_auth_answers(claim_responses: list[dict[str, Any]], resolve: Resolver) -> list[Denial]:
    """Every prior-authorization answer (``use`` other than preauthorization skipped), newest per request first."""
    denials = [read_denial(cr, resolve) for cr in claim_responses if cr.get("use") in (None, "preauthorization")]
    return sorted(_newest_per_request(denials), key=_timestamp, reverse=True)


def open_denials(claim_responses: list[dict[str, Any]], resolve: Resolver) -> list[Denial]:
    """Denied, rejected or pended prior-authorization answers, newest first; a request later certified drops out."""
    return [d for d in prior_auth_answers(claim_responses, resolve) if d.is_open or d.decision == "unknown"]


def service_text(denial: Denial) -> str:
    """The denied service in words, e.g. ``CPT 72148 MRI lumbar spine without contrast``."""
    services = [i.service for i in denial.items if i.service]
    if not services:
        return "Service not stated"
    s = services[0]
    return " ".join(p for p in (s.system_name, s.code, s.display) if p)
