"""The scopes the app asks for, in SMART v2 or v1 form, and what a grant leaves out.

SMART App Launch 2.2, scopes-and-launch-context.md: v2 is ``context/Type.cruds`` (letters in that order);
v1 ``.read`` equals v2 ``.rs`` and ``.write`` equals ``.cud``. Servers may grant fewer scopes than asked.
"""

from __future__ import annotations

import re

READ_TYPES: tuple[str, ...] = (
    "Patient",
    "Encounter",
    "Coverage",
    "Claim",
    "ClaimResponse",
    "ExplanationOfBenefit",
    "Condition",
    "MedicationStatement",
    "MedicationRequest",
    "ServiceRequest",  # the order, for the payer's Da Vinci CRD coverage-information (policy named at ordering)
    "DeviceRequest",
    "Medication",
    "Procedure",
    "Observation",
    "Organization",
    "Practitioner",
    "PractitionerRole",
)
WRITE_TYPES: tuple[str, ...] = ("DocumentReference",)
# A written type is searched too: a create whose answer was lost is looked for (by identifier) before any resend.
IDENTITY = ("openid", "fhirUser", "online_access")

_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Za-z]+)\.(read|write|\*|[cruds]+)(\?.*)?$")
_V1_LETTERS = {"read": "rs", "write": "cud", "*": "cruds"}


def requested_scopes(version: int, *, context: str = "patient") -> str:
    """The space-separated scope string for an EHR launch (``context="patient"``) or a standalone one (``user``)."""
    if version == 2:
        reads = [f"{context}/{t}.rs" for t in READ_TYPES]
        writes = [f"{context}/{t}.cs" for t in WRITE_TYPES]
    else:
        reads = [f"{context}/{t}.read" for t in READ_TYPES]
        writes = [f"{context}/{t}.{access}" for t in WRITE_TYPES for access in ("read", "write")]
    launch = ["launch"] if context == "patient" else []  # ``launch`` belongs to the EHR launch only
    return " ".join([*launch, *IDENTITY, *reads, *writes])


def _permissions(granted: str) -> dict[str, set[str]]:
    """Map resource type (or ``*``) to the v2 letters granted for it, ignoring the patient/user context."""
    perms: dict[str, set[str]] = {}
    for scope in granted.split():
        match = _SCOPE.match(scope)
        if match:
            _, rtype, letters, _ = match.groups()
            perms.setdefault(rtype, set()).update(_V1_LETTERS.get(letters, letters))
    return perms


def missing_permissions(granted: str) -> list[str]:
    """What the granted scopes do not allow, in words: ``["read Procedure", "create DocumentReference"]``."""
    perms = _permissions(granted)

    def allows(rtype: str, letter: str) -> bool:
        return letter in perms.get(rtype, set()) or letter in perms.get("*", set())

    missing = [f"read {t}" for t in READ_TYPES if not (allows(t, "r") or allows(t, "s"))]
    missing += [f"create {t}" for t in WRITE_TYPES if not allows(t, "c")]
    return missing
