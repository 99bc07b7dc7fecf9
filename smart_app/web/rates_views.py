"""``GET /rates``: the practice's P2P outcomes from the app's own records, with charts and their tables."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from smart_app.practice.charts import overturn_chart
from smart_app.practice.rates import rates_by, specialty_group, summarize
from smart_app.practice.tracking import case_outcomes
from smart_app.web.case_state import database
from smart_app.web.loading import clock
from smart_app.web.worklist_views import practice_launch

bp = Blueprint("rates", __name__)
GROUPINGS = (
    ("By payer", lambda c: c.payer),
    ("By service", lambda c: c.service),
    ("By ordering physician", lambda c: c.physician),
    ("By reviewer specialty", specialty_group),
)


@bp.get("/rates")
def index() -> ResponseReturnValue:
    """Requested, held, overturned and upheld per payer, service, physician and reviewer specialty."""
    context = practice_launch()
    now = clock()
    cases = case_outcomes(database(), context.tenant, zone=now.zone, now=now.now, organizations=context.organizations)
    tables = []
    for title, key in GROUPINGS:
        rates = rates_by(cases, key)
        tables.append(
            {"title": title, "rates": rates, "chart": overturn_chart(rates, f"Overturn rate {title.lower()}")}
        )
    return render_template(
        "rates.html",
        launch=context,
        summary=summarize(cases),
        tables=tables,
    )
