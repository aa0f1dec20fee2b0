"""`RestClient`: one pooled HTTP client per connector instance, a good API citizen.

A connector opens it in ``start()`` and closes it in ``stop()``. Every request goes
through the rate limiter, is retried when (and only when) trying again is safe, and
ends either in a successful answer or in a :class:`plugbay.ToolError` that says
what went wrong. Credentials never appear in logs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

import anyio
import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from plugbay_http.errors import ErrorMapper
from plugbay_http.ratelimit import RateLimit, RateLimiter
from plugbay_http.redaction import RedactingFilter, Redactor, is_sensitive_header, redact_headers
from plugbay_http.retry import RetryableResponse, RetryPolicy, is_idempotent

logger = logging.getLogger("plugbay_http")

USER_AGENT = "plugbay-http"
_JSON_NAMES: dict[type, str] = {dict: "object", list: "array", str: "string"}


class RestClient:
    """An ``httpx.AsyncClient`` for one backend, with retries, rate limiting and error mapping.

    ::

        client = RestClient(
            "https://api.example.com/v1",
            service="Example",
            headers={"Authorization": f"Bearer {token}"},
            rate_limit=RateLimit(100, per_seconds=10),
        )
        await client.start()
        person = (await client.request("GET", "/people/12", subject="person with id 12")).json()
        await client.aclose()

    Args:
        base_url: The API's base URL; request paths are appended to it.
        service: The backend's name for messages ("Copper").
        headers: Headers sent with every request (credentials included).
        secret_headers: Names of headers whose values are secrets, on top of the
            usual ones (``Authorization``, names containing ``token``, ``key``...).
            Their values are redacted from logs and messages.
        secrets: Secret values sent some other way (in request bodies, as XML-RPC
            and JSON-RPC APIs do with their API key); they are redacted likewise.
        timeout: Seconds for each phase (connect, write, each read, pool), or an
            ``httpx.Timeout``.
        rate_limit: The backend's published limit, or a ready :class:`RateLimiter`
            (to share one budget between clients); ``None`` for no limiting.
        retry: When and how to retry; the default tries four times.
        errors: Builds the tool errors; defaults to an :class:`ErrorMapper` for ``service``.
        transport: An httpx transport, for tests (``httpx.MockTransport``).
        limits: Connection pool limits.
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        headers: Mapping[str, str] | None = None,
        secret_headers: Iterable[str] = (),
        secrets: Iterable[str] = (),
        timeout: float | httpx.Timeout = 30.0,
        rate_limit: RateLimit | RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        errors: ErrorMapper | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.service = service
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        self._secret_headers = tuple(secret_headers)
        header_secrets = [
            value
            for name, value in self._headers.items()
            if is_sensitive_header(name, self._secret_headers)
        ]
        self.redactor = Redactor([*header_secrets, *secrets])
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        if isinstance(rate_limit, RateLimit):
            rate_limit = RateLimiter(rate_limit)
        self.limiter: RateLimiter | None = rate_limit
        self.retry = retry or RetryPolicy()
        self.errors = errors or ErrorMapper(service)
        if not self.errors.redactor:
            self.errors.redactor = self.redactor
        self._transport = transport
        self._limits = limits or httpx.Limits(max_connections=20, max_keepalive_connections=10)
        self._client: httpx.AsyncClient | None = None
        self._log_filter = RedactingFilter(self.redactor)

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Open the connection pool. Call once, from the connector's ``start()``."""
        if self._client is not None:
            return
        self._log_filter.install()
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=self._headers,
            timeout=self._timeout,
            limits=self._limits,
            transport=self._transport,
            event_hooks={"request": [self._log_request], "response": [self._log_response]},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        """Close the pool; safe to call twice, and after a failed start."""
        client, self._client = self._client, None
        try:
            if client is not None:
                await client.aclose()
            if self.limiter is not None:
                await self.limiter.close()
        finally:
            self._log_filter.uninstall()

    async def __aenter__(self) -> RestClient:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    @property
    def client(self) -> httpx.AsyncClient:
        """The underlying ``httpx.AsyncClient``; available between start and close."""
        if self._client is None:
            raise RuntimeError(f"the {self.service} client is not started (call start() first)")
        return self._client

    # -- requests -------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        subject: str | None = None,
        check: str | None = None,
    ) -> httpx.Response:
        """Send a request and return the successful answer, retrying when that is safe.

        A request that is not idempotent is never sent again once it may have reached
        the backend; when it then fails in a way that does not prove the backend
        turned it down (a 5xx, a reset, a read timeout, an answer that cannot be
        decoded), the error says that it may have been carried out, and ``check``.

        Args:
            method: The HTTP method.
            path: The path below ``base_url`` (a leading ``/`` is fine).
            params: Query parameters.
            json: A JSON body.
            content: A body already encoded (XML-RPC, a form, a file), sent as it
                is; set its ``Content-Type`` in ``headers``. Bytes rather than a
                stream, so that a retry can send it again. Not with ``json``.
            headers: Extra headers for this request.
            idempotent: Whether the request may be repeated without effect; ``None``
                decides by method (GET, HEAD, PUT, DELETE, OPTIONS are; POST is not).
                Flag read-only POSTs (search endpoints, RPC reads) with ``True``.
            subject: What the request is about, for a 404 ("person with id 12").
            check: For a write: how to find out whether it took effect when its
                outcome is unknown, as a sentence ("The person may exist:
                search_people for it by email before creating it again.").

        Returns:
            The answer, status 2xx or 3xx, body read.

        Raises:
            HttpStatusError: The backend answered with an error status.
            BackendUnavailable: No answer (network failure or timeout), after retries,
                or one that could not be decoded.
            ValueError: Both ``json`` and ``content`` were given.
        """
        if json is not None and content is not None:
            raise ValueError("send either a json body or raw content, not both")
        method = method.upper()
        safe = is_idempotent(method, idempotent)
        url = path.lstrip("/")
        client = self.client
        attempts = 0

        async def send() -> httpx.Response:
            nonlocal attempts
            attempts += 1
            if self.limiter is None:
                response = await client.request(
                    method, url, params=params, json=json, content=content, headers=headers
                )
            else:
                async with self.limiter.slot():
                    response = await client.request(
                        method, url, params=params, json=json, content=content, headers=headers
                    )
            if response.status_code in self.retry.retry_statuses:
                raise RetryableResponse(response)
            return response

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self.retry.wait,
            retry=retry_if_exception(lambda error: self.retry.should_retry(error, idempotent=safe)),
            before_sleep=self._log_retry,
            sleep=anyio.sleep,
            reraise=True,
        )
        try:
            response: httpx.Response = await retrying(send)
            failed = response.is_error
        except RetryableResponse as error:
            response, failed = error.response, True
        except httpx.RequestError as error:
            # Transport failures, and answers whose encoding cannot be decoded.
            raise self.errors.for_transport(
                error, method=method, idempotent=safe, attempts=attempts, check=check
            ) from None
        if failed:
            raise self.errors.for_response(
                response,
                subject=subject,
                attempts=attempts,
                maybe_applied=self.may_have_acted(response, idempotent),
                check=check,
            )
        return response

    def may_have_acted(self, response: httpx.Response, idempotent: bool | None = None) -> bool:
        """Whether ``response`` leaves a write's outcome unknown.

        True for a request that is not idempotent (see :meth:`request`'s
        ``idempotent``) answered with anything but a refusal (4xx; a 429 only where
        the :class:`RetryPolicy` knows the backend turns requests away unprocessed).
        """
        safe = is_idempotent(response.request.method, idempotent)
        return not safe and self.retry.may_have_acted(response.status_code)

    async def request_json(
        self, method: str, path: str, *, expect: type | None = None, **options: Any
    ) -> Any:
        """:meth:`request`, returning the decoded JSON body (``None`` when empty).

        Args:
            method: The HTTP method.
            path: The path below ``base_url``.
            expect: The type the body must decode to (``dict``, ``list``); an empty
                body or another type is reported like a body that is not JSON.
            **options: The other arguments of :meth:`request`.

        Raises:
            UnreadableAnswer: A success status without the JSON expected; for a write,
                the message says it was most likely carried out.
        """
        response = await self.request(method, path, **options)
        check = options.get("check")
        if not response.is_success:  # a redirect, not followed
            raise self.errors.for_response(
                response,
                subject=options.get("subject"),
                maybe_applied=self.may_have_acted(response, options.get("idempotent")),
                check=check,
            )
        written = not is_idempotent(method, options.get("idempotent"))
        if not response.content and expect is None:
            return None
        try:
            body = response.json()
        except ValueError:
            raise self.errors.for_unreadable(response, maybe_applied=written, check=check) from None
        if expect is not None and not isinstance(body, expect):
            raise self.errors.for_unreadable(
                response,
                problem=f"is not a JSON {_JSON_NAMES.get(expect, expect.__name__)}",
                maybe_applied=written,
                check=check,
            )
        return body

    # -- logging --------------------------------------------------------------------

    def _display_url(self, url: httpx.URL) -> str:
        """The URL with secret-looking query parameters redacted."""
        if not url.query:
            return str(url)
        params = [
            (name, "[REDACTED]" if is_sensitive_header(name, self._secret_headers) else value)
            for name, value in url.params.multi_items()
        ]
        return str(url.copy_with(params=params))

    async def _log_request(self, request: httpx.Request) -> None:
        request.extensions["plugbay_started"] = time.perf_counter()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s request %s %s headers=%s",
                self.service,
                request.method,
                self._display_url(request.url),
                redact_headers(dict(request.headers), self._secret_headers),
            )

    async def _log_response(self, response: httpx.Response) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return  # the URL's redaction and the timing are for this line only
        started = response.request.extensions.get("plugbay_started")
        elapsed = (time.perf_counter() - started) * 1000 if isinstance(started, float) else 0.0
        logger.debug(
            "%s answered %s to %s %s in %.0f ms",
            self.service,
            response.status_code,
            response.request.method,
            self._display_url(response.request.url),
            elapsed,
        )

    def _log_retry(self, state: RetryCallState) -> None:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RetryableResponse):
            reason = f"HTTP {error.response.status_code}"
        else:
            reason = type(error).__name__
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "%s: retrying after %s in %.2f s (attempt %d of %d)",
            self.service,
            reason,
            delay,
            state.attempt_number + 1,
            self.retry.attempts,
        )
