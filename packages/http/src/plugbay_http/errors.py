"""Turning HTTP failures into tool errors a person (or a model) can act on.

A backend's error answer becomes a :class:`HttpStatusError`, a
:class:`plugbay.ToolError` whose message says what happened in the words of the
status (credentials, permissions, a missing record, invalid input, a rate limit,
an outage), quotes the vendor's own explanation, and says what to do next. Network
failures become a :class:`BackendUnavailable` error. Secret values never reach a
message.

A write that is not idempotent and whose outcome is unknown (a 5xx answer, a reset
or timeout after the request went out, an answer that cannot be read) is never
called a plain failure: its error says the write may have happened and how to check
before trying again (:meth:`ErrorMapper.unknown_outcome`), and carries
``maybe_applied``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import httpx

from plugbay import ToolError
from plugbay_http.redaction import Redactor
from plugbay_http.retry import may_have_been_applied, parse_retry_after

MAX_VENDOR_MESSAGE = 500
"""Characters of the vendor's explanation quoted in a message."""

_MESSAGE_KEYS = ("message", "error_description", "detail", "details", "error", "errors", "title")


class HttpStatusError(ToolError):
    """The backend answered with an error status.

    Attributes:
        status: The HTTP status code.
        vendor_message: The backend's own explanation, if it gave one.
        retry_after: Seconds the backend asked us to wait (429 and 503), if it said.
        maybe_applied: The request was a write that may have been carried out before
            the error (a 5xx to a create): check before sending it again.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        vendor_message: str | None = None,
        retry_after: float | None = None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.vendor_message = vendor_message
        self.retry_after = retry_after
        self.maybe_applied = maybe_applied


class UnreadableAnswer(ToolError):
    """The backend answered with success, but not with what the request expects.

    Attributes:
        status: The HTTP status code.
        maybe_applied: The request was a write that was most likely carried out.
    """

    def __init__(self, message: str, *, status: int, maybe_applied: bool) -> None:
        super().__init__(message)
        self.status = status
        self.maybe_applied = maybe_applied


class BackendUnavailable(ToolError):
    """The backend could not be reached or did not answer in time.

    Attributes:
        maybe_applied: The request may have reached the backend before the failure,
            so a write may have been carried out.
    """

    def __init__(self, message: str, *, maybe_applied: bool) -> None:
        super().__init__(message)
        self.maybe_applied = maybe_applied


def _flatten(value: Any) -> list[str]:
    """The human-readable strings in a vendor's error body, field names kept."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, int | float | bool):
        return [str(value)]
    if isinstance(value, list):
        return [text for item in value for text in _flatten(item)]
    if isinstance(value, dict):
        for key in _MESSAGE_KEYS:
            if key in value:
                found = _flatten(value[key])
                if found:
                    return found
        # A mapping of field names to problems: {"name": [{"error": "invalid"}]}.
        return [
            f"{key}: {'; '.join(texts)}"
            for key, item in value.items()
            if isinstance(key, str) and (texts := _flatten(item))
        ]
    return []


def vendor_message(response: httpx.Response) -> str | None:
    """The backend's own explanation of an error answer, as one line.

    Understands the common JSON shapes (``message``, ``error``, ``errors``,
    ``detail``..., including per-field maps) and falls back to a short plain-text
    body. HTML error pages are ignored.
    """
    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return None
    text = text.strip()
    if not text:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        if text.lstrip().startswith("<"):
            return None
        found = [text]
    else:
        found = _flatten(body)
    line = " ".join("; ".join(found).split())
    if not line:
        return None
    if len(line) > MAX_VENDOR_MESSAGE:
        line = line[: MAX_VENDOR_MESSAGE - 3] + "..."
    return line


def unknown_outcome(service: str, method: str, check: str | None = None) -> str:
    """The sentences that end the error of a write to ``service`` whose outcome is unknown.

    Starts with a space, to follow the sentence that says what failed.

    Args:
        service: The backend's name ("Copper").
        method: The request's method.
        check: How to find out whether it took effect, as a sentence; a generic one
            by default.
    """
    check = check or (
        f"Check in {service} whether it took effect before trying again, so as not to do it twice."
    )
    return (
        f" Its outcome is unknown: the {method} request may have been carried out by "
        f"{service} before the failure, so it was not retried. {check}"
    )


def _seconds(value: float) -> str:
    return f"{math.ceil(value)} s"


class ErrorMapper:
    """Builds the tool errors for one backend.

    Args:
        service: The backend's name as users know it ("Copper").
        auth_hint: What to do about rejected credentials, naming the settings or
            environment variables ("Check the api_key and user_email settings").
        message_of: Extracts the vendor's explanation from an error answer.
        redactor: Scrubs secret values from everything quoted; a :class:`RestClient`
            given a mapper without one lends it its own (which knows the client's
            credentials).
    """

    def __init__(
        self,
        service: str,
        *,
        auth_hint: str = "Check the API credentials in the connector's settings.",
        message_of: Callable[[httpx.Response], str | None] = vendor_message,
        redactor: Redactor | None = None,
    ) -> None:
        self.service = service
        self.auth_hint = auth_hint
        self._message_of = message_of
        self.redactor = redactor or Redactor()

    def unknown_outcome(self, method: str, check: str | None = None) -> str:
        """The sentences that end the error of a write whose outcome is unknown.

        Args:
            method: The request's method.
            check: How to find out whether it took effect, as a sentence ("The person
                may exist: search_people for it by email before creating it again.");
                a generic one by default.
        """
        return unknown_outcome(self.service, method, check)

    def for_response(
        self,
        response: httpx.Response,
        *,
        subject: str | None = None,
        attempts: int = 1,
        maybe_applied: bool = False,
        check: str | None = None,
    ) -> HttpStatusError:
        """The error for an answer with an error status (or a redirect not followed).

        Args:
            response: The answer (its body already read).
            subject: What the request was about, for 404s ("person with id 12").
            attempts: How many tries were made.
            maybe_applied: The request is a write that the answer does not prove was
                turned down (see :meth:`RetryPolicy.may_have_acted`): the message says
                it may have happened instead of "try again".
            check: How to find out whether it did (see :meth:`unknown_outcome`).
        """
        status = response.status_code
        said = self._message_of(response)
        said = self.redactor.redact(said) if said else None
        quoted = f": {said}" if said else ""
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        service = self.service
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if status == 401:
            message = f"{service} rejected the credentials (HTTP 401){quoted}. {self.auth_hint}"
        elif status == 403:
            message = (
                f"{service} refused access (HTTP 403){quoted}. The account behind the API "
                f"credentials lacks permission for this; ask a {service} administrator."
            )
        elif status == 404 and response.request.method == "DELETE" and attempts > 1:
            # A DELETE is retried after an answer that was lost; the lost one may have
            # deleted it (or the retry followed a failure to connect: then check the id).
            what = subject or response.request.url.path
            message = (
                f"{service} has no {what} (HTTP 404{tries}): an earlier attempt whose "
                "answer was lost may have deleted it; if none got through, check the id."
            )
        elif status == 404:
            what = f"no {subject}" if subject else f"nothing at {response.request.url.path}"
            message = f"{service} has {what} (HTTP 404). Check the id, or search for the record."
        elif status == 409:
            message = f"{service} reported a conflict (HTTP 409){quoted}."
        elif status in (400, 422):
            message = (
                f"{service} did not accept the input (HTTP {status}){quoted}. "
                "Correct the values named and try again."
            )
        elif status == 429 and maybe_applied:
            message = f"{service} is rate limiting requests (HTTP 429){quoted}{tries}."
        elif status == 429:
            wait = (
                f"retry after {_seconds(retry_after)}"
                if retry_after is not None
                else "wait a minute and try again"
            )
            message = f"{service} is rate limiting requests (HTTP 429){tries}: {wait}."
        elif status >= 500 and maybe_applied:
            message = f"{service} failed to handle the request (HTTP {status}){quoted}{tries}."
        elif status >= 500:
            message = (
                f"{service} failed to handle the request (HTTP {status}){quoted}{tries}. "
                "This is on the backend's side; try again later."
            )
        else:
            message = f"{service} answered HTTP {status}{quoted}."
        if maybe_applied:
            message += self.unknown_outcome(response.request.method, check)
        return HttpStatusError(
            message,
            status=status,
            vendor_message=said,
            retry_after=retry_after,
            maybe_applied=maybe_applied,
        )

    def for_unreadable(
        self,
        response: httpx.Response,
        *,
        problem: str = "is not JSON",
        maybe_applied: bool = False,
        check: str | None = None,
    ) -> UnreadableAnswer:
        """The error for a successful answer whose body is not what the request expects.

        Args:
            response: The answer.
            problem: What is wrong with it, after "the answer" ("is not JSON").
            maybe_applied: The request is a write: a success status says it was most
                likely carried out, so the message says so instead of "try again".
            check: How to find out whether it was (see :meth:`unknown_outcome`).
        """
        request = response.request
        message = (
            f"{self.service} answered {request.method} {request.url.path} with HTTP "
            f"{response.status_code}, but the answer {problem}."
        )
        if maybe_applied:
            message += self.unknown_outcome(request.method, check)
        else:
            message += " Check the base_url setting; if it is right, try again later."
        return UnreadableAnswer(
            self.redactor.redact(message), status=response.status_code, maybe_applied=maybe_applied
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
            check: For a write that may have been carried out: how to find out
                whether it was (see :meth:`unknown_outcome`).
        """
        try:
            host: str | None = error.request.url.host
        except RuntimeError:  # raised without a request attached
            host = None
        where = f" at {host}" if host else ""
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        service = self.service
        if isinstance(error, httpx.ConnectTimeout | httpx.ConnectError):
            reason = self.redactor.redact(str(error)) or type(error).__name__
            message = (
                f"Could not connect to {service}{where}{tries}: {reason}. Check the base_url "
                "setting and the network, then try again."
            )
        elif isinstance(error, httpx.PoolTimeout):
            message = f"Too many requests to {service} are in flight{tries}; try again in a moment."
        elif isinstance(error, httpx.TimeoutException):
            message = f"{service}{where} did not answer in time{tries}."
        elif isinstance(error, httpx.DecodingError):
            message = f"The answer of {service}{where} could not be decoded{tries}."
        else:
            message = f"The connection to {service}{where} failed ({type(error).__name__}){tries}."
        maybe_applied = may_have_been_applied(error)
        if maybe_applied and not idempotent:
            message += self.unknown_outcome(method, check)
        elif not message.endswith("try again.") and "try again" not in message:
            message += " Try again later."
        return BackendUnavailable(message, maybe_applied=maybe_applied)
