"""SMART App Launch 2.x: discovery, the EHR launch, tokens kept on the server, client authentication."""

from smart_app.smart.discovery import DiscoveryCache, SmartConfiguration, discover
from smart_app.smart.launch import (
    LaunchContext,
    PendingAuthorization,
    begin_authorization,
    complete_authorization,
)
from smart_app.smart.scopes import missing_permissions, requested_scopes
from smart_app.smart.tokens import refresh_if_needed, verify_id_token

__all__ = [
    "DiscoveryCache",
    "LaunchContext",
    "PendingAuthorization",
    "SmartConfiguration",
    "begin_authorization",
    "complete_authorization",
    "discover",
    "missing_permissions",
    "refresh_if_needed",
    "requested_scopes",
    "verify_id_token",
]
