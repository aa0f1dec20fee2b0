"""One log format for plugbay's lines and uvicorn's, always on standard error.

Standard output belongs to the MCP stream on stdio, so no log line ever goes there.
``text`` is ``time LEVEL logger: message``; ``json`` is one object per line with
``time``, ``level``, ``logger`` and ``message``, plus the fields a record carries in
``extra={"fields": {...}}`` (the call log's tool, instance, principal...) and the
trace and span ids when telemetry put them on the record.

``plugbay --log-level`` and ``--log-format`` set them for the command, and pass them to
worker processes through :data:`LEVEL_ENV` and :data:`FORMAT_ENV`
(:func:`setup_logging_from_env`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from plugbay.redaction import install_log_redaction

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
LEVEL_ENV = "PLUGBAY_LOG_LEVEL"
"""The log level (``debug``, ``info``, ``warning``, ``error``), default ``info``."""
FORMAT_ENV = "PLUGBAY_LOG_FORMAT"
"""The log format, ``text`` (default) or ``json``."""
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = "fields"
"""The ``extra`` key whose mapping the JSON format adds to the object (text leaves it out)."""


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a line of JSON."""
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, Mapping):
            document.update(fields)
        for key in ("trace_id", "span_id"):  # set by plugbay-telemetry's record factory
            if (value := getattr(record, key, None)) is not None:
                document[key] = value
        if record.exc_info:
            # exc_text is the traceback plugbay.redaction cleaned; exc_info has the secrets.
            document["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when the record is written.

    Not the stream of the moment it was made: tests and tools that swap
    ``sys.stderr`` (click's CliRunner) would leave it writing to a closed one.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """Ignored: the stream is always the current standard error."""


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter of ``log_format``."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def setup_logging(level: str | int = "info", log_format: LogFormat = "text") -> None:
    """Send every log record (plugbay's, uvicorn's, libraries') to stderr in one format.

    Replaces the handlers of the root logger with one :class:`StderrHandler`, so a
    second call changes the level and format rather than adding a handler. Records are
    cleaned of secrets (:func:`plugbay.redaction.install_log_redaction`). The level and
    format are put in the environment for worker processes.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r} is not one of {', '.join(LOG_FORMATS)}")
    name = logging.getLevelName(level) if isinstance(level, int) else level.upper()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(name)
    # httpx logs every request at INFO: one line per backend request would drown the
    # call log. Shown with --log-level debug.
    logging.getLogger("httpx").setLevel(logging.NOTSET if name == "DEBUG" else logging.WARNING)
    install_log_redaction()
    os.environ[LEVEL_ENV] = name.lower()
    os.environ[FORMAT_ENV] = log_format


def echo_lines(lines: Sequence[str], logger_name: str = "plugbay") -> None:
    """Write what the command line tells a person (the banner, warnings) to stderr.

    As they are in the ``text`` format; in ``json`` as log records of ``logger_name``
    (``warning: ...`` at WARNING, ``error: ...`` at ERROR, the rest at INFO), so that a log
    pipeline reading stderr gets JSON only.
    """
    json_lines = any(
        isinstance(handler.formatter, JsonFormatter) for handler in logging.getLogger().handlers
    )
    if not json_lines:
        for line in lines:
            print(line, file=sys.stderr, flush=True)
        return
    logger = logging.getLogger(logger_name)
    for line in lines:
        if line.startswith("warning: "):
            logger.warning("%s", line.removeprefix("warning: "))
        elif line.startswith("error: "):
            logger.error("%s", line.removeprefix("error: "))
        else:
            logger.info("%s", line.removeprefix("plugbay: "))


def setup_logging_from_env(environ: Mapping[str, str] | None = None) -> None:
    """:func:`setup_logging` with :data:`LEVEL_ENV` and :data:`FORMAT_ENV` (for workers).

    Unknown values fall back to ``info`` and ``text`` rather than stop a worker.
    """
    environ = os.environ if environ is None else environ
    level = environ.get(LEVEL_ENV, "info").strip().lower()
    log_format = environ.get(FORMAT_ENV, "text").strip().lower()
    setup_logging(
        level if level in LOG_LEVELS else "info",
        log_format if log_format in LOG_FORMATS else "text",
    )
