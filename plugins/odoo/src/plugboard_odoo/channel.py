"""The HTTP underneath every transport: one pooled async client per instance.

The transports only need one operation, "POST these bytes to this path and give me
the answer's bytes"; :class:`HttpChannel` is that interface, so that the HTTP stack
can change (plugboard-http's ``RestClient`` once it sends raw bodies) without the
transports noticing. :class:`HttpxChannel` implements it over ``httpx.AsyncClient``
with keep-alive connections, timeouts, and retries for calls that are safe to repeat.
"""

from __future__ import annotations

import contextlib
import logging
import random
from typing import Protocol

import anyio
import httpx

from plugboard import ToolError

logger = logging.getLogger("plugboard_odoo")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Answers from Odoo or a proxy in front of it that say "not now" rather than "no"."""
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures that happen before any byte of the request reaches Odoo."""
MAX_RETRY_AFTER = 10.0
USER_AGENT = "plugboard-odoo"


class OdooUnavailable(ToolError):
    """Odoo could not be reached, or answered with an HTTP error instead of an RPC answer."""


class HttpChannel(Protocol):
    """Sends request bodies to Odoo and returns the bodies of its answers."""

    async def post(self, path: str, body: bytes, *, content_type: str, idempotent: bool) -> bytes:
        """POST ``body`` to ``path`` and return the answer's body.

        Args:
            path: The path below the server's URL (``/xmlrpc/2/object``).
            body: The encoded request.
            content_type: Its media type.
            idempotent: Whether sending it twice is harmless (a read): only such
                requests are tried again after Odoo may have received them.

        Raises:
            OdooUnavailable: No answer, or an HTTP error status.
        """
        ...

    async def aclose(self) -> None:
        """Close the connections."""
        ...


class HttpxChannel:
    """:class:`HttpChannel` over one pooled ``httpx.AsyncClient``.

    Args:
        base_url: The Odoo server's URL.
        timeout: Seconds for each phase of a request (connect, write, read, pool).
        max_attempts: Tries per request, the first included.
        max_connections: Size of the connection pool.
        transport: An httpx transport, for tests.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        max_attempts: int = 3,
        max_connections: int = 10,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"User-Agent": USER_AGENT},
            transport=transport,
            follow_redirects=False,
        )

    async def post(self, path: str, body: bytes, *, content_type: str, idempotent: bool) -> bytes:
        """POST ``body`` to ``path``, retrying when that cannot do anything twice."""
        headers = {"Content-Type": content_type}
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.max_attempts
            try:
                response = await self._client.post(path, content=body, headers=headers)
            except httpx.TransportError as error:
                unsent = isinstance(error, _UNSENT)
                if not last and (idempotent or unsent):
                    await self._wait(attempt, None, type(error).__name__)
                    continue
                raise self._unavailable(
                    error, attempt, maybe_applied=not unsent and not idempotent
                ) from None
            status = response.status_code
            if status == 200:
                return response.content
            # A 429 turns the request away before Odoo runs it; other statuses may not.
            if not last and status in RETRY_STATUSES and (idempotent or status == 429):
                await self._wait(attempt, response.headers.get("Retry-After"), f"HTTP {status}")
                continue
            raise self._status_error(response, path, attempt)

    async def aclose(self) -> None:
        """Close the pool."""
        await self._client.aclose()

    async def _wait(self, attempt: int, retry_after: str | None, reason: str) -> None:
        delay = min(0.2 * 2 ** (attempt - 1), 2.0) + random.uniform(0, 0.1)  # noqa: S311
        if retry_after is not None:
            with contextlib.suppress(ValueError):
                delay = min(max(float(retry_after), 0.0), MAX_RETRY_AFTER)
        logger.warning(
            "Odoo at %s: retrying after %s in %.2f s (attempt %d of %d)",
            self.base_url,
            reason,
            delay,
            attempt + 1,
            self.max_attempts,
        )
        await anyio.sleep(delay)

    def _unavailable(
        self, error: httpx.TransportError, attempts: int, *, maybe_applied: bool
    ) -> OdooUnavailable:
        kind = type(error).__name__
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if isinstance(error, httpx.TimeoutException):
            what = f"Odoo at {self.base_url} did not answer in time ({kind}){tries}"
        else:
            what = f"Odoo at {self.base_url} could not be reached ({kind}){tries}"
        if maybe_applied:
            advice = (
                "The request may have reached Odoo: check whether it took effect before "
                "trying again."
            )
        elif isinstance(error, httpx.TimeoutException) and not isinstance(error, _UNSENT):
            advice = "Try again; if it keeps happening, raise the timeout setting."
        else:
            advice = "Check the url setting and that Odoo is running, then try again."
        return OdooUnavailable(f"{what}. {advice}")

    def _status_error(self, response: httpx.Response, path: str, attempts: int) -> OdooUnavailable:
        status = response.status_code
        where = f"Odoo at {self.base_url} answered HTTP {status} to POST {path}"
        if attempts > 1:
            where += f" (after {attempts} attempts)"
        if status == 404:
            advice = (
                "Check that the url setting is the Odoo server's root URL (e.g. "
                "https://erp.example.com) and that its external API is not blocked by a proxy."
            )
        elif status in (401, 403, 407):
            advice = "A proxy or firewall in front of Odoo refused the request."
        elif status == 429:
            advice = "Odoo is limiting the rate of requests: wait a moment and try again."
        elif 300 <= status < 400:
            location = response.headers.get("Location", "another URL")
            advice = f"It redirects to {location}: set the url setting to that address."
        elif status >= 500:
            advice = "Odoo or a proxy in front of it is failing; try again later."
        else:
            advice = "This is not an answer of Odoo's external API."
        return OdooUnavailable(f"{where}. {advice}")
