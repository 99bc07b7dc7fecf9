"""The built-in demo EHR: a SMART-on-FHIR server with demo charts that stands in for a real EHR offline."""

from .app import create_ehr_app
from .settings import EhrSettings, RegisteredClient

__all__ = ["EhrSettings", "RegisteredClient", "create_ehr_app"]
