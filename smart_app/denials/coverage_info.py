"""What the payer said about the order before it was requested: Da Vinci CRD's coverage-information extension.

A CRD server answers an order-sign or order-dispatch hook by annotating the order (ServiceRequest,
MedicationRequest, DeviceRequest, ...) with ``ext-coverage-information``: whether it is covered, whether prior
authorization is needed, the ``coverage-assertion-id`` that traces the assertion at the payer, and ``detail``
name-value pairs, one of which (code ``policy-link``) is "a URL pointing to the specific portion of a payer policy
... that provides a portion of the basis for the decision" (HL7/davinci-crd@2bfabc1,
input/fsh/extensions/CoverageInformation.fsh and input/fsh/codesystems/CRDTempCodes.fsh; CRD STU 2.2.1). The
brief links that policy section, and the letter of medical necessity cites it with the assertion id.

The order is found from the PAS Claim item's ``requestedService`` (and ``Claim.referral`` / ``prescription``);
failing that, any order in the chart for the denied service's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from smart_app.denials.pas import Denial
from smart_app.fhir.chart import Chart
from smart_app.fhir.dates import parse_date
from smart_app.fhir.facts import Code, codes_of

COVERAGE_INFORMATION = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
REQUESTED_SERVICE = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-requestedService"
POLICY_LINK = "policy-link"  # in CRD's temporary code system and in THO's crd-coverage-detail
ORDER_TYPES = ("ServiceRequest", "MedicationRequest", "DeviceRequest")
ORDER_CODE_ELEMENTS = ("code", "medicationCodeableConcept", "codeCodeableConcept")
COVERED_WORDS = {
    "covered": "covered",
    "not-covered": "not covered",
    "conditional": "covered on conditions",
    "indeterminate": "could not be determined",
}
PA_WORDS = {
    "auth-needed": "prior authorization needed",
    "performpa": "prior authorization needed (by the performing provider)",
    "no-auth": "no prior authorization needed",
    "satisfied": "prior authorization already satisfied",
    "conditional": "prior authorization depends on more information",
    "indeterminate": "prior authorization could not be determined",
}


@dataclass(frozen=True)
class PolicyLink:
    """A policy section the payer named for this order, with the words the payer put beside it."""

    url: str
    note: str | None


@dataclass(frozen=True)
class CoverageAssertion:
    """One CRD coverage assertion on an order."""

    order: str  # ``ServiceRequest/<id>``
    assertion_id: str | None
    asserted_on: date | None
    covered: str | None
    pa_needed: str | None
    policy_links: tuple[PolicyLink, ...]
    reasons: tuple[str, ...]
    billing_codes: tuple[Code, ...]
    satisfied_pa_id: str | None
    expires_on: date | None

    def as_dict(self) -> dict[str, Any]:
        """The brief JSON shape (``coverageAssertions`` entries)."""
        return {
            "order": self.order,
            "assertionId": self.assertion_id,
            "date": self.asserted_on.isoformat() if self.asserted_on else None,
            "covered": self.covered,
            "coveredText": COVERED_WORDS.get(self.covered or ""),
            "paNeeded": self.pa_needed,
            "paNeededText": PA_WORDS.get(self.pa_needed or ""),
            "policyLinks": [{"url": link.url, "note": link.note} for link in self.policy_links],
            "reasons": list(self.reasons),
            "billingCodes": [code.as_dict() for code in self.billing_codes],
            "satisfiedPaId": self.satisfied_pa_id,
            "expires": self.expires_on.isoformat() if self.expires_on else None,
        }


def _subs(extension: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [s for s in extension.get("extension") or [] if isinstance(s, dict) and s.get("url") == url]


def _value(extension: dict[str, Any], url: str, key: str) -> Any:
    found = _subs(extension, url)
    return found[0].get(key) if found else None


def _policy_link(detail: dict[str, Any]) -> PolicyLink | None:
    codes = codes_of(_value(detail, "code", "valueCodeableConcept"))
    url = _value(detail, "value", "valueUrl") or _value(detail, "value", "valueUri")
    if not any(c.code == POLICY_LINK for c in codes) or not isinstance(url, str) or not url.startswith("http"):
        return None  # only a web link is offered to the physician: never a relative or script URL
    note = _value(detail, "qualification", "valueString")
    return PolicyLink(url=url, note=note if isinstance(note, str) else None)


def _reason(extension: dict[str, Any]) -> str | None:
    concept = extension.get("valueCodeableConcept") or {}
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    return next((c.display or c.code for c in codes_of(concept) if c.display or c.code), None)


def assertions_on(order: dict[str, Any]) -> list[CoverageAssertion]:
    """Every CRD coverage assertion on one order resource."""
    ref = f"{order.get('resourceType')}/{order.get('id')}"
    found = []
    for ext in order.get("extension") or []:
        if not isinstance(ext, dict) or ext.get("url") != COVERAGE_INFORMATION:
            continue
        links = [_policy_link(d) for d in _subs(ext, "detail")]
        reasons = [_reason(r) for r in _subs(ext, "reason")]
        found.append(
            CoverageAssertion(
                order=ref,
                assertion_id=_value(ext, "coverage-assertion-id", "valueString"),
                asserted_on=parse_date(_value(ext, "date", "valueDate")),
                covered=_value(ext, "covered", "valueCode"),
                pa_needed=_value(ext, "pa-needed", "valueCode"),
                policy_links=tuple(link for link in links if link is not None),
                reasons=tuple(r for r in reasons if r),
                billing_codes=tuple(
                    c for b in _subs(ext, "billingCode") for c in codes_of({"coding": [b.get("valueCoding")]})
                ),
                satisfied_pa_id=_value(ext, "satisfied-pa-id", "valueString"),
                expires_on=parse_date(_value(ext, "expiry-date", "valueDate")),
            )
        )
    return found


def _order_codes(order: dict[str, Any]) -> set[tuple[str | None, str | None]]:
    return {(c.system, c.code) for key in ORDER_CODE_ELEMENTS for c in codes_of(order.get(key))}


def _orders_named_by_claim(denial: Denial, chart: Chart) -> list[dict[str, Any]]:
    claim = chart.resolve(denial.claim_ref) if denial.claim_ref else None
    if not claim:
        return []
    denied = {item.sequence for item in denial.items if item.decision != "approved"}
    refs = [claim.get("referral"), claim.get("prescription"), claim.get("originalPrescription")]
    for item in claim.get("item") or []:
        if denied and item.get("sequence") not in denied:
            continue
        refs += [e.get("valueReference") for e in item.get("extension") or [] if e.get("url") == REQUESTED_SERVICE]
    orders = [chart.resolve(ref, container=claim) for ref in refs if ref]
    return [o for o in orders if o and o.get("resourceType") in ORDER_TYPES]


def _orders_for_service(denial: Denial, chart: Chart) -> list[dict[str, Any]]:
    wanted = {(i.service.system, i.service.code) for i in denial.items if i.service and i.decision != "approved"}
    return [order for kind in ORDER_TYPES for order in chart.of_type(kind) if wanted & _order_codes(order)]


def coverage_assertions(denial: Denial, chart: Chart) -> list[CoverageAssertion]:
    """The CRD coverage assertions on the order(s) the denied request was for (none when the orders carry none)."""
    orders = _orders_named_by_claim(denial, chart)
    found = [a for order in orders for a in assertions_on(order)]
    if not found:
        found = [a for order in _orders_for_service(denial, chart) for a in assertions_on(order)]
    unique: dict[tuple[str, str | None], CoverageAssertion] = {}
    for assertion in found:
        unique.setdefault((assertion.order, assertion.assertion_id), assertion)
    return list(unique.values())
