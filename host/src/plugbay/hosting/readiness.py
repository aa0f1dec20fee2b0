"""Readiness: is every connector instance started and its backend answering?

``/healthz`` says the process is alive; ``/readyz`` says it can serve. It runs each
started instance's ``check_health()`` concurrently with a short timeout, plus any
extra checks (the Redis event store), and caches the answer for a moment so that
probes from several load balancers do not hammer the backends.

Anyone may ask, so an anonymous caller gets the status alone (``{"status": "ready"}``
and the status code); which instances there are, what they run and why one is not
ready go only to a caller one of the auth backends accepts, or to a loopback client
that came directly (no forwarding headers) with a ``Host`` the server serves.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse

from plugbay.assembly import Assembly
from plugbay.auth import AuthBackend, AuthenticationFailed
from plugbay.hosting.host_check import HostCheck
from plugbay.hosting.http_auth import principal_of
from plugbay.instances import InstanceState
from plugbay.network import is_loopback

logger = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0
"""Seconds one health check may take before the instance counts as not ready."""
CACHE_SECONDS = 1.0
"""How long an answer is reused."""

Check = Callable[[], Awaitable[None]]
_PROBLEM_KIND = re.compile(r"^(failed to start|could not be created): (\w+)")
_FORWARDING_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


@dataclass(frozen=True, slots=True)
class DetailViewers:
    """Who sees the details of ``/readyz``: authenticated callers and direct local ones.

    Attributes:
        backends: The auth backends; a caller one of them accepts sees the details.
        host_check: The served ``Host`` and ``Origin`` values, when they are checked;
            a loopback caller sees the details only with one of them (so that a web
            page cannot read them through DNS rebinding).
    """

    backends: Sequence[AuthBackend] = ()
    host_check: HostCheck | None = None

    async def allowed(self, request: Request) -> bool:
        """Whether ``request`` may see which instances there are and how they are."""
        client = request.client.host if request.client else None
        if (
            client is not None
            and is_loopback(client)
            # A proxy on this machine forwards others' requests from loopback.
            and not any(name in _FORWARDING_HEADERS for name, _ in request.scope["headers"])
            and (self.host_check is None or self.host_check.refusal(request.scope) is None)
        ):
            return True
        if not self.backends:
            return False
        try:
            return await principal_of(self.backends, request.scope) is not None
        except AuthenticationFailed:
            return False


@dataclass(slots=True)
class Readiness:
    """Answers ``/readyz`` for one assembly.

    Args:
        assembly: The served assembly.
        checks: More named checks (``"event_store"``); each raises when not ready.
        timeout: Seconds each check may take.
        cache_seconds: How long an answer is reused.
        viewers: Who sees the details; others get the status alone.
    """

    assembly: Assembly
    checks: Mapping[str, Check] = field(default_factory=dict)
    timeout: float = CHECK_TIMEOUT
    cache_seconds: float = CACHE_SECONDS
    viewers: DetailViewers = field(default_factory=DetailViewers)
    _cached: tuple[float, bool, dict[str, Any]] | None = field(default=None, init=False)
    _lock: anyio.Lock = field(default_factory=anyio.Lock, init=False)

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """Whether the server is ready, and the JSON document that says why.

        Concurrent callers share one round of checks.
        """
        async with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self.cache_seconds:
                return self._cached[1], self._cached[2]
            ready, document = await self._check_all()
            self._cached = (time.monotonic(), ready, document)
            return ready, document

    async def endpoint(self, request: Request) -> JSONResponse:
        """The ``/readyz`` route: 200 when ready, else 503 (naming what is not to viewers)."""
        ready, document = await self.report()
        if not await self.viewers.allowed(request):
            document = {"status": document["status"]}
        return JSONResponse(document, status_code=200 if ready else 503)

    async def _check_all(self) -> tuple[bool, dict[str, Any]]:
        explicit = self.assembly.config.instances is not None
        now = anyio.current_time()
        instances: dict[str, dict[str, Any]] = {}
        probes: dict[str, Check] = {}
        for name, state in self.assembly.instances.items():
            entry: dict[str, Any] = {"connector": state.connector, "status": state.status}
            if (detail := state.live_state()) is not None:
                entry["state"] = detail  # e.g. a gateway's upstream: down, retrying in 4 s
            if state.threads is not None and state.threads.abandoned:
                # Timed-out sync calls whose threads still run (see plugbay.threads).
                entry["abandoned_threads"] = state.threads.abandoned
            instances[name] = entry
            if state.status == "ready" and state.obj is not None:
                probes[name] = state.obj.check_health
            elif state.status == "not configured" and not explicit:
                # Without a [connectors] table every installed connector is tried; one
                # that needs settings nobody gave is left out, and that is not a fault.
                entry["ready"] = True
                entry["reason"] = "not configured (no [connectors] table names it)"
            else:
                entry["ready"] = False
                entry["reason"] = _reason(state)
                if state.retry_at is not None:  # see plugbay.retrying
                    entry["next_attempt_in"] = round(max(0.0, state.retry_at - now), 1)
        probed, checked = await self._run(probes, self.checks)
        for name, problem in probed.items():
            target = instances[name]
            target["ready"] = problem is None
            if problem is not None:
                target["reason"] = problem
        checks = {
            name: {"ready": checked[name] is None}
            | ({"reason": checked[name]} if checked[name] else {})
            for name in self.checks
        }
        ready = all(entry["ready"] for entry in instances.values()) and all(
            entry["ready"] for entry in checks.values()
        )
        document: dict[str, Any] = {
            "status": "ready" if ready else "not ready",
            "instances": instances,
        }
        if checks:
            document["checks"] = checks
        if not ready:
            document["not_ready"] = sorted(
                [name for name, entry in instances.items() if not entry["ready"]]
                + [name for name, entry in checks.items() if not entry["ready"]]
            )
        return ready, document

    async def _run(self, *groups: Mapping[str, Check]) -> list[dict[str, str | None]]:
        """Run every check of every group at once (so one answer waits one timeout at most).

        Returns, per group, ``None`` for each check that passed, else why not.
        """
        answers: list[dict[str, str | None]] = [{} for _ in groups]

        async def run_one(results: dict[str, str | None], name: str, probe: Check) -> None:
            problem: str | None = None
            try:
                with anyio.fail_after(self.timeout):
                    await probe()
            except TimeoutError:
                problem = f"health check did not answer within {self.timeout:g} s"
            except Exception as error:
                # The message may carry a URL with credentials: the type goes out, the
                # message only to the log.
                problem = f"health check failed ({type(error).__name__})"
                logger.warning("readiness: %s: %s", name, error)
            results[name] = problem

        async with anyio.create_task_group() as group:
            for results, probes in zip(answers, groups, strict=True):
                for name, probe in probes.items():
                    group.start_soon(run_one, results, name, probe)
        return answers


def _reason(state: InstanceState) -> str:
    """Why an instance is not serving, without anything that might be a secret."""
    if state.status == "not configured":
        # Missing settings and variables: names only, never values.
        return "not configured: " + "; ".join(state.problems)
    if state.status == "configured":
        return "not started yet"
    if state.status == "stopped":
        return "stopped"
    for problem in state.problems:
        if match := _PROBLEM_KIND.match(problem):
            return f"{match.group(1)} ({match.group(2)})"
    return state.status
