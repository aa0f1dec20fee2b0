"""Secrets kept out of the logs and the audit log, whoever writes the line.

Lines are written by plugbay, by connectors, and by libraries that know nothing of
what is secret: httpx logs every request's URL (credentials and ``?api_key=``
included), uvicorn's access log every request's path and query. So redaction is not
left to each writer: :func:`install_log_redaction` puts a log record factory in place
that cleans every record of every logger as it is made (message, arguments,
traceback), and the audit log cleans its values with :func:`redact_text`.

What is replaced by ``[redacted]``:

- every secret value the configuration holds (``SecretStr`` settings, API keys,
  client secrets, header values, passwords in URLs), wherever it appears, also
  URL-encoded: see :func:`remember_secrets_in`;
- the user and password of URLs (``https://[redacted]@host/``);
- values of parameters named like a secret (``?api_key=``, ``access_token=``,
  ``password=``, ``"client_secret": "..."``);
- ``Bearer`` tokens and ``Authorization``, ``X-API-Key`` and ``Cookie`` header values;
- anything shaped like a JWT (``eyJ...``) or a plugbay API key (``pbk_...``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from pydantic import BaseModel, SecretBytes, SecretStr

if TYPE_CHECKING:
    from plugbay.assembly import Assembly

REDACTED = "[redacted]"
_MARKERS = frozenset({REDACTED, quote(REDACTED).lower(), quote_plus(REDACTED).lower()})
MIN_SECRET_LENGTH = 6
"""Shorter configured values are not searched for (they would match everywhere)."""
_SECRET_ENDINGS = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "credentials",
    "cookie",
    "authorization",
    "signature",
    "sig",
    "auth",
    "jwt",
)
"""How the name of a secret's parameter or setting ends, once lower-cased and without
separators: ``api_key``, ``access_token``, ``client_secret``, ``X-Amz-Signature``."""
_SEPARATORS = re.compile(r"[\s_.-]+")
_URL_USERINFO = re.compile(r"://[^\s/?#'\"<>]+@")
_NAMED_VALUE = re.compile(
    # Matched from the start of a name only, so that the scan stays linear.
    r"(?<![A-Za-z0-9_.-])(?P<name>[A-Za-z0-9_.-]{1,256})(?P<sep>=[\"']?)(?P<value>[^&\s#'\",;)]+)"
)
_QUOTED_VALUE = re.compile(
    # "name": "value" (JSON) and 'name': 'value' (a Python dict's repr).
    r"(?P<q>[\"'])(?P<name>[A-Za-z0-9_.-]{1,64})(?P=q)(?P<sep>\s{0,8}:\s{0,8})"
    r"(?P<v>[\"'])(?P<value>(?:\\.|(?!(?P=v))[^\\]){1,8192})(?P=v)"
)
_HEADER_VALUE = re.compile(
    r"\b(?P<name>(?:proxy-)?authorization|x-api-key|api-key|set-cookie|cookie)"
    r"(?P<sep>[\"']?\s{0,8}[:=]\s{0,8}[\"']?)"
    r"(?P<value>(?:(?:basic|bearer|digest|negotiate|token)\s+)?[^\s\"',;]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(
    # Not a challenge's parameters (Bearer realm="...", resource_metadata="...").
    r"\b(?P<scheme>bearer)\s{1,8}(?![A-Za-z_]{1,32}=\")[A-Za-z0-9._~+/=-]{8,}",
    re.IGNORECASE,
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?")
_API_KEY = re.compile(r"pbk_[A-Za-z0-9_-]{8,}")

_lock = threading.Lock()
_known: frozenset[str] = frozenset()
_known_pattern: re.Pattern[str] | None = None


def is_secret_name(name: str) -> bool:
    """Whether a parameter, header or setting called ``name`` holds a secret.

    It does when its last word says so (``api_key``, ``bearer_token``); a name that
    only starts with such a word (``token_cache_seconds``) does not.
    """
    return _SEPARATORS.sub("", name).lower().endswith(_SECRET_ENDINGS)


def _is_redacted(value: str) -> bool:
    # Another redactor (plugbay-http's, say) got there first: keep its marker.
    return value.lower() in _MARKERS


def _named(match: re.Match[str]) -> str:
    if not is_secret_name(match.group("name")) or _is_redacted(match.group("value")):
        return match.group(0)
    return f"{match.group('name')}{match.group('sep')}{REDACTED}"


def _quoted_named(match: re.Match[str]) -> str:
    if not is_secret_name(match.group("name")) or _is_redacted(match.group("value")):
        return match.group(0)
    quote, value_quote = match.group("q"), match.group("v")
    name, sep = match.group("name"), match.group("sep")
    return f"{quote}{name}{quote}{sep}{value_quote}{REDACTED}{value_quote}"


def _header_value(match: re.Match[str]) -> str:
    if _is_redacted(match.group("value")):
        return match.group(0)
    return f"{match.group('name')}{match.group('sep')}{REDACTED}"


def redact_text(text: str) -> str:
    """``text`` with every secret it holds replaced by ``[redacted]`` (see the module)."""
    if _known_pattern is not None:
        text = _known_pattern.sub(REDACTED, text)
    if "://" in text:
        text = _URL_USERINFO.sub(f"://{REDACTED}@", text)
    if "=" in text:
        text = _NAMED_VALUE.sub(_named, text)
    if '"' in text or "'" in text:
        text = _QUOTED_VALUE.sub(_quoted_named, text)
    text = _HEADER_VALUE.sub(_header_value, text)
    text = _BEARER.sub(lambda m: f"{m.group('scheme')} {REDACTED}", text)
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    if "pbk_" in text:
        text = _API_KEY.sub(REDACTED, text)
    return text


def remember_secrets(values: Iterable[str]) -> None:
    """Add ``values`` to the secrets searched for in every line from now on."""
    global _known, _known_pattern
    with _lock:
        forms: set[str] = set(_known)
        for value in values:
            if len(value) < MIN_SECRET_LENGTH:
                continue
            forms.update({value, quote(value, safe=""), quote_plus(value)})
        if forms == _known:
            return
        _known = frozenset(forms)
        # Longest first, so a secret that contains another is replaced whole.
        ordered = sorted(_known, key=len, reverse=True)
        _known_pattern = re.compile("|".join(re.escape(form) for form in ordered))


def remember_secrets_in(*sources: Any) -> None:
    """Remember every secret found in ``sources`` (see :func:`secrets_in`)."""
    found: list[str] = []
    for source in sources:
        found.extend(secrets_in(source))
    remember_secrets(found)


def secrets_in(value: Any, name: str = "", depth: int = 0) -> Iterator[str]:
    """The secret values in a configuration object, at any depth.

    ``SecretStr`` and ``SecretBytes`` values; strings under secret-looking names
    (``api_key``, ``password``, ``*_token``...); passwords and secret-named query
    parameters of URLs. Pydantic models, dataclasses, mappings and sequences are
    walked.
    """
    if depth > 12:
        return
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, SecretBytes):
        yield value.get_secret_value().decode("utf-8", "replace")
    elif isinstance(value, str):
        if name and is_secret_name(name):
            yield value
        if "://" in value:
            yield from _url_secrets(value)
    elif isinstance(value, BaseModel):
        for attribute in type(value).model_fields:
            yield from secrets_in(getattr(value, attribute, None), attribute, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            if field.name != "environ":  # the whole environment: only what is used counts
                yield from secrets_in(getattr(value, field.name), field.name, depth + 1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from secrets_in(item, str(key), depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from secrets_in(item, name, depth + 1)


def _url_secrets(value: str) -> Iterator[str]:
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return
    if password:
        yield password
    if parts.username and password:
        yield f"{parts.username}:{password}"
    for key, item in parse_qsl(parts.query):
        if is_secret_name(key):
            yield item


# --- logging -----------------------------------------------------------------------------

_installed = False


def keep_secrets_out_of_logs(assembly: Assembly) -> None:
    """Clean every log record from now on, of the assembly's secrets among others.

    The secrets are those of the configuration and of the started instances' settings.
    """
    install_log_redaction()
    started = [state.obj.settings for state in assembly.instances.values() if state.obj]
    remember_secrets_in(assembly.config, *started)


def install_log_redaction() -> None:
    """Clean every log record of every logger as it is made (idempotent).

    A record factory, rather than a filter on some handlers, reaches the records of
    libraries that log on handlers of their own (uvicorn's access log).
    """
    global _installed
    with _lock:
        if _installed:
            return
        logging.setLogRecordFactory(_redacting(logging.getLogRecordFactory()))
        _installed = True


def _redacting(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            redact_record(record)
        except Exception:
            # A record that cannot be cleaned is not written as it was.
            record.msg, record.args, record.exc_info = "[log line withheld]", None, None
        return record

    return make


def _clean(value: Any) -> Any:
    return redact_text(value) if isinstance(value, str) else value


def redact_record(record: logging.LogRecord) -> None:
    """Remove secrets from ``record`` in place.

    String arguments are cleaned one by one, so formatters that read the arguments
    (uvicorn's access log) still find them; if the formatted message still holds a
    secret (an object's text), the record keeps the clean message and no arguments.
    """
    if not record.args and isinstance(record.msg, str):
        record.msg = redact_text(record.msg)
    # With arguments the template is not cleaned on its own: a secret-named placeholder
    # (``api_key=%s``) would lose its ``%s`` and the record could no longer be formatted.
    # A secret in the template itself is caught in the formatted message below.
    if isinstance(record.args, tuple):
        record.args = tuple(_clean(item) for item in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {key: _clean(item) for key, item in record.args.items()}
    if record.args or not isinstance(record.msg, str):
        try:
            message = record.getMessage()
        except Exception:
            message = None  # logging reports the broken call itself
        if message is not None and (clean := redact_text(message)) != message:
            record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
