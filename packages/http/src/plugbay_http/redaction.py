"""Keeping credentials out of logs and error messages.

Two complementary guards: headers are redacted *by name* wherever this package logs
them, and known secret *values* (the API key itself) are scrubbed from every log
record that httpx, httpcore or this package emit while a client is open, whatever
the message happens to contain.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

REDACTED = "[REDACTED]"

SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-access-token",
    }
)
"""Header names (lower case) that always carry credentials."""

_SENSITIVE_NAME = re.compile(r"(token|secret|password|api[-_]?key|auth|session|signature)", re.I)

LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "plugbay_http",
)
"""The loggers a :class:`RedactingFilter` is installed on.

Logger filters only see records created by that very logger (not its children), so
httpcore's submodule loggers are listed one by one.
"""


def is_sensitive_header(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether a header (or query parameter) named ``name`` carries a credential.

    Args:
        name: The header name, any case.
        extra: More names to treat as sensitive (a vendor's own token header).
    """
    lowered = name.lower()
    if lowered in SENSITIVE_HEADERS or lowered in {item.lower() for item in extra}:
        return True
    return bool(_SENSITIVE_NAME.search(lowered))


def redact_headers(headers: Mapping[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
    """A copy of ``headers`` with the values of credential headers replaced by ``[REDACTED]``."""
    names = tuple(extra)
    return {
        name: REDACTED if is_sensitive_header(name, names) else value
        for name, value in headers.items()
    }


class Redactor:
    """Replaces known secret values in text.

    Args:
        secrets: The values to hide (API keys, tokens). Empty values and values shorter
            than four characters are ignored: replacing them would mangle ordinary text.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced by ``[REDACTED]``."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs secret values from each record it sees.

    It rewrites the record's message in place (formatting it first), so handlers
    downstream never receive the secret. Install it with :meth:`install` while a
    client is open and remove it with :meth:`uninstall` afterwards.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor
        self._installed: list[logging.Logger] = []

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub the record; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem, not ours
            return True
        cleaned = self._redactor.redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True

    def install(self, names: Iterable[str] = LOGGERS) -> None:
        """Attach the filter to the named loggers."""
        if not self._redactor:
            return
        for name in names:
            logger = logging.getLogger(name)
            logger.addFilter(self)
            self._installed.append(logger)

    def uninstall(self) -> None:
        """Detach the filter from every logger :meth:`install` attached it to."""
        for logger in self._installed:
            logger.removeFilter(self)
        self._installed.clear()
