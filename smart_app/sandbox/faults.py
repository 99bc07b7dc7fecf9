"""Fault injection for tests: make the next DocumentReference creates fail (before storing them, or after, as an EHR
whose answer is lost on the way back does), searches ignore ``patient=``, some types' reads slow, or the whole FHIR
API answer errors, as a busy, broken or down EHR would."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class WriteFault:
    """One injected failure: the HTTP status to answer and an optional ``Retry-After`` (seconds)."""

    status: int
    retry_after: int | None = None
    after_store: bool = False  # the document is stored first, then this error answered (the answer was lost)


class WriteFaults:
    """A thread-safe queue of injected write failures."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[WriteFault] = []
        self._every: tuple[int, WriteFault] | None = None
        self._count = 0

    def fail_every(self, nth: int, status: int) -> None:
        """From now on, make every ``nth`` DocumentReference POST answer ``status`` (0 turns it off)."""
        with self._lock:
            self._every = (nth, WriteFault(status)) if nth else None
            self._count = 0

    def fail_next_writes(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """Make the next ``times`` DocumentReference POSTs answer ``status`` with an OperationOutcome."""
        if not 400 <= status <= 599:
            raise ValueError("an injected failure needs a 4xx or 5xx status")
        with self._lock:
            self._pending.extend([WriteFault(status, retry_after)] * times)

    def lose_next_answers(self, status: int = 503, times: int = 1) -> None:
        """Store each of the next ``times`` DocumentReference creates, then answer ``status`` as if it had not:
        what a client sees when a proxy or the EHR loses the answer to a write that landed."""
        if not 500 <= status <= 599:
            raise ValueError("a lost answer is a 5xx status")
        with self._lock:
            self._pending.extend([WriteFault(status, after_store=True)] * times)

    def take(self) -> WriteFault | None:
        """The next injected failure, consumed; None when writes should go through."""
        with self._lock:
            if self._pending:
                return self._pending.pop(0)
            if self._every:
                self._count += 1
                if self._count % self._every[0] == 0:
                    return self._every[1]
            return None

    def clear(self) -> None:
        """Drop every pending failure."""
        with self._lock:
            self._pending.clear()
            self._every = None


class SearchFaults:
    """Make searches ignore ``patient=`` (and the token's patient compartment), as an EHR that answers a patient's
    search with every patient's records does."""

    PATIENT_PARAMS = ("patient", "subject", "beneficiary")

    def __init__(self) -> None:
        self.ignore_patient = False

    def criteria(self, criteria: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The search criteria this EHR really applies."""
        if not self.ignore_patient:
            return criteria
        return [(name, value) for name, value in criteria if name.split(":")[0] not in self.PATIENT_PARAMS]


class ReadDelays:
    """Make searches of some resource types slow (seconds), as an EHR with one struggling service is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._delays: dict[str, float] = {}

    def slow(self, resource_type: str, seconds: float) -> None:
        """Delay every search and read of ``resource_type`` by ``seconds`` (0 removes the delay)."""
        with self._lock:
            if seconds:
                self._delays[resource_type] = seconds
            else:
                self._delays.pop(resource_type, None)

    def delay_for(self, resource_type: str) -> float:
        """The delay to add for one request of ``resource_type``."""
        with self._lock:
            return self._delays.get(resource_type, 0.0)


class Outage:
    """The whole FHIR API down: while on, every FHIR request (reads, searches, creates; not the OAuth endpoints)
    answers ``status``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: int | None = None

    def begin(self, status: int = 500) -> None:
        """From now on, answer every FHIR request with ``status``."""
        with self._lock:
            self._status = status

    def end(self) -> None:
        """Serve again."""
        with self._lock:
            self._status = None

    @property
    def status(self) -> int | None:
        """The status every FHIR request gets now, or None when the API serves."""
        with self._lock:
            return self._status
