"""The audit log: one JSON line per tool call, resource read and prompt get.

Each line says when, who (principal and client address), what (kind, name, connector
instance, arguments with secrets redacted: see :mod:`plugbay.redaction`), how it
ended (``outcome``, and the message the caller saw), how long it took, and the trace
id that ties it to the server's traces. Lines go to standard output, standard error
or a file, appended with one ``write`` each, so several workers can share a file.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from plugbay import Call, CallRefused, ToolError, resolve_setting_path
from plugbay.middleware import CALL_KINDS, TIMED_OUT, CallKind
from plugbay.redaction import redact_text
from plugbay_guard.patterns import NamePattern

REDACTED = "[redacted]"
SECRET_NAMES = (
    "*password*",
    "*passwd*",
    "*secret*",
    "*token*",
    "*api_key*",
    "*apikey*",
    "*api-key*",
    "*credential*",
    "*private_key*",
    "*access_key*",
    "authorization",
    "cookie",
    "set-cookie",
)
"""Argument names (lower-cased) whose values are never written."""
_SECRET_VALUE = re.compile(
    r"^(?:Bearer\s+\S+|pbk_[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$",
    re.IGNORECASE,
)
"""Values that are credentials whatever their argument is called: bearer headers,
plugbay API keys, JWTs."""
_MAX_DEPTH = 8
_SECRET_SPAN = 10_000
"""Characters past the cut that are still searched, so a secret across it is found whole."""


class AuditConfig(BaseModel):
    """The ``[audit]`` table.

    Attributes:
        enabled: Switch the log off without deleting the table.
        output: ``stdout``, ``stderr`` or a file path (appended to, created ``0600``).
        include_arguments: Write the call's arguments (redacted); off writes none.
        redact: More argument-name patterns to redact (case-insensitive), on top of
            the built-in ones (``*password*``, ``*token*``, ``*secret*``...).
        max_value_chars: Longer strings are cut to this many characters.
        kinds: Which calls to log.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    output: str = Field(default="stdout", min_length=1)
    include_arguments: bool = True
    redact: list[str] = Field(default_factory=list)
    max_value_chars: int = Field(default=1000, ge=16)
    kinds: list[CallKind] = Field(default_factory=lambda: list(CALL_KINDS))

    @field_validator("output")
    @classmethod
    def _file_starts_from_the_config_folder(cls, value: str, info: ValidationInfo) -> str:
        # A relative file starts from the configuration file's folder, as connector
        # path settings do (plugbay.setting_paths), not from wherever the server started.
        if value in ("stdout", "stderr"):
            return value
        return str(resolve_setting_path(value, info))


class Redactor:
    """Copies arguments with secret values replaced by ``[redacted]`` and long ones cut.

    Args:
        extra: More argument-name patterns to redact.
        max_chars: The longest string kept whole.
    """

    def __init__(self, extra: list[str], max_chars: int) -> None:
        self._names = NamePattern([*SECRET_NAMES, *(name.lower() for name in extra)])
        self._max_chars = max_chars

    def __call__(self, value: Any, depth: int = 0) -> Any:
        """The redacted copy of ``value``."""
        if isinstance(value, str):
            if _SECRET_VALUE.match(value):
                return REDACTED
            # Secrets inside longer text too: a key in a note, a URL with a password.
            # Cleaned before it is cut, so no half of a secret survives the cut; only
            # what can reach the kept part is read, so a huge value costs no more.
            length = len(value)
            kept = redact_text(value[: self._max_chars + _SECRET_SPAN])
            if len(kept) > self._max_chars or length > self._max_chars + _SECRET_SPAN:
                return f"{kept[: self._max_chars]}... ({length} characters)"
            return kept
        if depth >= _MAX_DEPTH and isinstance(value, Mapping | list | tuple):
            return "..."
        if isinstance(value, Mapping):
            return {
                redact_text(str(key)): REDACTED
                if self._names.matches(str(key).lower())
                else self(item, depth + 1)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self(item, depth + 1) for item in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        return self(str(value), depth)


class _Sink:
    """Where lines go: a standard stream (looked up at each write) or a file."""

    def __init__(self, output: str) -> None:
        self.output = output
        self._fd: int | None = None

    def write(self, line: str) -> None:
        if self.output in ("stdout", "stderr"):
            stream = sys.stdout if self.output == "stdout" else sys.stderr
            stream.write(line + "\n")
            stream.flush()
            return
        if self._fd is None:
            path = Path(self.output).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        # One write per line: appends from several processes do not interleave.
        os.write(self._fd, (line + "\n").encode())


def trace_id() -> str | None:
    """The current OpenTelemetry trace id, when a trace is being recorded."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def _client(call: Call) -> str | None:
    http_request = getattr(call.request, "request", None)
    client = getattr(http_request, "client", None)
    return getattr(client, "host", None)


class AuditLog:
    """Middleware that writes one audit line per call.

    Registered in the ``observe`` stage, so it sees every refusal of the ``admit`` stage.

    Args:
        config: The ``[audit]`` table.
    """

    def __init__(self, config: AuditConfig) -> None:
        self.config = config
        self._kinds: frozenset[CallKind] = frozenset(config.kinds)
        self._redact = Redactor(config.redact, config.max_value_chars)
        self._sink = _Sink(config.output)

    async def __call__(self, call: Call, call_next: Callable[[Call], Awaitable[Any]]) -> Any:
        """Run the call and write its line, however it ends."""
        if call.kind not in self._kinds:
            return await call_next(call)
        started = time.perf_counter()
        outcome, message = "ok", None
        try:
            result = await call_next(call)
        except CallRefused as error:
            outcome, message = error.outcome, str(error)
            raise
        except ToolError as error:
            outcome = "timeout" if call.state.get(TIMED_OUT) else "error"
            message = str(error)
            raise
        except anyio.get_cancelled_exc_class():
            outcome = "cancelled"
            raise
        except Exception as error:
            # Only the type: an unexpected exception's text may hold anything.
            outcome, message = "failed", type(error).__name__
            raise
        else:
            if getattr(result, "is_error", False):
                outcome = "error"
            return result
        finally:
            self._write(call, outcome, message, time.perf_counter() - started)

    def _write(self, call: Call, outcome: str, message: str | None, seconds: float) -> None:
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "principal": call.principal.name,
            "client": _client(call),
            "kind": call.kind,
            "name": redact_text(call.name),  # a resource URI may carry a token
            "instance": call.instance,
            "outcome": outcome,
            "duration_ms": round(seconds * 1000, 3),
            "trace_id": trace_id(),
            "request_id": getattr(call.request, "request_id", None),
        }
        if self.config.include_arguments:
            record["arguments"] = self._redact(call.arguments)
        if message is not None:
            record["error"] = redact_text(message)
        self._sink.write(json.dumps(record, ensure_ascii=False, default=str))
