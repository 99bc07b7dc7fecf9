"""The demo EHR's CapabilityStatement (FHIR 4.0.1) with the SMART oauth-uris extension."""

from __future__ import annotations

from typing import Any

from . import search
from .settings import EhrSettings
from .write_rules import WriteProfile

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
BULK_DATA = "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"
BULK_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
_PARAM_TYPES = {"_id": "token", **{name: "reference" for name in search.REFERENCE_PARAMS}}


def capability_statement(settings: EhrSettings, served_types: list[str], profile: WriteProfile) -> dict[str, Any]:
    """What this server does: types, interactions, search parameters, SMART endpoints, system-level Bulk Data
    export; conditional create only where the EHR profile has it (Epic does not)."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2025-01-01",
        "kind": "instance",
        "software": {"name": "p2p-brief demo EHR", "version": "0.1.0"},
        "implementation": {"description": f"Demo EHR ({profile.name} profile)", "url": settings.fhir_base},
        "instantiates": [BULK_DATA],
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "extension": [
                        {
                            "url": OAUTH_URIS,
                            "extension": [
                                {"url": "authorize", "valueUri": settings.origin + "/oauth/authorize"},
                                {"url": "token", "valueUri": settings.origin + "/oauth/token"},
                            ],
                        }
                    ],
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                },
                "resource": [_resource(t, profile) for t in served_types],
                "operation": [{"name": "export", "definition": BULK_EXPORT}],
            }
        ],
    }


def _resource(resource_type: str, profile: WriteProfile) -> dict[str, Any]:
    interactions = ["read", "vread", "search-type"]
    entry: dict[str, Any] = {"type": resource_type}
    if resource_type == "DocumentReference":
        interactions.append("create")
        entry["conditionalCreate"] = profile.conditional_create
    entry["interaction"] = [{"code": code} for code in interactions]
    entry["searchParam"] = [
        {"name": name, "type": _PARAM_TYPES.get(name, "token")} for name in search.params_for(resource_type)
    ]
    return entry
