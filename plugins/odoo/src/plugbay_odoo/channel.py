"""The HTTP underneath every transport: plugbay-http's ``RestClient``, one per instance.

The RPC transports only need one operation, "POST these bytes to this path and give
me the answer's bytes"; :class:`HttpChannel` is that interface. :class:`RestChannel`
implements it over :class:`plugbay_http.RestClient`, which brings the pooled
keep-alive connections, the timeouts, the retries of calls that are safe to repeat
and the redaction of the API key; :class:`OdooHttpErrors` words its failures for
Odoo (which server, which setting to check). A transport for Odoo 19's JSON-2 API,
whose calls are JSON with a bearer key, would use :attr:`RestChannel.rest` directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Protocol

import httpx

from plugbay_http import (
    BackendUnavailable,
    ErrorMapper,
    HttpStatusError,
    RestClient,
    RetryPolicy,
    may_have_been_applied,
    parse_retry_after,
)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Answers from Odoo or a proxy in front of it that say "not now" rather than "no".

Not 500: Odoo answers its own errors as RPC faults, so a 500 is a crash that a
second try would most likely repeat.
"""
MAX_RETRY_AFTER = 10.0
"""The longest ``Retry-After`` waited out; a longer one is reported instead."""
USER_AGENT = "plugbay-odoo"


class HttpChannel(Protocol):
    """Sends request bodies to Odoo and returns the bodies of its answers."""

    async def start(self) -> None:
        """Open the connection pool."""
        ...

    async def post(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str,
        idempotent: bool,
        check: str | None = None,
    ) -> bytes:
        """POST ``body`` to ``path`` and return the answer's body.

        Args:
            path: The path below the server's URL (``/xmlrpc/2/object``).
            body: The encoded request.
            content_type: Its media type.
            idempotent: Whether sending it twice is harmless (a read): only such
                requests are tried again after Odoo may have received them.
            check: For a write: how to find out whether it took effect, for the error
                when its outcome is unknown.

        Raises:
            plugbay_http.HttpStatusError: Odoo, or a proxy, answered with an HTTP status
                other than 200.
            plugbay_http.BackendUnavailable: No answer, after the retries allowed.
        """
        ...

    async def aclose(self) -> None:
        """Close the connections."""
        ...


def retry_policy(max_attempts: int) -> RetryPolicy:
    """How the channel retries: quickly, since an RPC call is one short request.

    Reads are retried after network failures and 429/502/503/504 answers; writes only
    when Odoo provably never received them (no connection could be opened). Odoo's
    documentation says nothing of a 429 (one would come from a proxy in front of it,
    which may send it after Odoo acted), so a 429 to a write leaves its outcome unknown.
    """
    return RetryPolicy(
        attempts=max_attempts,
        initial_backoff=0.2,
        max_backoff=2.0,
        jitter=0.1,
        max_retry_after=MAX_RETRY_AFTER,
        retry_statuses=RETRY_STATUSES,
        retry_unsent_writes=True,
    )


class OdooHttpErrors(ErrorMapper):
    """Tool errors for HTTP failures that name the Odoo server and the setting to check.

    Args:
        base_url: The Odoo server's URL, as the ``url`` setting gives it.
    """

    def __init__(self, base_url: str) -> None:
        super().__init__("Odoo")
        self.base_url = base_url

    def for_response(
        self,
        response: httpx.Response,
        *,
        subject: str | None = None,
        attempts: int = 1,
        maybe_applied: bool = False,
        check: str | None = None,
    ) -> HttpStatusError:
        """The error for an answer that is not an RPC answer.

        Args:
            response: The answer.
            subject: The path the request went to, below the server's URL.
            attempts: How many tries were made.
            maybe_applied: The call was a write that the answer does not prove was
                turned down: say it may have happened rather than "try again".
            check: How to find out whether it did.
        """
        status = response.status_code
        request = f"{response.request.method} {subject or response.request.url.path}"
        where = f"Odoo at {self.base_url} answered HTTP {status} to {request}"
        if attempts > 1:
            where += f" (after {attempts} attempts)"
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 404:
            advice = (
                "Check that the url setting is the Odoo server's root URL (e.g. "
                "https://erp.example.com) and that its external API is not blocked by a proxy."
            )
        elif status in (401, 403, 407):
            advice = "A proxy or firewall in front of Odoo refused the request."
        elif maybe_applied:
            advice = "Odoo or a proxy in front of it failed to answer the call."
        elif status == 429:
            wait = f"wait {math.ceil(retry_after)} s" if retry_after else "wait a moment"
            advice = f"Odoo is limiting the rate of requests: {wait} and try again."
        elif 300 <= status < 400:
            location = response.headers.get("Location", "another URL")
            advice = f"It redirects to {location}: set the url setting to that address."
        elif status >= 500:
            advice = "Odoo or a proxy in front of it is failing; try again later."
        else:
            advice = "This is not an answer of Odoo's external API."
        if maybe_applied:
            advice += self.unknown_outcome(response.request.method, check)
        message = self.redactor.redact(f"{where}. {advice}")
        return HttpStatusError(
            message, status=status, retry_after=retry_after, maybe_applied=maybe_applied
        )

    def for_transport(
        self,
        error: httpx.RequestError,
        *,
        method: str,
        idempotent: bool,
        attempts: int = 1,
        check: str | None = None,
    ) -> BackendUnavailable:
        """The error for a request that got no answer, or none that could be decoded.

        Args:
            error: What httpx raised.
            method: The request's method.
            idempotent: Whether repeating the request is harmless.
            attempts: How many tries were made.
            check: For a write that may have been carried out: how to find out.
        """
        kind = type(error).__name__
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        maybe_applied = may_have_been_applied(error)
        if isinstance(error, httpx.PoolTimeout):
            what = f"Too many requests to Odoo at {self.base_url} are in flight ({kind}){tries}"
        elif isinstance(error, httpx.TimeoutException):
            what = f"Odoo at {self.base_url} did not answer in time ({kind}){tries}"
        elif isinstance(error, httpx.DecodingError):
            what = f"The answer of Odoo at {self.base_url} could not be decoded ({kind}){tries}"
        elif maybe_applied:
            # A reset or a drop after the request went out: Odoo was reached.
            what = f"The connection to Odoo at {self.base_url} failed ({kind}){tries}"
        else:
            what = f"Odoo at {self.base_url} could not be reached ({kind}){tries}"
        if maybe_applied and not idempotent:
            advice = self.unknown_outcome(method, check).lstrip()
        elif isinstance(error, httpx.PoolTimeout):
            advice = "Try again in a moment, or raise the max_connections setting."
        elif isinstance(error, httpx.TimeoutException) and maybe_applied:
            advice = "Try again; if it keeps happening, raise the timeout setting."
        else:
            advice = "Check the url setting and that Odoo is running, then try again."
        return BackendUnavailable(f"{what}. {advice}", maybe_applied=maybe_applied)


class RestChannel:
    """:class:`HttpChannel` over one :class:`plugbay_http.RestClient`.

    Args:
        base_url: The Odoo server's URL.
        timeout: Seconds for each phase of a request (connect, write, read, pool).
        max_attempts: Tries per request, the first included.
        max_connections: Size of the connection pool; all of it is kept alive.
        secrets: Values to keep out of logs and messages (the API key, which the
            RPC protocols send in the body).
        transport: An httpx transport, for tests.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        max_attempts: int = 3,
        max_connections: int = 10,
        secrets: Iterable[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.errors = OdooHttpErrors(self.base_url)
        self.rest = RestClient(
            self.base_url,
            service="Odoo",
            headers={"User-Agent": USER_AGENT},
            secrets=secrets,
            timeout=timeout,
            retry=retry_policy(max_attempts),
            errors=self.errors,
            transport=transport,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    async def start(self) -> None:
        """Open the connection pool."""
        await self.rest.start()

    async def post(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str,
        idempotent: bool,
        check: str | None = None,
    ) -> bytes:
        """POST ``body`` to ``path``, retrying when that cannot do anything twice."""
        # Both protocols answer in the media type they were asked in.
        headers = {"Content-Type": content_type, "Accept": content_type.split(";")[0]}
        response = await self.rest.request(
            "POST",
            path,
            content=body,
            headers=headers,
            idempotent=idempotent,
            subject=path,
            check=check,
        )
        if response.status_code != 200:
            # A redirect (http:// to https://, a login page) or an empty 2xx from a proxy
            # is not an RPC answer; say so rather than fail to parse it.
            raise self.errors.for_response(
                response,
                subject=path,
                maybe_applied=self.rest.may_have_acted(response, idempotent),
                check=check,
            )
        return response.content

    async def aclose(self) -> None:
        """Close the pool."""
        await self.rest.aclose()
