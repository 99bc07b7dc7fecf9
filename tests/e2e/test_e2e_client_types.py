"""Each client type the app supports completes a real launch against the demo EHR (no browser needed).

Public (PKCE only), confidential with ``client_secret_basic``, and confidential asymmetric with
``private_key_jwt`` (RS384 assertions checked by the EHR's Authlib server against the app's JWKS).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from joserfc.jwk import RSAKey

from smart_app.sandbox import EhrSettings, RegisteredClient, create_ehr_app
from smart_app.serving import bind, wait_until_ready
from smart_app.smart.client_auth import public_jwks
from smart_app.web import create_app

KEY = RSAKey.generate_key(2048)
KEY.ensure_kid()


def _client_setups(app_url: str) -> dict[str, tuple[RegisteredClient, dict[str, Any]]]:
    redirect, launch = [f"{app_url}/callback"], f"{app_url}/launch"
    return {
        "public": (RegisteredClient("c-public", redirect, launch), {"CLIENT_ID": "c-public", "CLIENT_AUTH": "none"}),
        "client_secret_basic": (
            RegisteredClient("c-basic", redirect, launch, "client_secret_basic", client_secret="s3cret-for-tests"),
            {"CLIENT_ID": "c-basic", "CLIENT_AUTH": "client_secret_basic", "CLIENT_SECRET": "s3cret-for-tests"},
        ),
        "private_key_jwt": (
            RegisteredClient("c-jwt", redirect, launch, "private_key_jwt", jwks=public_jwks(KEY, "RS384")),
            {"CLIENT_ID": "c-jwt", "CLIENT_AUTH": "private_key_jwt", "_PRIVATE_KEY": KEY, "ASSERTION_ALG": "RS384"},
        ),
    }


@pytest.fixture(params=["public", "client_secret_basic", "private_key_jwt"])
def launched(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    ehr_server, app_server = bind(), bind()
    client, app_config = _client_setups(app_server.url)[request.param]
    ehr_server.mount(
        create_ehr_app(
            EhrSettings(base_url=ehr_server.url, clients=[client], inspector_token="x", require_consent=False)
        )
    )
    app_server.mount(
        create_app(
            {
                **app_config,
                "ALLOWED_ISS": [f"{ehr_server.url}/fhir"],
                "INSECURE_COOKIES": True,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
            }
        )
    )
    wait_until_ready(f"{app_server.url}/health")
    yield ehr_server.url, app_server.url
    app_server.stop()
    ehr_server.stop()


def test_client_type_completes_the_launch(launched: tuple[str, str]) -> None:
    ehr_url, app_url = launched
    browser = requests.Session()
    page = browser.get(f"{ehr_url}/launch?patient=pat-ra-tnf", timeout=30)
    assert page.status_code == 200
    assert page.url.startswith(f"{app_url}/?ctx=")
    assert "Aetna" in page.text and "Humira (adalimumab)" in page.text
    # Nothing secret reached the browser: no token, verifier or code in the page or its URL.
    assert not re.search(r"access_token|refresh_token|code_verifier|id_token", page.text + page.url)


def test_two_launches_in_one_browser_keep_their_own_patients(launched: tuple[str, str]) -> None:
    ehr_url, _ = launched
    browser = requests.Session()  # one cookie jar: two tabs of one browser
    first = browser.get(f"{ehr_url}/launch?patient=pat-ra-tnf", timeout=30)
    second = browser.get(f"{ehr_url}/launch?patient=pat-knee-tka", timeout=30)
    assert "Humana" in second.text and "Aetna" not in second.text
    again = browser.get(first.url, timeout=30)  # the first tab reloads after the second launch
    assert "Aetna" in again.text and "Humana" not in again.text
    bare = browser.get(first.url.split("?")[0], timeout=30)  # no launch handle: never "the last patient"
    assert bare.status_code == 401 and "Your session has ended" in bare.text
    assert "Aetna" not in bare.text and "Humana" not in bare.text
