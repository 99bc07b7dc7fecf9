"""Load what a page needs from the EHR for the current launch: the chart, its open denials, one denial."""

from __future__ import annotations

from smart_app.denials.pas import Denial, open_denials, read_denial
from smart_app.errors import MissingLaunchContext, NotFound
from smart_app.fhir.chart import Chart
from smart_app.fhir.reader import DENIAL_SEARCHES, fetch_chart
from smart_app.smart.launch import LaunchContext
from smart_app.web.context import fhir_client


def _patient_id(context: LaunchContext) -> str:
    if not context.patient:
        raise MissingLaunchContext("This launch has no patient in context.")
    return context.patient


def load_open_denials(context: LaunchContext) -> tuple[Chart, list[Denial]]:
    """The patient's denied or pended prior-authorization answers, newest first (reads only what the list needs)."""
    chart = fetch_chart(fhir_client(context), _patient_id(context), types=DENIAL_SEARCHES)
    return chart, open_denials(chart.of_type("ClaimResponse"), chart.resolve)


def load_denial(context: LaunchContext, claim_response_id: str) -> tuple[Chart, Denial]:
    """The whole chart and one denial in it; ``NotFound`` if the ClaimResponse is not this patient's."""
    patient_id = _patient_id(context)
    chart = fetch_chart(fhir_client(context), patient_id)
    claim_response = chart.index.get(f"ClaimResponse/{claim_response_id}")
    subject = (claim_response or {}).get("patient", {}).get("reference", "")
    if claim_response is None or subject.split("/")[-1] != patient_id:
        raise NotFound("This denial is not in the launched patient's chart.")
    return chart, read_denial(claim_response, chart.resolve)
