"""SMART scopes, v1 (``patient/Condition.read``) and v2 (``patient/Condition.rs``): parse, grant, enforce.

SMART App Launch 2.2 §scopes: v1 ``read`` = v2 ``rs``, ``write`` = ``cud``, ``*`` = ``cruds``; write does not
imply read; a v2 scope may carry a query filter (``user/DocumentReference.c?category=…|clinical-note``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from . import search
from .references import in_patient_compartment

CONTEXTS = ("patient", "user", "system")
#: Scopes that name no resource: launch context, identity and refresh.
CONTEXT_SCOPES = (
    "launch",
    "launch/patient",
    "launch/encounter",
    "openid",
    "fhirUser",
    "online_access",
    "offline_access",
)
REFRESH_SCOPES = frozenset({"online_access", "offline_access"})
V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
_V2_PERMISSIONS = re.compile(r"^(?=.)c?r?u?d?s?$")
_SCOPE = re.compile(r"^(patient|user|system)/([A-Za-z]+|\*)\.([A-Za-z*]+)(?:\?(.*))?$")


@dataclass(frozen=True)
class ResourceScope:
    """One resource scope: context, type (or ``*``), the v2 letters it allows, and any filter."""

    context: str
    resource_type: str
    permissions: frozenset[str]
    filters: tuple[tuple[str, str], ...] = ()

    def covers(self, interaction: str, resource_type: str) -> bool:
        """Whether this scope allows ``interaction`` (one of ``cruds``) on ``resource_type``."""
        return interaction in self.permissions and self.resource_type in ("*", resource_type)


def parse_scope(text: str) -> ResourceScope | None:
    """A resource scope from its text, or None when the text is not one (or its permissions are malformed)."""
    found = _SCOPE.match(text)
    if not found:
        return None
    context, resource_type, permissions, query = found.groups()
    if permissions in V1_PERMISSIONS and query is None:
        letters = V1_PERMISSIONS[permissions]
    elif _V2_PERMISSIONS.match(permissions):
        letters = permissions
    else:
        return None
    filters = tuple(parse_qsl(query, keep_blank_values=False)) if query else ()
    return ResourceScope(context, resource_type, frozenset(letters), filters)


def is_supported(text: str, served_types: Iterable[str]) -> bool:
    """Whether the EHR can grant this scope: a context scope, or a resource scope on a served type whose
    filter uses only search parameters the type supports."""
    if text in CONTEXT_SCOPES:
        return True
    scope = parse_scope(text)
    if scope is None:
        return False
    if scope.resource_type != "*" and scope.resource_type not in served_types:
        return False
    if scope.filters and scope.resource_type == "*":
        return False
    return all(name in search.params_for(scope.resource_type) for name, _ in scope.filters)


def grantable(requested: str | None, served_types: Iterable[str], contexts: Iterable[str]) -> list[str]:
    """The requested scopes the EHR grants, in request order: supported ones in the allowed contexts."""
    served = set(served_types)
    allowed_contexts = set(contexts)
    granted: list[str] = []
    for text in (requested or "").split():
        scope = parse_scope(text)
        if scope is not None and scope.context not in allowed_contexts:
            continue
        if is_supported(text, served) and text not in granted:
            granted.append(text)
    return granted


def advertised_scopes(served_types: Iterable[str]) -> list[str]:
    """The ``scopes_supported`` list of the discovery document (representative: every v1 and v2 read form,
    and note writing; any well-formed scope on a served type is accepted)."""
    advertised = list(CONTEXT_SCOPES)
    for context in CONTEXTS:
        advertised += [f"{context}/*.read", f"{context}/*.rs"]
        advertised += [f"{context}/{t}.{p}" for t in sorted(served_types) for p in ("read", "rs")]
        advertised += [f"{context}/DocumentReference.write", f"{context}/DocumentReference.c"]
    return advertised


@dataclass(frozen=True)
class Access:
    """What a bearer token may do at the FHIR API."""

    scopes: tuple[ResourceScope, ...]
    patient: str | None = None
    read_only: bool = False

    @classmethod
    def from_scope(cls, scope: str | None, *, patient: str | None, read_only: bool = False) -> Access:
        """Access from a granted scope string and the token's patient context."""
        parsed = (parse_scope(s) for s in (scope or "").split())
        return cls(tuple(s for s in parsed if s is not None), patient, read_only)

    def may(self, interaction: str, resource_type: str) -> bool:
        """Whether any scope allows the interaction on the type at all (before looking at the resource)."""
        if self.read_only and interaction in "cud":
            return False
        return any(self._usable(s) and s.covers(interaction, resource_type) for s in self.scopes)

    def permits(self, interaction: str, resource: dict[str, Any]) -> bool:
        """Whether a scope allows the interaction on this resource: patient scopes only inside the
        token's patient compartment, filtered scopes only on resources matching the filter."""
        resource_type = str(resource.get("resourceType"))
        if not self.may(interaction, resource_type):
            return False
        for scope in self.scopes:
            if not (self._usable(scope) and scope.covers(interaction, resource_type)):
                continue
            if scope.context == "patient" and not in_patient_compartment(resource, str(self.patient)):
                continue
            if scope.filters and not search.matches(resource, scope.filters):
                continue
            return True
        return False

    def _usable(self, scope: ResourceScope) -> bool:
        return scope.context != "patient" or self.patient is not None
