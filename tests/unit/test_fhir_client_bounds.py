"""The FHIR client is bounded against a hostile or broken server: a cap on the bytes of one answer, a wall-clock
deadline per request (requests' own timeout is per read), and a page limit and loop check on sync's paging.
A real threaded HTTP server on 127.0.0.1 plays the server; memory is measured with tracemalloc."""

from __future__ import annotations

import json
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from smart_app.errors import FhirReadError, FhirUnreachable, ResponseTooLarge
from smart_app.fhir.client import FhirClient

MB = 1024 * 1024
HUGE_BYTES = 120 * MB


class Hostile(BaseHTTPRequestHandler):
    """``/fhir/Observation``: an endless-looking JSON answer (no Content-Length); ``/fhir/Announced``: a
    Content-Length of 400 MB; ``/fhir/Drip``: one byte every 0.2 s; ``/fhir/Claim``: pages whose next link
    returns to the first; ``/fhir/ClaimResponse``: an endless run of distinct next links."""

    protocol_version = "HTTP/1.0"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = urlsplit(self.path).path
        try:
            {
                "/fhir/Observation": self._huge,
                "/fhir/Announced": self._announced,
                "/fhir/Drip": self._drip,
                "/fhir/Claim": self._circle,
                "/fhir/ClaimResponse": self._endless,
            }[path]()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def _start(self, length: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _huge(self) -> None:
        self._start()
        self.wfile.write(b'{"resourceType": "Bundle", "type": "searchset", "entry": [')
        entry = json.dumps({"resource": {"resourceType": "Observation", "id": "x" * 900}}).encode() + b","
        block = entry * (MB // len(entry))
        for _ in range(HUGE_BYTES // len(block)):
            self.wfile.write(block)
        self.wfile.write(b"{}]}")

    def _announced(self) -> None:
        self._start(400 * MB)
        self.wfile.write(b"{" * 1024)

    def _drip(self) -> None:
        self._start()
        for _ in range(200):
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(0.2)

    def _bundle(self, next_url: str | None) -> None:
        body: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": []}
        if next_url:
            body["link"] = [{"relation": "next", "url": next_url}]
        data = json.dumps(body).encode()
        self._start(len(data))
        self.wfile.write(data)

    def _circle(self) -> None:
        page = parse_qs(urlsplit(self.path).query).get("page", ["1"])[0]
        base = f"http://127.0.0.1:{self.server.server_address[1]}/fhir/Claim"
        self._bundle(f"{base}?page=2" if page == "1" else f"{base}?page=1")

    def _endless(self) -> None:
        page = int(parse_qs(urlsplit(self.path).query).get("page", ["1"])[0])
        self._bundle(f"http://127.0.0.1:{self.server.server_address[1]}/fhir/ClaimResponse?page={page + 1}")


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    server.shutdown()
    server.server_close()


def _within(seconds: float, call: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``call`` on a thread; fail if it is still running after ``seconds`` (the old client never returned)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"the request was still running after {seconds:g} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value"), time.monotonic() - started


def test_an_answer_past_the_byte_cap_is_abandoned_and_memory_stays_near_the_cap(base: str) -> None:
    client = FhirClient(base, "tok", max_response_bytes=8 * MB, max_retries=0)
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLarge) as excinfo:
            _within(60, lambda: client.get("Observation"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = excinfo.value.message
    assert message == "GET /fhir/Observation: the answer passed the 8 MB cap (P2P_FHIR_MAX_RESPONSE_BYTES); abandoned"
    assert peak < 32 * MB, f"peak {peak / MB:.0f} MB for a {HUGE_BYTES // MB} MB answer"
    print(f"\n{HUGE_BYTES // MB} MB answer, 8 MB cap: peak traced memory {peak / MB:.1f} MB")  # noqa: T201


def test_a_search_whose_answer_is_too_large_names_the_request_in_the_brief_warning(base: str) -> None:
    result = FhirClient(base, "tok", max_response_bytes=2 * MB, max_retries=0).search("Observation")
    assert result.resources == []
    assert result.error == (
        "GET /fhir/Observation: the answer passed the 2 MB cap (P2P_FHIR_MAX_RESPONSE_BYTES); abandoned"
    )


def test_an_announced_oversize_answer_is_not_read_at_all(base: str) -> None:
    client = FhirClient(base, "tok", max_retries=0)  # the default cap, 50 MB
    with pytest.raises(ResponseTooLarge, match="announced 400 MB, over the 50 MB cap"):
        _within(10, lambda: client.get("Announced"))


def test_a_server_dripping_its_answer_is_abandoned_at_the_deadline(base: str) -> None:
    client = FhirClient(base, "tok", timeout=15, request_deadline=2, max_retries=0)
    with pytest.raises(FhirUnreachable) as excinfo:
        _within(8, lambda: client.get("Drip"))
    assert excinfo.value.message == "GET /fhir/Drip did not finish within 2 s (P2P_FHIR_REQUEST_DEADLINE); abandoned"


def test_the_deadline_holds_within_half_a_second(base: str) -> None:
    client = FhirClient(base, "tok", timeout=15, request_deadline=1.5, max_retries=0)
    started = time.monotonic()
    with pytest.raises(FhirUnreachable):
        client.get("Drip")
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 2.0
    print(f"\ndripping server, 1.5 s deadline: abandoned after {elapsed:.2f} s")  # noqa: T201


def test_sync_paging_stops_on_a_next_link_already_followed(base: str) -> None:
    client = FhirClient(base, "tok", max_retries=0)

    def read_all() -> int:
        return sum(1 for _ in client.search_pages("Claim"))

    with pytest.raises(FhirReadError) as excinfo:
        _within(10, read_all)
    assert excinfo.value.message == "Claim search: page 3's next link leads back to a page already read; stopped"


def test_sync_paging_stops_at_the_page_limit_with_a_clear_error(base: str) -> None:
    client = FhirClient(base, "tok", max_retries=0, sync_page_limit=25)
    pages: list[int] = []

    def read_all() -> None:
        for page in client.search_pages("ClaimResponse"):
            pages.append(len(page))

    with pytest.raises(FhirReadError) as excinfo:
        _within(20, read_all)
    assert len(pages) == 25
    assert excinfo.value.message == (
        "ClaimResponse search stopped after 25 pages (P2P_FHIR_SYNC_PAGE_LIMIT); the rest was not read"
    )
