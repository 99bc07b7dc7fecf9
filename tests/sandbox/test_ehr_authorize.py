"""The authorize endpoint: SMART's launch, aud, state and PKCE rules, consent, and RFC 6749 error handling."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ehr_helpers import REDIRECT, SmartFlow, forms_of, query_of
from flask import Flask
from flask.testing import FlaskClient


def test_launch_redirects_to_the_app_with_iss_and_launch(client: FlaskClient) -> None:
    answer = client.get("/launch?patient=pat-alvarez")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("http://127.0.0.1:8400/launch?")
    params = query_of(answer.headers["Location"])
    assert params["iss"] == "http://127.0.0.1:8401/fhir"
    assert len(params["launch"]) >= 20


def test_consent_page_has_one_form_whose_submit_approves(flow: SmartFlow) -> None:
    params = flow.authorize_params(flow.launch())
    page = flow.client.get("/oauth/authorize", query_string=params)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    (form,) = forms_of(page.get_data(as_text=True))
    assert form["method"] == "post" and form["submits"] == 1
    answer = flow.client.post(form["action"], data=dict(form["fields"]))
    assert answer.status_code == 302
    returned = query_of(answer.headers["Location"])
    assert answer.headers["Location"].startswith(REDIRECT + "?")
    assert returned["state"] == params["state"] and returned["code"]


def test_without_consent_the_code_comes_at_once(make_ehr: Callable[..., Flask]) -> None:
    flow = SmartFlow(make_ehr(require_consent=False).test_client())
    params = flow.authorize_params(flow.launch())
    answer = flow.client.get("/oauth/authorize", query_string=params)
    assert answer.status_code == 302
    assert query_of(answer.headers["Location"])["code"]


def test_consent_form_cannot_be_submitted_twice(flow: SmartFlow) -> None:
    params = flow.authorize_params(flow.launch())
    (form,) = forms_of(flow.client.get("/oauth/authorize", query_string=params).get_data(as_text=True))
    assert flow.client.post(form["action"], data=dict(form["fields"])).status_code == 302
    again = flow.client.post(form["action"], data=dict(form["fields"]))
    assert again.status_code in (302, 400)
    if again.status_code == 302:  # the launch is spent, so the client hears invalid_request
        assert query_of(again.headers["Location"])["error"] == "invalid_request"


def _refusal(flow: SmartFlow, **overrides: str | None) -> dict[str, str]:
    params = flow.authorize_params(overrides.pop("launch", flow.launch()), **overrides)
    answer = flow.client.get("/oauth/authorize", query_string=params)
    assert answer.status_code == 302, answer.data
    assert answer.headers["Location"].startswith(REDIRECT + "?")
    returned = query_of(answer.headers["Location"])
    assert "code" not in returned
    if params.get("state"):
        assert returned["state"] == params["state"]
    return returned


def test_plain_pkce_is_refused(flow: SmartFlow) -> None:
    returned = _refusal(flow, code_challenge=flow.verifier, code_challenge_method="plain")
    assert returned["error"] == "invalid_request"
    assert "S256" in returned["error_description"]


@pytest.mark.parametrize("missing", ["code_challenge", "code_challenge_method"])
def test_missing_pkce_is_refused(flow: SmartFlow, missing: str) -> None:
    assert _refusal(flow, **{missing: None})["error"] == "invalid_request"


@pytest.mark.parametrize("aud", ["http://127.0.0.1:8401/fhir/", "http://127.0.0.1:8401", None])
def test_wrong_aud_is_refused(flow: SmartFlow, aud: str | None) -> None:
    returned = _refusal(flow, aud=aud)
    assert returned["error"] == "invalid_request"
    assert "aud" in returned["error_description"]


def test_missing_state_is_refused(flow: SmartFlow) -> None:
    assert _refusal(flow, state=None)["error"] == "invalid_request"


def test_unknown_launch_is_refused(flow: SmartFlow) -> None:
    assert _refusal(flow, launch="not-a-launch-this-ehr-issued")["error"] == "invalid_request"


def test_launch_replay_is_refused(flow: SmartFlow) -> None:
    launch = flow.launch()
    flow.code(flow.authorize_params(launch))
    answer = flow.client.get("/oauth/authorize", query_string=flow.authorize_params(launch))
    returned = query_of(answer.headers["Location"])
    assert returned["error"] == "invalid_request"
    assert "launch" in returned["error_description"]


def test_launch_expires_after_five_minutes(ehr_app: Flask, flow: SmartFlow) -> None:
    registry = ehr_app.extensions["demo_ehr"].registry
    launch = flow.launch()
    start = registry.clock()
    registry.clock = lambda: start + 301
    answer = flow.client.get("/oauth/authorize", query_string=flow.authorize_params(launch))
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"


def test_launch_scope_needs_a_launch_parameter(flow: SmartFlow) -> None:
    params = flow.authorize_params(None)
    answer = flow.client.get("/oauth/authorize", query_string=params)
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"


def test_unknown_client_gets_an_error_page(flow: SmartFlow) -> None:
    answer = flow.client.get("/oauth/authorize", query_string=flow.authorize_params(flow.launch(), client_id="evil"))
    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert b"invalid_client" in answer.data


@pytest.mark.parametrize("redirect_uri", ["http://127.0.0.1:8400/callback/", "https://evil.example/cb", None])
def test_unregistered_redirect_uri_gets_an_error_page(flow: SmartFlow, redirect_uri: str | None) -> None:
    params = flow.authorize_params(flow.launch(), redirect_uri=redirect_uri)
    answer = flow.client.get("/oauth/authorize", query_string=params)
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_unsupported_response_type_is_redirected(flow: SmartFlow) -> None:
    assert _refusal(flow, response_type="token")["error"] == "unsupported_response_type"


def test_deny_link_answers_access_denied(flow: SmartFlow) -> None:
    params = flow.authorize_params(flow.launch())
    page = flow.client.get("/oauth/authorize", query_string=params).get_data(as_text=True)
    deny = page.split('href="')[-1].split('"')[0].replace("&amp;", "&")
    answer = flow.client.get(deny)
    returned = query_of(answer.headers["Location"])
    assert returned["error"] == "access_denied" and returned["state"] == params["state"]


def test_scopes_are_narrowed_to_what_the_ehr_grants(flow: SmartFlow) -> None:
    scope = "launch openid fhirUser patient/Condition.rs patient/Unicorn.read system/*.rs junk patient/X.y"
    token = flow.token(scope=scope)
    assert token["scope"].split() == ["launch", "openid", "fhirUser", "patient/Condition.rs"]


def test_nothing_grantable_is_invalid_scope(flow: SmartFlow) -> None:
    assert _refusal(flow, scope="made-up other")["error"] == "invalid_scope"


def test_standalone_launch_picks_a_patient_on_the_consent_page(flow: SmartFlow) -> None:
    params = flow.authorize_params(None, scope="launch/patient openid fhirUser patient/Patient.r")
    page = flow.client.get("/oauth/authorize", query_string=params)
    (form,) = forms_of(page.get_data(as_text=True))
    fields = dict(form["fields"])
    assert "patient" in fields
    fields["patient"] = "pat-brooks"
    code = query_of(flow.client.post(form["action"], data=fields).headers["Location"])["code"]
    token = flow.exchange(code).get_json()
    assert token["patient"] == "pat-brooks"
    assert token["need_patient_banner"] is True
    assert "encounter" not in token


def test_authorize_by_post(flow: SmartFlow) -> None:
    params = flow.authorize_params(flow.launch())
    page = flow.client.post("/oauth/authorize", data=params)
    (form,) = forms_of(page.get_data(as_text=True))
    answer = flow.client.post(form["action"], data=dict(form["fields"]))
    assert query_of(answer.headers["Location"])["state"] == params["state"]
