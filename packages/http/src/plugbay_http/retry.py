"""When a failed request is tried again, and how long to wait first.

The rule that keeps data safe: a request is retried only when trying again cannot
do anything twice. Idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS, and POSTs
the caller flags, such as search endpoints) are retried after network errors,
timeouts, 429 and 5xx answers. Other writes are retried only when the backend
provably never acted on them: the connection could not be opened, or the backend
answered 429 and its documentation says a 429 turns a request away unprocessed
(:attr:`RetryPolicy.unprocessed_on_429`). Any other failure of such a write leaves
its outcome unknown (:meth:`RetryPolicy.may_have_acted`): it is reported as such,
never retried.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field

import httpx
from tenacity import RetryCallState, wait_exponential_jitter

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
"""Methods that RFC 9110 defines as idempotent."""

_UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures that happen before any byte of the request reaches the backend."""
_REFUSED = range(400, 500)
"""Client errors: the backend turned the request down instead of carrying it out."""


def is_idempotent(method: str, flag: bool | None = None) -> bool:
    """Whether a request may be repeated safely.

    Args:
        method: The HTTP method.
        flag: The caller's explicit answer (``True`` for a read-only POST search,
            ``False`` for a PUT with side effects); ``None`` goes by the method.
    """
    if flag is not None:
        return flag
    return method.upper() in IDEMPOTENT_METHODS


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date).

    Returns:
        The delay, never negative, or ``None`` when the header is absent or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


class RetryableResponse(Exception):
    """Raised inside the retry loop for an answer whose status may deserve another try."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to try, which failures to retry, and the waits in between.

    Waits grow exponentially from ``initial_backoff`` up to ``max_backoff`` with up to
    ``jitter`` seconds of random spread, unless the backend says how long to wait
    with ``Retry-After``; that is honoured up to ``max_retry_after``, and a longer
    one ends the retries at once (the caller hears how long to wait instead).

    Attributes:
        attempts: Tries in all, the first included (1 disables retries).
        initial_backoff: The first wait, in seconds.
        max_backoff: The longest computed wait.
        jitter: Up to this many seconds are added at random to each computed wait, so
            that clients that failed together do not retry together.
        max_retry_after: The longest ``Retry-After`` that is waited out.
        retry_statuses: Answers worth another try (for idempotent requests).
        retry_unsent_writes: Retry non-idempotent requests when the backend provably
            did not act on them (no connection; a 429 where ``unprocessed_on_429``).
        unprocessed_on_429: The backend documents that a 429 turns a request away
            before it is processed, so a write answered 429 did nothing. Off by
            default: without the vendor's word, a 429 to a write (from a proxy, say)
            leaves its outcome unknown, like a 5xx.
    """

    attempts: int = 4
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0
    retry_statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({429, 500, 502, 503, 504})
    )
    retry_unsent_writes: bool = True
    unprocessed_on_429: bool = False

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts counts the first try too: it is at least 1")

    def should_retry(self, error: BaseException, *, idempotent: bool) -> bool:
        """Whether the failure ``error`` of a request deserves another try."""
        if isinstance(error, RetryableResponse):
            status = error.response.status_code
            if status == 429:
                if error.retry_after is not None and error.retry_after > self.max_retry_after:
                    return False
                return idempotent or (self.retry_unsent_writes and self.unprocessed_on_429)
            return idempotent and status in self.retry_statuses
        if isinstance(error, _UNSENT_ERRORS):
            return idempotent or self.retry_unsent_writes
        if isinstance(error, httpx.TransportError):
            # Read errors, resets and read timeouts: the backend may have acted.
            return idempotent
        return False

    def may_have_acted(self, status: int) -> bool:
        """Whether a request answered with ``status`` may have been carried out.

        Only client errors (4xx) say the backend turned the request down; a 429 says
        so only where the backend documents it (``unprocessed_on_429``). Anything else,
        a 5xx above all, may come after the work was done: a crash while answering, a
        proxy that gave up waiting. Fails closed: an unknown status may have acted.
        """
        if status == 429:
            return not self.unprocessed_on_429
        return status not in _REFUSED

    def wait(self, state: RetryCallState) -> float:
        """The wait before the next try (a tenacity ``wait`` strategy)."""
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RetryableResponse) and error.retry_after is not None:
            return error.retry_after
        backoff = wait_exponential_jitter(
            multiplier=self.initial_backoff, max=self.max_backoff, jitter=self.jitter
        )
        return float(backoff(state))


def may_have_been_applied(error: BaseException) -> bool:
    """Whether a request that failed with ``error`` may still have reached the backend.

    Only a connection that could not be opened (or a free one that never came from the
    pool) proves the request was not sent; a read timeout, a reset or an answer that
    could not be decoded all come after it may have been carried out.
    """
    if isinstance(error, _UNSENT_ERRORS):
        return False
    return isinstance(error, httpx.RequestError)
