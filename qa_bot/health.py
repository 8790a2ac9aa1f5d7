"""Whether the vector store answers, and what an answer loses when it does not.

A replica holds the lexical index of every passage, so a vector store that goes away (a Chroma
server killed, a network split, a 5xx) costs the dense side of retrieval, not the answer. Every
store call goes through `StoreHealth.call`: a failure switches the replica to lexical-only
answers, logged once; while the store is down it is tried again at most every `retry_every`
seconds (so a dead server costs a request nothing), and the first call that succeeds switches
back, logged once. Answers formed without the store carry a note (see `noting`).

    >>> health = StoreHealth()
    >>> health.call(lambda: 1 / 0, fallback=lambda: "lexical")
    'lexical'
    >>> health.down
    True
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TypeVar

log = logging.getLogger("qa_bot.store")

T = TypeVar("T")

UNREACHABLE = "vector store unreachable"

# The notes of the answer being formed in this context: a mutable list shared with the copies of
# the context that LangChain runs each step in, so a note made inside a step reaches the caller.
_NOTES: ContextVar[list[str] | None] = ContextVar("qa_bot_degraded", default=None)


@contextmanager
def noting() -> Iterator[list[str]]:
    """Collect the reasons an answer formed inside the block is degraded (empty: it is not)."""
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def note(reason: str) -> None:
    """Mark the answer being formed as degraded (a no-op outside `noting`)."""
    notes = _NOTES.get()
    if notes is not None and reason not in notes:
        notes.append(reason)


class StoreHealth:
    """The vector store's state as this replica sees it; thread-safe."""

    def __init__(self, retry_every: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_every = retry_every
        self._clock = clock
        self._lock = threading.Lock()
        self._down_at: float | None = None  # monotonic time the store went away
        self._since: str | None = None  # the same, as an ISO 8601 UTC timestamp for /healthz
        self._tried = 0.0  # monotonic time of the last call while down

    @property
    def down(self) -> bool:
        return self._down_at is not None

    @property
    def since(self) -> str | None:
        """When the store went away (ISO 8601, UTC), or None while it answers."""
        return self._since

    def worth_trying(self) -> bool:
        """True while the store is up, and once per `retry_every` seconds while it is down."""
        with self._lock:
            if self._down_at is None:
                return True
            now = self._clock()
            if now - self._tried >= self.retry_every:
                self._tried = now
                return True
            return False

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self._tried = self._clock()
            if self._down_at is not None:
                return
            self._down_at = self._tried
            self._since = datetime.now(UTC).isoformat(timespec="seconds")
        log.warning(
            "%s (%s: %s); answering from the lexical index until it is back",
            UNREACHABLE,
            type(exc).__name__,
            str(exc).splitlines()[0][:200] if str(exc) else "no detail",
        )

    def succeeded(self) -> None:
        if self._down_at is None:  # the common case, without the lock
            return
        with self._lock:
            if self._down_at is None:
                return
            outage = self._clock() - self._down_at
            self._down_at = self._since = None
        log.warning("vector store is back after %.1f s; answering normally", outage)

    def call(self, fn: Callable[[], T], fallback: Callable[[], T]) -> T:
        """`fn()` when the store is worth trying and answers; otherwise `fallback()`, noted on the answer."""
        if self.worth_trying():
            try:
                value = fn()
            except Exception as exc:  # noqa: BLE001 - any store failure: answer without it
                self.failed(exc)
            else:
                self.succeeded()
                return value
        note(UNREACHABLE)
        return fallback()

    def probe(self, heartbeat: Callable[[], object]) -> bool:
        """Ask the store directly (for /healthz); True when it answers."""
        try:
            heartbeat()
        except Exception as exc:  # noqa: BLE001 - any failure means: not answering
            self.failed(exc)
            return False
        self.succeeded()
        return True
