"""Turning HTTP failures into tool errors a person (or a model) can act on.

A backend's error answer becomes a :class:`HttpStatusError`, a
:class:`plugboard.ToolError` whose message says what happened in the words of the
status (credentials, permissions, a missing record, invalid input, a rate limit,
an outage), quotes the vendor's own explanation, and says what to do next. Network
failures become a :class:`BackendUnavailable` error. Secret values never reach a
message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import httpx

from plugboard import ToolError
from plugboard_http.redaction import Redactor
from plugboard_http.retry import may_have_been_applied, parse_retry_after

MAX_VENDOR_MESSAGE = 500
"""Characters of the vendor's explanation quoted in a message."""

_MESSAGE_KEYS = ("message", "error_description", "detail", "details", "error", "errors", "title")


class HttpStatusError(ToolError):
    """The backend answered with an error status.

    Attributes:
        status: The HTTP status code.
        vendor_message: The backend's own explanation, if it gave one.
        retry_after: Seconds the backend asked us to wait (429 and 503), if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        vendor_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.vendor_message = vendor_message
        self.retry_after = retry_after


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

    def for_response(
        self, response: httpx.Response, *, subject: str | None = None, attempts: int = 1
    ) -> HttpStatusError:
        """The error for an answer with an error status.

        Args:
            response: The answer (its body already read).
            subject: What the request was about, for 404s ("person with id 12").
            attempts: How many tries were made.
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
        elif status == 429:
            wait = (
                f"retry after {_seconds(retry_after)}"
                if retry_after is not None
                else "wait a minute and try again"
            )
            message = f"{service} is rate limiting requests (HTTP 429){tries}: {wait}."
        elif status >= 500:
            message = (
                f"{service} failed to handle the request (HTTP {status}){quoted}{tries}. "
                "This is on the backend's side; try again later."
            )
        else:
            message = f"{service} answered HTTP {status}{quoted}."
        return HttpStatusError(message, status=status, vendor_message=said, retry_after=retry_after)

    def for_transport(
        self,
        error: httpx.TransportError,
        *,
        method: str,
        idempotent: bool,
        attempts: int = 1,
    ) -> BackendUnavailable:
        """The error for a request that got no answer.

        Args:
            error: What httpx raised.
            method: The request's method.
            idempotent: Whether repeating the request is harmless.
            attempts: How many tries were made.
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
        else:
            message = f"The connection to {service}{where} failed ({type(error).__name__}){tries}."
        maybe_applied = may_have_been_applied(error)
        if maybe_applied and not idempotent:
            message += (
                f" The {method} request may have been carried out before the connection "
                f"failed: check in {service} before trying again, so as not to do it twice."
            )
        elif not message.endswith("try again.") and "try again" not in message:
            message += " Try again later."
        return BackendUnavailable(message, maybe_applied=maybe_applied)
