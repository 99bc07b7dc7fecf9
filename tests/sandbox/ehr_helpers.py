"""Helpers for the demo EHR tests: constants, PKCE, form parsing, a SMART launch walker, client assertions."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import ECKey, Key, RSAKey

DATA = Path(__file__).parent / "data"
EHR = "http://127.0.0.1:8401"
FHIR = EHR + "/fhir"
APP = "http://127.0.0.1:8400"
REDIRECT = APP + "/callback"
INSPECTOR = "inspector-token-for-tests"
SCOPE = (
    "launch openid fhirUser online_access patient/Patient.r patient/Encounter.r patient/Condition.rs "
    "patient/Observation.rs patient/DocumentReference.c"
)


def signing_key(kind: str) -> Key:
    """A fresh private key for private_key_jwt: RSA for RS384, P-384 for ES384."""
    if kind == "EC":
        return ECKey.generate_key("P-384", parameters={"alg": "ES384"}, auto_kid=True)
    return RSAKey.generate_key(2048, parameters={"alg": "RS384"}, auto_kid=True)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def query_of(location: str) -> dict[str, str]:
    """The query parameters of a redirect, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class FormParser(HTMLParser):
    """Collects the forms of a page: action, method and named input values (hidden, select first option)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "fields": [], "submits": 0})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"].append((a["name"], a.get("value") or ""))
        elif tag == "select" and self.forms:
            self._select = a.get("name")
        elif tag == "option" and self._select:
            self.forms[-1]["fields"].append((self._select, a.get("value") or ""))
            self._select = None
        elif tag == "button" and self.forms and a.get("type", "submit") == "submit":
            self.forms[-1]["submits"] += 1


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


class SmartFlow:
    """Walks a SMART EHR launch against the demo EHR the way a browser and the app would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.verifier = secrets.token_urlsafe(48)

    def launch(self, patient: str = "pat-alvarez", client_id: str | None = None) -> str:
        url = f"/launch?patient={patient}" + (f"&client_id={client_id}" if client_id else "")
        answer = self.client.get(url)
        assert answer.status_code == 302, answer.data
        params = query_of(answer.headers["Location"])
        assert params["iss"] == FHIR
        return params["launch"]

    def authorize_params(self, launch: str | None, **overrides: str | None) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": "p2p-public",
            "redirect_uri": REDIRECT,
            "scope": SCOPE,
            "state": secrets.token_urlsafe(16),
            "aud": FHIR,
            "launch": launch,
            "code_challenge": s256(self.verifier),
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def approve(self, params: dict[str, str]) -> Any:
        """GET the authorize URL, submit its one consent form, return the final response."""
        page = self.client.get("/oauth/authorize", query_string=params)
        if page.status_code != 200:
            return page
        (form,) = forms_of(page.get_data(as_text=True))
        return self.client.post(form["action"], data=dict(form["fields"]))

    def code(self, params: dict[str, str]) -> str:
        answer = self.approve(params)
        assert answer.status_code == 302, answer.data
        returned = query_of(answer.headers["Location"])
        assert returned["state"] == params["state"], returned
        return returned["code"]

    def exchange(self, code: str, **overrides: str) -> Any:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": "p2p-public",
            "code_verifier": self.verifier,
        }
        form.update(overrides)
        return self.client.post("/oauth/token", data=form)

    def token(self, patient: str = "pat-alvarez", **overrides: str | None) -> dict[str, Any]:
        """A full EHR launch ending in the token response."""
        code = self.code(self.authorize_params(self.launch(patient), **overrides))
        answer = self.exchange(code)
        assert answer.status_code == 200, answer.data
        return answer.get_json()


def client_assertion(
    key: Key,
    alg: str,
    *,
    client_id: str = "p2p-backend",
    lifetime: int = 240,
    jti: str | None = None,
    aud: str = EHR + "/oauth/token",
) -> str:
    """A SMART private_key_jwt assertion signed with joserfc."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "exp": now + lifetime,
        "iat": now,
        "jti": jti or uuid.uuid4().hex,
    }
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, claims, key, algorithms=[alg])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
