"""Trace ids in log records, and the log formats that show them."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from opentelemetry import trace

NO_TRACE_ID = "0" * 32
NO_SPAN_ID = "0" * 16
TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [trace_id=%(trace_id)s span_id=%(span_id)s]: %(message)s"
)

_factory_installed = False


def install_log_correlation() -> None:
    """Give every log record ``trace_id`` and ``span_id`` attributes (idempotent).

    The values are those of the span current where the record is made, as lower-case
    hex, or zeros outside any span. A log record factory (rather than a filter on
    some handlers) reaches records of every logger, uvicorn's included.
    """
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_correlating(previous))
    _factory_installed = True


def _correlating(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        else:
            record.trace_id = NO_TRACE_ID
            record.span_id = NO_SPAN_ID
        return record

    return make


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, trace and span ids."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single line of JSON."""
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        trace_id = getattr(record, "trace_id", NO_TRACE_ID)
        if trace_id != NO_TRACE_ID:
            document["trace_id"] = trace_id
            document["span_id"] = getattr(record, "span_id", NO_SPAN_ID)
        if record.exc_info:
            # exc_text, when set, is the traceback with secrets taken out.
            document["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def log_formatter(log_format: Literal["text", "json"]) -> logging.Formatter:
    """The formatter for ``[telemetry] log_format``."""
    if log_format == "json":
        return JsonLogFormatter()
    return logging.Formatter(TEXT_FORMAT)


def correlate_logs(log_format: Literal["text", "json"] = "text") -> None:
    """Put trace ids in every record and show them in the root logger's output."""
    install_log_correlation()
    formatter = log_formatter(log_format)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
