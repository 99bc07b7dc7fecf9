"""FHIR for the app: the HTTP client, the chart model built from what it reads, and the call-note write-back."""

from smart_app.fhir.chart import Chart, build_chart
from smart_app.fhir.client import CreateResult, FhirClient, SearchResult
from smart_app.fhir.writeback import build_document_reference, write_document_reference

__all__ = [
    "Chart",
    "CreateResult",
    "FhirClient",
    "SearchResult",
    "build_chart",
    "build_document_reference",
    "write_document_reference",
]
