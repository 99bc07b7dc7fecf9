"""Which practices the signed-in user belongs to, as the EHR says: the organisations of their PractitionerRoles.

The worklist lists cases from the app's own table, so the EHR's own access checks do not apply to it; this is what
keeps a user of one practice from seeing another practice's cases in a shared EHR.
"""

from __future__ import annotations

from smart_app.errors import FhirReadError
from smart_app.fhir.client import FhirClient
from smart_app.fhir.facts import display_name, role_organization

ROLE_PAGE = "100"


def user_organizations(client: FhirClient, fhir_user: str | None) -> list[str]:
    """``Organization/<id>`` of each active PractitionerRole of the user (``fhirUser`` a Practitioner or a
    PractitionerRole); empty when the user is neither or the EHR lists no role. Raises ``FhirReadError`` when the
    EHR cannot be asked."""
    kind, _, ident = (fhir_user or "").partition("/")
    if kind == "PractitionerRole" and ident:
        roles = [client.read("PractitionerRole", ident)]
    elif kind == "Practitioner" and ident:
        result = client.search("PractitionerRole", {"practitioner": f"Practitioner/{ident}", "_count": ROLE_PAGE})
        if result.error:
            raise FhirReadError(f"the user's practices could not be read: {result.error}")
        roles = result.resources
    else:
        return []
    found = {
        org
        for role in roles
        if isinstance(role, dict)
        and role.get("resourceType") == "PractitionerRole"
        and role.get("active") is not False
        and (kind == "PractitionerRole" or _names_practitioner(role, ident))
        for org in [role_organization(role)]
        if org
    }
    return sorted(found)


def organization_names(client: FhirClient, references: list[str]) -> dict[str, str]:
    """The name of each readable ``Organization/<id>`` in ``references``, asked in one search
    (``Organization?_id=a,b``); an organisation the EHR does not return, or returns without a name, is absent, so
    the caller shows its reference instead. Raises ``FhirReadError`` when the EHR cannot be asked."""
    ids = sorted({ref.partition("/")[2] for ref in references if ref.startswith("Organization/")})
    if not ids:
        return {}
    result = client.search("Organization", {"_id": ",".join(ids), "_count": str(len(ids))})
    if result.error:
        raise FhirReadError(f"the practices' names could not be read: {result.error}")
    return {
        f"Organization/{org['id']}": name
        for org in result.resources
        if isinstance(org, dict) and org.get("resourceType") == "Organization" and org.get("id") in ids
        for name in [display_name(org)]
        if name
    }


def _names_practitioner(role: dict[str, object], ident: str) -> bool:
    """Whether the role is the user's own: a server that ignores the ``practitioner`` parameter returns every
    role in the EHR, and trusting them would open every practice's worklist."""
    link = role.get("practitioner")
    target = link.get("reference") if isinstance(link, dict) else None
    parts = str(target).rstrip("/").split("/") if isinstance(target, str) else []
    return len(parts) >= 2 and parts[-2] == "Practitioner" and parts[-1] == ident
