"""Inbound rate limits per principal and per tool, counted by the ``limits`` library.

In memory by default (one process); in Redis when several workers or replicas must
share one count. A caller over its limit gets a refusal that says when to retry.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

from plugbay import Call, CallRefused
from plugbay_guard.limits_config import LimitsConfig
from plugbay_guard.patterns import NamePattern

logger = logging.getLogger(__name__)

_STRATEGIES: dict[str, type[RateLimiter]] = {
    "fixed-window": FixedWindowRateLimiter,
    "moving-window": MovingWindowRateLimiter,
    "sliding-window-counter": SlidingWindowCounterRateLimiter,
}
_WARN_EVERY = 60.0
"""Seconds between two warnings that the storage is unreachable."""
_CACHE_SIZE = 10_000


def _storage(config: LimitsConfig) -> Storage:
    if config.storage == "memory":
        return MemoryStorage()
    # redis-py's asyncio client; the URL's credentials stay inside the client.
    return RedisStorage(
        "async+" + config.storage, implementation="redispy", key_prefix=config.key_prefix
    )


def describe(rate: RateLimitItem) -> str:
    """``5 times per minute``, ``10 times per 2 hours``."""
    unit = rate.GRANULARITY.name
    window = unit if rate.multiples == 1 else f"{rate.multiples} {unit}s"
    return f"{rate.amount} {'time' if rate.amount == 1 else 'times'} per {window}"


class _Rates:
    """A default rate and pattern overrides, resolved once per name."""

    def __init__(self, default: str | None, overrides: Mapping[str, str]) -> None:
        self._default = parse(default) if default else None
        self._overrides = [
            (NamePattern([pattern]), parse(rate)) for pattern, rate in overrides.items()
        ]
        self._resolved: dict[str, RateLimitItem | None] = {}

    def of(self, name: str) -> RateLimitItem | None:
        try:
            return self._resolved[name]
        except KeyError:
            pass
        item = next((rate for pattern, rate in self._overrides if pattern.matches(name)), None)
        if item is None:
            item = self._default
        if len(self._resolved) >= _CACHE_SIZE:
            self._resolved.clear()
        self._resolved[name] = item
        return item


class RateLimits:
    """Middleware that counts each call against the caller's and the tool's rates.

    Args:
        config: The ``[limits]`` table.
        clock: Seconds since the epoch, for "retry in" (tests pass a fake one).
    """

    def __init__(self, config: LimitsConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._principals = _Rates(config.per_principal, config.principals)
        self._tools = _Rates(config.per_tool, config.tools)
        self._limiter: RateLimiter | None = None
        self._clock = clock
        self._warned_at = -math.inf

    @property
    def limiter(self) -> RateLimiter:
        """The limiter, made on first use: its storage belongs to the running event loop."""
        if self._limiter is None:
            self._limiter = _STRATEGIES[self.config.strategy](_storage(self.config))
        return self._limiter

    async def __call__(self, call: Call, call_next: Callable[[Call], Awaitable[Any]]) -> Any:
        """Count the call; refuse it, saying when to retry, if a rate is exceeded."""
        name = call.principal.name
        rate = self._principals.of(name)
        if rate is not None:
            allowance = f"{name} may make calls {describe(rate)}"
            await self._hit(rate, ("p", quote(name, safe="")), allowance)
        if call.kind == "tool":
            rate = self._tools.of(call.name)
            if rate is not None:
                await self._hit(
                    rate,
                    ("t", quote(name, safe=""), call.name),
                    f"{name} may call {call.name} {describe(rate)}",
                )
        return await call_next(call)

    async def _hit(self, rate: RateLimitItem, keys: tuple[str, ...], allowance: str) -> None:
        limiter = self.limiter
        try:
            if await limiter.hit(rate, *keys):
                return
            stats = await limiter.get_window_stats(rate, *keys)
        except Exception as error:
            self._storage_failed(error)
            return
        retry_after = max(1, math.ceil(stats.reset_time - self._clock()))
        raise CallRefused(
            f"Rate limit reached: {allowance}; retry in {retry_after} seconds",
            outcome="rate_limited",
            retry_after=retry_after,
        )

    def _storage_failed(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            logger.warning(
                "rate-limit storage unreachable (%s); calls are %s meanwhile",
                type(error).__name__,
                "allowed" if self.config.fail_open else "refused",
            )
        if not self.config.fail_open:
            raise CallRefused(
                "The server cannot check rate limits right now; retry in a few seconds",
                outcome="busy",
                retry_after=5,
            ) from None
