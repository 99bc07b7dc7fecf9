"""The one module that speaks HTTP to a FHIR server: bearer token, timeouts, paging, bounded retries, concurrency.

Reads for one brief go out together on a thread pool (the server sees one burst, not a queue of requests).
``next`` links are followed only on the server's own origin, so the token never leaves it. 429 and 503 are
retried a bounded number of times, honouring ``Retry-After`` (capped, so a worker is never held for long), except
that a create (``POST``) is never resent here after a 503 or a lost connection: the server may have stored it, and a
blind resend writes a second copy (the caller checks first, by identifier, on its next attempt). Every answer is
read as a stream and bounded: past ``max_response_bytes`` or the per-request wall-clock ``request_deadline`` it is
abandoned with an error naming the request (requests' own timeout is per read, so a server dripping a byte a
second would otherwise hold a thread indefinitely).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from smart_app.errors import FhirAuthError, FhirReadError, FhirUnreachable, ResponseTooLarge

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
RETRY_STATUSES = (429, 503)
MAX_RETRY_AFTER_SECONDS = 10.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024
DEFAULT_REQUEST_DEADLINE = 30.0
DEFAULT_SYNC_PAGE_LIMIT = 1000
READ_CHUNK = 64 * 1024


@dataclass
class SearchResult:
    """The resources one search returned (all pages read), or the reason it failed or stopped short."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    pages: int = 0
    total: int | None = None  # the server's count of matches (``Bundle.total``), when it gave one
    matched: int = 0  # matches read (``_include``d resources are not counted in ``Bundle.total``)
    refused: bool = False  # the server refused the search (403): the grant lacks it, and waiting will not help


@dataclass
class CreateResult:
    """What the server said to a create: its status, the id it assigned, and the resource if it sent one back."""

    status: int
    resource_id: str | None
    location: str | None
    resource: dict[str, Any] | None


def operation_outcome_text(body: Any) -> str:
    """The issues of an OperationOutcome in words, e.g. ``"error at context.encounter: Valid encounter required"``."""
    if not isinstance(body, Mapping) or body.get("resourceType") != "OperationOutcome":
        return ""
    parts = []
    for issue in body.get("issue") or []:
        text = (issue.get("details") or {}).get("text") or issue.get("diagnostics") or issue.get("code") or ""
        where = ", ".join(issue.get("expression") or issue.get("location") or [])
        parts.append(f"{issue.get('severity', 'error')}{' at ' + where if where else ''}: {text}")
    return "; ".join(parts)


def _retry_after_seconds(response: requests.Response, attempt: int) -> float:
    value = response.headers.get("Retry-After")
    if value:
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                seconds = 1.0
    else:
        seconds = 0.5 * 2**attempt
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


class FhirClient:
    """A FHIR R4 REST client bound to one server and one access token."""

    def __init__(
        self,
        base_url: str,
        token: str | Callable[[], str],
        *,
        timeout: float = 15.0,
        max_retries: int = 2,
        max_workers: int = 8,
        page_limit: int = 20,
        sync_page_limit: int = DEFAULT_SYNC_PAGE_LIMIT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
        http: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.sync_page_limit = sync_page_limit
        self.max_response_bytes = max_response_bytes
        self.request_deadline = request_deadline
        self._token = token
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_workers = max_workers
        self.page_limit = page_limit
        self.request_count = 0
        self._count_lock = threading.Lock()
        self._origin = urlsplit(self.base_url)[:2]
        self.http = http or requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(max_workers, 2))
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)

    @classmethod
    def from_settings(cls, base_url: str, token: str | Callable[[], str], settings: Mapping[str, Any]) -> FhirClient:
        """A client with the configured limits (``P2P_FHIR_*``): timeout, retries, workers, pages, bytes, deadline."""
        return cls(
            base_url,
            token,
            timeout=settings["FHIR_TIMEOUT"],
            max_retries=settings["FHIR_MAX_RETRIES"],
            max_workers=settings["FHIR_MAX_WORKERS"],
            page_limit=settings["FHIR_PAGE_LIMIT"],
            sync_page_limit=settings["FHIR_SYNC_PAGE_LIMIT"],
            max_response_bytes=settings["FHIR_MAX_RESPONSE_BYTES"],
            request_deadline=settings["FHIR_REQUEST_DEADLINE"],
        )

    # -- plumbing -------------------------------------------------------------------------------------------
    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        token = self._token() if callable(self._token) else self._token
        return {"Authorization": f"Bearer {token}", "Accept": FHIR_JSON, **(extra or {})}

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send one request with bounded retries on 429/503 (a ``POST`` only on 429, which the server refuses
        unread); map network failures, the byte cap and the deadline to errors, and 401/403 to ``FhirAuthError``.
        The body is read here, bounded, unless ``stream=True`` (the caller then reads it)."""
        headers = kwargs.pop("headers", None)
        stream = bool(kwargs.pop("stream", False))
        where = f"{method} {urlsplit(url).path}"
        for attempt in range(self.max_retries + 1):
            response = self._attempt(method, url, where, self._headers(headers), stream=stream, **kwargs)
            retryable = response.status_code == 429 or (
                response.status_code in RETRY_STATUSES and method in IDEMPOTENT_METHODS
            )
            if retryable and attempt < self.max_retries:
                delay = _retry_after_seconds(response, attempt)
                log.info("FHIR %s answered %s; retrying in %.1f s", where, response.status_code, delay)
                response.close()
                time.sleep(delay)
                continue
            if response.status_code in (401, 403):
                raise FhirAuthError(
                    f"{where} was refused ({response.status_code})"
                    + (f": {operation_outcome_text(_json_or_none(response))}" if response.content else ""),
                    status_code=response.status_code,
                )
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self, method: str, url: str, where: str, headers: dict[str, str], *, stream: bool, **kwargs: Any
    ) -> requests.Response:
        """One request; its body read within ``max_response_bytes`` and ``request_deadline`` unless ``stream``."""
        deadline = time.monotonic() + self.request_deadline
        per_read = min(self.timeout, self.request_deadline)
        with self._count_lock:
            self.request_count += 1
        try:
            response = self.http.request(method, url, headers=headers, timeout=per_read, stream=True, **kwargs)
        except requests.Timeout as exc:
            raise FhirUnreachable(f"{where} timed out after {per_read:g} s") from exc
        except requests.RequestException as exc:
            raise FhirUnreachable(f"{where} failed: {type(exc).__name__}") from exc
        if not stream:
            try:
                _read_bounded(response, where, self.max_response_bytes, deadline, self.request_deadline)
            finally:
                response.close()
        return response

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def _own_url(self, url: str) -> str:
        """``url`` (or a path) on this server; ``FhirReadError`` for any other origin, so the token stays here."""
        target = self._url(url)
        if not self._same_origin(target):
            raise FhirReadError(f"{urlsplit(target).netloc} is not this FHIR server; the token is not sent there")
        return target

    def _same_origin(self, url: str) -> bool:
        return urlsplit(url)[:2] == self._origin

    # -- reads ----------------------------------------------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """One authenticated ``GET`` (retries, errors as ``_send``) of a path or URL on this server's origin only:
        the token is never sent anywhere else."""
        return self._send("GET", self._own_url(url), headers=headers, params=params, stream=stream)

    def delete(self, url: str) -> requests.Response:
        """One authenticated ``DELETE`` of a URL on this server's origin."""
        return self._send("DELETE", self._own_url(url))

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        """``GET [base]/Type/id``; raise ``FhirReadError`` unless the server answers 200 with that resource."""
        response = self._send("GET", self._url(f"{resource_type}/{resource_id}"))
        body = _json_or_none(response)
        if response.status_code != 200 or not isinstance(body, dict):
            detail = operation_outcome_text(body) or f"HTTP {response.status_code}"
            raise FhirReadError(f"{resource_type}/{resource_id} could not be read: {detail}")
        return body

    def search(
        self, resource_type: str, params: Mapping[str, str] | None = None, *, deadline: float | None = None
    ) -> SearchResult:
        """Search, following ``next`` links (same origin, ``page_limit`` pages); raises only on a 401. Past the
        ``deadline`` (``time.monotonic()``) no further page is asked for."""
        result = SearchResult()
        url: str | None = self._url(resource_type)
        query: Mapping[str, str] | None = params
        try:
            while url and result.pages < self.page_limit:
                if deadline is not None and time.monotonic() > deadline:
                    result.error = f"{resource_type}: the EHR did not answer in time, so it was not read"
                    return result
                response = self._send("GET", url, params=query)
                body = _json_or_none(response)
                if response.status_code != 200 or not isinstance(body, dict) or body.get("resourceType") != "Bundle":
                    detail = operation_outcome_text(body) or f"HTTP {response.status_code}"
                    result.error = f"{resource_type} search failed: {detail}"
                    return result
                result.pages += 1
                if result.total is None and isinstance(body.get("total"), int) and body["total"] >= 0:
                    result.total = body["total"]
                for entry in body.get("entry") or []:
                    resource = entry.get("resource") if isinstance(entry, dict) else None
                    mode = (entry.get("search") or {}).get("mode") if isinstance(entry, dict) else None
                    if isinstance(resource, dict) and mode != "outcome":
                        result.resources.append(resource)
                        if mode != "include":
                            result.matched += 1
                url, query = _next_link(body), None
                if url and not self._same_origin(url):
                    result.error = (
                        f"{resource_type} search: the server's next link points to another origin; not followed"
                    )
                    return result
            result.error = _shortfall(resource_type, result, stopped_at=self.page_limit if url else None)
        except FhirUnreachable as exc:
            result.error = exc.message
        except FhirAuthError as exc:
            if exc.status_code == 401:
                raise
            result.error, result.refused = exc.message, True
        return result

    def search_pages(
        self, resource_type: str, params: Mapping[str, str] | None = None, *, page_limit: int | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Search, yielding one page of resources at a time (same-origin ``next`` links), so a long result is
        processed and checkpointed page by page. A failed page, a ``next`` link already followed (a server paging in
        a circle), or more than ``page_limit`` pages (``sync_page_limit`` by default) raises ``FhirReadError``."""
        limit = page_limit or self.sync_page_limit
        url: str | None = self._url(resource_type)
        query: Mapping[str, str] | None = params
        followed: set[str] = set()
        pages = 0
        while url:
            if pages >= limit:
                raise FhirReadError(
                    f"{resource_type} search stopped after {limit} pages (P2P_FHIR_SYNC_PAGE_LIMIT); "
                    "the rest was not read"
                )
            response = self._send("GET", url, params=query)
            body = _json_or_none(response)
            if response.status_code != 200 or not isinstance(body, dict) or body.get("resourceType") != "Bundle":
                detail = operation_outcome_text(body) or f"HTTP {response.status_code}"
                raise FhirReadError(f"{resource_type} search failed: {detail}")
            pages += 1
            yield [
                entry["resource"]
                for entry in body.get("entry") or []
                if isinstance(entry, dict)
                and isinstance(entry.get("resource"), dict)
                and (entry.get("search") or {}).get("mode") != "outcome"
            ]
            url, query = _next_link(body), None
            if url and not self._same_origin(url):
                raise FhirReadError(f"{resource_type} search: the next link points to another origin; not followed")
            if url in followed:
                raise FhirReadError(
                    f"{resource_type} search: page {pages}'s next link leads back to a page already read; stopped"
                )
            if url:
                followed.add(url)

    def search_all(
        self, queries: Mapping[str, tuple[str, Mapping[str, str]]], *, deadline: float | None = None
    ) -> dict[str, SearchResult]:
        """Run several searches at once on the thread pool; results keyed as ``queries`` is. With a ``deadline``
        (``time.monotonic()``), a search not finished by then is given up: its result names the type that did not
        answer, and the caller goes on with the rest. Its thread asks for no further page and ends when the request
        under way answers or reaches ``timeout``."""
        if not queries:
            return {}
        workers = min(self.max_workers, len(queries))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fhir")
        try:
            futures = {
                key: pool.submit(self.search, rtype, params, deadline=deadline)
                for key, (rtype, params) in queries.items()
            }
            done, _ = wait(futures.values(), timeout=None if deadline is None else max(deadline - time.monotonic(), 0))
            results: dict[str, SearchResult] = {}
            for key, future in futures.items():
                if future in done:
                    results[key] = future.result()
                else:
                    rtype = queries[key][0]
                    results[key] = SearchResult(error=f"{rtype}: the EHR did not answer in time, so it was not read")
            return results
        finally:
            pool.shutdown(wait=deadline is None, cancel_futures=True)

    def capabilities(self) -> dict[str, Any]:
        """The server's CapabilityStatement (``GET [base]/metadata``), or an empty dict if it has none."""
        try:
            response = self._send("GET", self._url("metadata"))
        except FhirUnreachable:
            return {}
        body = _json_or_none(response)
        return body if response.status_code == 200 and isinstance(body, dict) else {}

    # -- writes ---------------------------------------------------------------------------------------------
    def operation(
        self, path: str, body: dict[str, Any], *, headers: Mapping[str, str] | None = None
    ) -> requests.Response:
        """``POST`` a Parameters or Bundle to an operation on this server's origin (``Claim/$inquire``,
        ``Group/<id>/$davinci-data-export``); the answer as the server gave it (the caller reads its status)."""
        return self._send(
            "POST", self._own_url(path), json=body, headers={"Content-Type": FHIR_JSON, **(headers or {})}
        )

    def create(self, resource: dict[str, Any], *, if_none_exist: str | None = None) -> CreateResult:
        """``POST [base]/Type`` (conditional with ``If-None-Exist``), sent once. ``CreateRefused`` names the
        OperationOutcome; ``CreateOutcomeUnknown`` says the request left but its answer did not come back (the
        server may have stored it), so the caller must look before sending it again."""
        headers = {"Content-Type": FHIR_JSON, "Prefer": "return=representation"}
        if if_none_exist:
            headers["If-None-Exist"] = if_none_exist
        try:
            response = self._send("POST", self._url(resource["resourceType"]), json=resource, headers=headers)
        except FhirUnreachable as exc:
            if not _may_have_reached_server(exc):
                raise
            raise CreateOutcomeUnknown(exc.message) from exc
        body = _json_or_none(response)
        if response.status_code not in (200, 201):
            detail = operation_outcome_text(body) or (response.text[:200] if response.text else "")
            raise CreateRefused(response.status_code, detail or f"HTTP {response.status_code}")
        location = response.headers.get("Location") or response.headers.get("Content-Location")
        resource_id = body.get("id") if isinstance(body, dict) else None
        if not resource_id and location:
            resource_id = _id_from_location(location, resource["resourceType"])
        return CreateResult(response.status_code, resource_id, location, body if isinstance(body, dict) else None)


class CreateRefused(FhirReadError):
    """The server answered a create with an error status; ``status_code`` and the OperationOutcome in words."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"HTTP {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail

    @property
    def may_be_stored(self) -> bool:
        """A 5xx may come after the server stored the resource (or from a proxy that lost its answer)."""
        return self.status_code >= 500


class CreateOutcomeUnknown(FhirUnreachable):
    """A create left for the server but no answer came back (dropped connection, timeout, cap or deadline): the
    server may hold it."""


def _may_have_reached_server(exc: FhirUnreachable) -> bool:
    """False only when the connection itself was never made (refused, DNS, connect timeout)."""
    cause = exc.__cause__
    if isinstance(cause, requests.ConnectTimeout):
        return False
    if isinstance(cause, requests.ConnectionError):
        reason = cause.args[0] if cause.args else None
        reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the real failure
        return not isinstance(reason, urllib3.exceptions.NewConnectionError)
    return True


def _read_bounded(response: requests.Response, where: str, cap: int, deadline: float, budget: float) -> None:
    """Read ``response``'s body into it as it arrives, giving up past ``cap`` bytes (decoded) or the ``deadline``
    (``time.monotonic()``); nothing of the body goes into the error."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise ResponseTooLarge(f"{where}: the EHR announced {_megabytes(int(declared))}, over the {_megabytes(cap)} "
                               "cap (P2P_FHIR_MAX_RESPONSE_BYTES); not read")  # fmt: skip
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise FhirUnreachable(
                    f"{where} did not finish within {budget:g} s (P2P_FHIR_REQUEST_DEADLINE); abandoned"
                )
            chunk = response.raw.read1(READ_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > cap:
                raise ResponseTooLarge(
                    f"{where}: the answer passed the {_megabytes(cap)} cap (P2P_FHIR_MAX_RESPONSE_BYTES); abandoned"
                )
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise FhirUnreachable(f"{where} timed out while its answer was arriving") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise FhirUnreachable(f"{where} failed while its answer was arriving: {type(exc).__name__}") from exc
    response._content = b"".join(chunks)  # what requests' own .content would hold, read within the bounds
    response._content_consumed = True


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):  # not JSON, or nested past what the parser takes
        return None


def _shortfall(resource_type: str, result: SearchResult, *, stopped_at: int | None) -> str | None:
    """Why a search that ended without an error did not read every match: a page limit (``stopped_at`` pages), or
    a ``Bundle.total`` above the matches read with no ``next`` link to the rest (Medplum answers ``_count=200``
    with 200 entries, ``total: 206`` and no link). None when nothing says a record is missing."""
    short = result.total is not None and result.matched < result.total
    counted = f"{result.matched} of {result.total} {resource_type}s read"
    if stopped_at is None:
        return f"{counted}: the EHR gave no link to the rest" if short else None
    if short:
        return f"{counted}: the search stopped after {stopped_at} pages"
    return f"{resource_type} search stopped after {stopped_at} pages; some records were not read"


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


def _id_from_location(location: str, resource_type: str) -> str | None:
    """``…/DocumentReference/123/_history/1`` -> ``123``."""
    parts = urlsplit(location).path.split("/")
    if resource_type in parts:
        index = parts.index(resource_type)
        if index + 1 < len(parts) and parts[index + 1]:
            return parts[index + 1]
    return None
