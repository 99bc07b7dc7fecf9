"""SMART scope parsing and the access decisions built on it (table-driven)."""

from __future__ import annotations

import pytest

from smart_app.sandbox.scopes import Access, grantable, parse_scope

SERVED = ["Patient", "Condition", "DocumentReference", "Encounter"]
ALVAREZ_CONDITION = {"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/pat-alvarez"}}
BROOKS_CONDITION = {"resourceType": "Condition", "id": "d", "subject": {"reference": "Patient/pat-brooks"}}


@pytest.mark.parametrize(
    ("text", "letters"),
    [
        ("patient/Condition.read", "rs"),
        ("patient/Condition.write", "cud"),
        ("user/*.*", "cruds"),
        ("patient/Condition.rs", "rs"),
        ("system/DocumentReference.c", "c"),
        ("patient/Observation.cruds", "cruds"),
        ("patient/Condition.sr", None),  # v2 letters must be in order
        ("patient/Condition.x", None),
        ("clinician/Condition.read", None),
        ("Condition.read", None),
        ("patient/Condition.read?category=x", None),  # filters are v2 only
    ],
)
def test_parse_scope(text: str, letters: str | None) -> None:
    scope = parse_scope(text)
    assert (None if scope is None else "".join(sorted(scope.permissions, key="cruds".index))) == letters


def test_filter_is_parsed() -> None:
    scope = parse_scope("user/DocumentReference.c?category=http://x|clinical-note")
    assert scope is not None and scope.filters == (("category", "http://x|clinical-note"),)


def test_grantable_keeps_order_and_drops_the_unknown() -> None:
    requested = "openid patient/Condition.rs patient/Unicorn.rs junk launch patient/Condition.rs system/*.rs"
    assert grantable(requested, SERVED, ["patient", "user"]) == ["openid", "patient/Condition.rs", "launch"]
    assert grantable("user/DocumentReference.c?unknown=1", SERVED, ["user"]) == []


@pytest.mark.parametrize(
    ("scope", "patient", "interaction", "resource", "allowed"),
    [
        ("patient/Condition.rs", "pat-alvarez", "r", ALVAREZ_CONDITION, True),
        ("patient/Condition.rs", "pat-alvarez", "r", BROOKS_CONDITION, False),
        ("patient/Condition.rs", None, "r", ALVAREZ_CONDITION, False),  # no patient context: nothing
        ("patient/Condition.c", "pat-alvarez", "r", ALVAREZ_CONDITION, False),  # write does not imply read
        ("user/Condition.read", None, "s", BROOKS_CONDITION, True),
        ("patient/*.read", "pat-alvarez", "r", {"resourceType": "Organization", "id": "o"}, True),
        ("patient/*.read", "pat-alvarez", "r", {"resourceType": "Patient", "id": "pat-brooks"}, False),
    ],
)
def test_access(scope: str, patient: str | None, interaction: str, resource: dict, allowed: bool) -> None:
    assert Access.from_scope(scope, patient=patient).permits(interaction, resource) is allowed


def test_read_only_access_never_writes() -> None:
    access = Access.from_scope("user/*.cruds", patient=None, read_only=True)
    assert access.may("r", "Patient") and not access.may("c", "DocumentReference")
