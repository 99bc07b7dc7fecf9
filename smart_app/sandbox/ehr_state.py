"""The running demo EHR: everything one instance holds, reachable as ``app.extensions["demo_ehr"]``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from authlib.integrations.flask_oauth2 import ResourceProtector
from flask import current_app
from joserfc.jwk import RSAKey

from .faults import Outage, ReadDelays, SearchFaults, WriteFaults
from .oauth import SmartAuthorizationServer
from .oauth_models import DemoUser, OAuthRegistry
from .settings import EhrSettings
from .store import FhirStore
from .write_rules import WriteProfile

EXTENSION_KEY = "demo_ehr"


@dataclass
class DemoEhr:
    """One demo EHR: its settings, FHIR store, OAuth state and the hooks tests use."""

    settings: EhrSettings
    store: FhirStore
    registry: OAuthRegistry
    signing_key: RSAKey
    write_profile: WriteProfile
    user: DemoUser
    authorization_server: SmartAuthorizationServer
    resource_protector: ResourceProtector
    faults: WriteFaults = field(default_factory=WriteFaults)
    read_delays: ReadDelays = field(default_factory=ReadDelays)
    outage: Outage = field(default_factory=Outage)
    search_faults: SearchFaults = field(default_factory=SearchFaults)
    exports: dict[str, Any] = field(default_factory=dict)  # Bulk Data export jobs by id
    charts_dated: date | None = None  # the day the demo charts (and the fax inbox's letters) are dated for
    _count: int = 0
    _count_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def request_count(self) -> int:
        """FHIR API requests served (metadata, reads, searches, creates) since start or the last reset."""
        with self._count_lock:
            return self._count

    def count_request(self) -> None:
        """Add one served FHIR API request."""
        with self._count_lock:
            self._count += 1

    def reset_request_count(self) -> None:
        """Start counting FHIR API requests from zero."""
        with self._count_lock:
            self._count = 0


def current_ehr() -> DemoEhr:
    """The demo EHR of the app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]
