"""Scopes: v2 (``.rs``/``.c``) or v1 (``.read``/``.write``), ``launch`` only in an EHR launch, what a grant lacks."""

from __future__ import annotations

from smart_app.smart.scopes import READ_TYPES, missing_permissions, requested_scopes


def test_v2_scopes_use_letters() -> None:
    scopes = requested_scopes(2).split()

    assert "patient/Condition.rs" in scopes
    assert "patient/DocumentReference.cs" in scopes  # create, and search before a resend
    assert not any(s.endswith((".read", ".write")) for s in scopes)


def test_v1_scopes_use_read_and_write() -> None:
    scopes = requested_scopes(1).split()

    assert "patient/Condition.read" in scopes
    assert "patient/DocumentReference.write" in scopes
    assert "patient/DocumentReference.read" in scopes  # v1 has no search without read
    assert not any(s.endswith((".rs", ".c")) for s in scopes)


def test_launch_scope_only_in_ehr_launch() -> None:
    ehr = requested_scopes(2, context="patient").split()
    standalone = requested_scopes(2, context="user").split()

    assert "launch" in ehr
    assert "launch" not in standalone
    assert "user/Condition.rs" in standalone
    assert not any(s.startswith("patient/") for s in standalone)
    for identity in ("openid", "fhirUser"):
        assert identity in ehr and identity in standalone


def test_missing_permissions_with_downscoped_grant() -> None:
    granted = "launch openid fhirUser patient/Patient.rs patient/Condition.read patient/Claim.rs"

    missing = missing_permissions(granted)

    assert "read Procedure" in missing
    assert "read Observation" in missing
    assert "create DocumentReference" in missing
    assert "read Patient" not in missing
    assert "read Condition" not in missing
    assert "read Claim" not in missing


def test_missing_permissions_with_wildcard_read() -> None:
    assert missing_permissions("launch openid patient/*.read") == ["create DocumentReference"]


def test_missing_permissions_with_v2_letters() -> None:
    assert missing_permissions("patient/*.rs patient/DocumentReference.c") == []
    assert missing_permissions("patient/*.cruds") == []
    # read-only access to DocumentReference does not allow the write-back
    assert missing_permissions("patient/*.rs patient/DocumentReference.rs") == ["create DocumentReference"]
    # search alone counts as read for a type, create alone does not
    missing = missing_permissions("patient/Condition.s patient/Procedure.c")
    assert "read Condition" not in missing
    assert "read Procedure" in missing


def test_missing_permissions_with_nothing_granted_lists_everything() -> None:
    missing = missing_permissions("openid fhirUser")
    assert missing == [f"read {t}" for t in READ_TYPES] + ["create DocumentReference"]
