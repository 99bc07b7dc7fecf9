"""Whose denial is it in the EHR? A decision read from a payer's own API names the payer's member (its own Patient
id, its Coverage); the practice's chart is the EHR's. The two are matched by the member ID and the birth date, both
required: the EHR's Coverages carrying that member ID (``Coverage?identifier=``), their beneficiaries, and of those
the one born that day. None, or more than one (a duplicate chart, twins on one family ID), is refused with the
reason and listed, never guessed. A member ID is unique only within its payer: a Coverage whose payor the app
recognises as another payer (``criteria/payers.yaml``) is no match, so another plan's member who shares the number
and the birthday is never taken (a payor the app cannot tell is kept: the ID and birth date still decide). The
practice is matched the same way, by the NPI the payer names for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smart_app.denials.payers import recognise
from smart_app.errors import FhirReadError
from smart_app.fhir.chart import Chart
from smart_app.fhir.client import FhirClient
from smart_app.fhir.facts import codes_of, display_name

MEMBER_TYPE = "MB"  # http://terminology.hl7.org/CodeSystem/v2-0203#MB Member Number
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"


@dataclass(frozen=True)
class Member:
    """The payer's member as the payer's record names them (no name: the ID and birth date are what match)."""

    payer_patient: str  # the payer's own ``Patient/<id>``
    member_id: str | None
    birth_date: str | None


@dataclass(frozen=True)
class MemberMatch:
    """The EHR patient a member is, or why none is taken."""

    patient_id: str | None
    refusal: str | None = None
    patient_name: str | None = None  # as the EHR's chart writes it (the worklist shows the chart's name)


def _member_ids(resource: dict[str, Any] | None) -> list[str]:
    return [
        str(i["value"])
        for i in (resource or {}).get("identifier") or []
        if isinstance(i, dict) and i.get("value") and any(c.code == MEMBER_TYPE for c in codes_of(i.get("type")))
    ]


def member_of(answer: dict[str, Any], chart: Chart) -> Member:
    """The member an EOB or ClaimResponse is about: the member ID from its Coverage (``insurance.coverage``, then
    ``subscriberId`` of a self-subscriber), else from the payer's Patient; the birth date from that Patient."""
    patient = chart.resolve(answer.get("patient")) or {}
    insurances = [i for i in answer.get("insurance") or [] if isinstance(i, dict)]
    focal = next((i for i in insurances if i.get("focal")), insurances[0] if insurances else {})
    coverage = chart.resolve(focal.get("coverage")) or {}
    ids = _member_ids(coverage) or _member_ids(patient)
    if not ids and coverage.get("subscriberId") and coverage.get("subscriber") == coverage.get("beneficiary"):
        ids = [str(coverage["subscriberId"])]
    reference = str((answer.get("patient") or {}).get("reference") or "Patient/?")
    return Member(reference, ids[0] if ids else None, patient.get("birthDate"))


def _payor_ids(coverages: list[dict[str, Any]]) -> list[str]:
    refs = (str(p.get("reference") or "") for c in coverages for p in c.get("payor") or [] if isinstance(p, dict))
    return sorted({ref.split("/", 1)[1] for ref in refs if ref.startswith("Organization/")})


def _other_payers(coverage: dict[str, Any], orgs: dict[str, dict[str, Any]], payer_key: str | None) -> bool:
    """Whether the Coverage is with a payer the app recognises as another than ``payer_key``."""
    if not payer_key:
        return False
    for payor in coverage.get("payor") or []:
        ref = str((payor or {}).get("reference") or "")
        org = orgs.get(ref.split("/", 1)[1]) if ref.startswith("Organization/") else None
        known = recognise(org or {"name": (payor or {}).get("display")})
        if known is not None and known.key != payer_key:
            return True
    return False


def match_members(ehr: FhirClient, members: list[Member], *, payer_key: str | None = None) -> dict[Member, MemberMatch]:
    """Each member's patient in the EHR, by member ID and birth date, on a Coverage not with another payer than
    ``payer_key``; two bursts in all (Coverages by member ID, then their beneficiaries and payors). A failed search
    raises ``FhirReadError``: nothing is matched by half."""
    ids = sorted({m.member_id for m in members if m.member_id})
    coverages = _search_all(ehr, {f"c{i}": ("Coverage", {"identifier": v, "_count": "50"}) for i, v in enumerate(ids)})
    beneficiaries = {str((c.get("beneficiary") or {}).get("reference") or "") for c in coverages}
    patient_ids = sorted(b.split("/", 1)[1] for b in beneficiaries if b.startswith("Patient/"))
    payor_ids = _payor_ids(coverages) if payer_key else []
    queries = {f"p{i}": ("Patient", {"_id": ",".join(patient_ids[i : i + 50])}) for i in range(0, len(patient_ids), 50)}
    queries |= {
        f"o{i}": ("Organization", {"_id": ",".join(payor_ids[i : i + 50])}) for i in range(0, len(payor_ids), 50)
    }
    found = _search_all(ehr, queries)
    orgs = {str(r.get("id")): r for r in found if r.get("resourceType") == "Organization"}
    holders: dict[str, set[str]] = {}
    for coverage in coverages:
        beneficiary = str((coverage.get("beneficiary") or {}).get("reference") or "")
        if beneficiary.startswith("Patient/") and not _other_payers(coverage, orgs, payer_key):
            for member_id in set(_member_ids(coverage) + [str(coverage.get("subscriberId") or "")]) & set(ids):
                holders.setdefault(member_id, set()).add(beneficiary.split("/", 1)[1])
    patients = [r for r in found if r.get("resourceType") == "Patient"]
    born = {str(p.get("id")): p.get("birthDate") for p in patients}
    names = {str(p.get("id")): display_name(p) for p in patients}
    return {m: _match(m, holders.get(m.member_id or "", set()), born, names) for m in members}


def _match(member: Member, holders: set[str], born: dict[str, Any], names: dict[str, str | None]) -> MemberMatch:
    if not member.member_id or not member.birth_date:
        missing = "member ID" if not member.member_id else "birth date"
        return MemberMatch(None, f"the payer's record gives no {missing}, so it cannot be matched to a chart")
    same = sorted(p for p in holders if born.get(p) == member.birth_date)
    if not same:
        return MemberMatch(None, "no patient in the EHR has this member ID and birth date")
    if len(same) > 1:
        charts = ", ".join(f"Patient/{p}" for p in same)
        return MemberMatch(None, f"{len(same)} patients in the EHR ({charts}) have this member ID and birth date")
    return MemberMatch(same[0], patient_name=names.get(same[0]))


def practices_by_npi(ehr: FhirClient, npis: set[str]) -> dict[str, str | None]:
    """The EHR's ``Organization/<id>`` for each NPI, or None when no single Organization carries it."""
    queries = {n: ("Organization", {"identifier": f"{NPI_SYSTEM}|{n}"}) for n in sorted(npis)}
    results = ehr.search_all(queries)
    found: dict[str, str | None] = {}
    for npi, result in results.items():
        if result.error:
            raise FhirReadError(f"the EHR's Organizations could not be searched ({result.error})")
        orgs = [r for r in result.resources if r.get("resourceType") == "Organization"]
        found[npi] = f"Organization/{orgs[0]['id']}" if len(orgs) == 1 else None
    return found


def npi_of(resource: dict[str, Any] | None) -> str | None:
    """The NPI an Organization (or Practitioner) carries."""
    return next(
        (str(i["value"]) for i in (resource or {}).get("identifier") or []
         if isinstance(i, dict) and i.get("system") == NPI_SYSTEM and i.get("value")),
        None,
    )  # fmt: skip


def _search_all(ehr: FhirClient, queries: dict[str, tuple[str, dict[str, str]]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for result in ehr.search_all(queries).values():
        if result.error:
            raise FhirReadError(f"the EHR could not be searched for the payer's members ({result.error})")
        found.extend(result.resources)
    return found
