"""Which practices the signed-in user belongs to: the organisations of their PractitionerRoles, as the EHR says."""

from __future__ import annotations

import pytest
import responses

from smart_app.errors import FhirReadError
from smart_app.fhir.client import FhirClient
from smart_app.fhir.membership import organization_names, user_organizations

BASE = "https://ehr.example/fhir"


def _role(role_id: str, org: str | None, *, active: bool = True) -> dict:
    role = {"resourceType": "PractitionerRole", "id": role_id, "active": active,
            "practitioner": {"reference": "Practitioner/u1"}}  # fmt: skip
    if org:
        role["organization"] = {"reference": org}
    return role


def _bundle(*roles: dict) -> dict:
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in roles]}  # fmt: skip


@responses.activate
def test_a_practitioners_active_roles_give_their_practices() -> None:
    responses.get(
        f"{BASE}/PractitionerRole",
        match=[responses.matchers.query_param_matcher({"practitioner": "Practitioner/u1", "_count": "100"})],
        json=_bundle(
            _role("r1", "Organization/a"),
            _role("r2", f"{BASE}/Organization/b"),  # absolute: cut to Organization/b
            _role("r3", "Organization/c", active=False),  # ended: not a practice of the user any more
            _role("r4", None),  # no organisation
            _role("r5", "Organization/a"),
        ),
    )
    assert user_organizations(FhirClient(BASE, "t"), "Practitioner/u1") == ["Organization/a", "Organization/b"]


@responses.activate
def test_a_practitioner_role_user_is_read_directly() -> None:
    responses.get(f"{BASE}/PractitionerRole/r9", json=_role("r9", "Organization/z"))
    assert user_organizations(FhirClient(BASE, "t"), "PractitionerRole/r9") == ["Organization/z"]


@pytest.mark.parametrize("user", [None, "", "Patient/p1", "RelatedPerson/x", "Practitioner/"])
def test_no_practitioner_means_no_practice_and_no_request(user: str | None) -> None:
    with responses.RequestsMock() as mocked:  # any request would fail the test
        assert user_organizations(FhirClient(BASE, "t"), user) == []
        assert len(mocked.calls) == 0


@responses.activate
def test_a_refused_search_is_an_error_not_an_empty_list() -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden",
                                                              "diagnostics": "scope does not allow it"}]}  # fmt: skip
    responses.get(f"{BASE}/PractitionerRole", status=403, json=outcome)
    with pytest.raises(FhirReadError, match="practices could not be read"):
        user_organizations(FhirClient(BASE, "t"), "Practitioner/u1")


@responses.activate
def test_roles_of_other_practitioners_are_never_trusted() -> None:
    """A server that ignores the ``practitioner`` parameter returns every role in the EHR."""
    someone_else = {**_role("r7", "Organization/other-practice"), "practitioner": {"reference": "Practitioner/u2"}}
    responses.get(f"{BASE}/PractitionerRole", json=_bundle(_role("r1", "Organization/a"), someone_else))
    assert user_organizations(FhirClient(BASE, "t"), "Practitioner/u1") == ["Organization/a"]


@responses.activate
def test_the_practices_names_are_read_in_one_request() -> None:
    responses.get(
        f"{BASE}/Organization",
        match=[responses.matchers.query_param_matcher({"_id": "a,b,c", "_count": "3"})],
        json={"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": {"resourceType": "Organization", "id": "a", "name": "Prairie Family Medicine"}},
            {"resource": {"resourceType": "Organization", "id": "b"}},  # no name: its reference is shown
            {"resource": {"resourceType": "Organization", "id": "zz", "name": "Not asked for"}},
        ]},
    )  # fmt: skip
    names = organization_names(FhirClient(BASE, "t"), ["Organization/c", "Organization/a", "Organization/b"])
    assert names == {"Organization/a": "Prairie Family Medicine"}
    assert len(responses.calls) == 1


@responses.activate
def test_unreadable_names_raise_a_read_error() -> None:
    responses.get(f"{BASE}/Organization", status=403, json={"resourceType": "OperationOutcome"})
    with pytest.raises(FhirReadError):
        organization_names(FhirClient(BASE, "t"), ["Organization/a"])
    assert organization_names(FhirClient(BASE, "t"), []) == {}
