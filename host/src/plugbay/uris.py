"""Canonical resource URIs: the one spelling of a resource that the policy decides on.

A client can name one resource in many ways (``docs/public/../secret``, ``%73ecret``,
``secret%2Fs.txt``, ``//secret``, ``./secret``), so rules cannot be checked against the
URI as sent. The host asks the serving connector for the canonical form
(:meth:`plugbay.Connector.canonical_uri`); this module is the default a connector
gets when it does not know better, and the comparison form of every URI and pattern.

:func:`canonical_uri` follows RFC 3986: the scheme and the host are lower-cased,
the path is percent-decoded once (``%2F`` included, so an encoded slash is a slash),
dot segments are removed, repeated slashes are merged, a trailing slash is dropped,
the fragment (a part of the resource, never another one) is dropped and names are
put in Unicode NFC form. What it cannot put in one unambiguous form it refuses with
:class:`UriError`, and a policy refuses what it cannot canonicalise: NUL and other
control characters, backslashes, invalid UTF-8, a ``..`` that climbs above the top,
and percent-escapes left after the decoding (``%252F``), which a backend that decodes
twice would read as another name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import unquote

from plugbay.errors import ToolError

MAX_URI_LENGTH = 8192
"""The longest URI a policy decision accepts."""

_URI = re.compile(
    r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):)?"
    r"(?://(?P<authority>[^/?#]*))?"
    r"(?P<path>[^?#]*)"
    r"(?:\?(?P<query>[^#]*))?"
    r"(?:#.*)?$",
    re.DOTALL,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


@dataclass(frozen=True, slots=True)
class NamedResource:
    """One resource a call opens.

    Attributes:
        sent: How the client named it (the URI, or the path argument), for messages.
        uri: Its canonical URI, which a policy decides on.
        tree: The call reads everything beneath it too (a directory it walks).
    """

    sent: str
    uri: str
    tree: bool = False


class UriError(ToolError):
    """A URI that cannot be put in canonical form; a policy refuses such a URI."""


def canonical_uri(uri: str) -> str:
    """The canonical form of ``uri`` under the generic rules (see the module docstring).

    Args:
        uri: A URI as a client sent it.

    Returns:
        The URI with its path decoded and normalised, e.g. ``file://docs/secret/s.txt``
        for ``FILE://docs/public/..//%73ecret%2Fs.txt#top``.

    Raises:
        UriError: The URI is malformed or ambiguous.
    """
    if not isinstance(uri, str):
        raise UriError("a resource URI must be a string")
    if len(uri) > MAX_URI_LENGTH:
        raise UriError(f"the URI is {len(uri)} characters long; the limit is {MAX_URI_LENGTH}")
    _refuse_unsafe(uri, "the URI")
    match = _URI.match(uri)
    if match is None:  # pragma: no cover - every string matches the RFC 3986 pattern
        raise UriError("the URI is malformed")
    scheme, authority, path, query = match.group("scheme", "authority", "path", "query")
    text = f"{scheme.lower()}:" if scheme else ""
    if authority is not None:
        host = _decode(authority, "the URI's authority")
        if any(character in host for character in "/?#@"):
            raise UriError("the URI's authority has a character that is not allowed there")
        text += f"//{_nfc(host).lower()}"
    text += _canonical_path(_decode(path, "the URI's path"), rooted=authority is not None)
    if query is not None:
        _refuse_unsafe(unquote(query, errors="replace"), "the URI's query")
        text += f"?{_nfc(query)}"
    return text


def comparable(uri: str) -> str:
    """``uri`` in the form rules are compared in: scheme and host lower-cased, NFC.

    Used on what connectors return from ``canonical_uri`` and on the URIs and
    templates the host lists, so that a connector need not care about case in the
    scheme or the host, nor about Unicode normalisation.
    """
    scheme, separator, rest = uri.partition("://")
    if not separator or not scheme or "/" in scheme:
        return _nfc(uri)
    authority, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{_nfc(authority).lower()}{slash}{_nfc(path)}"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _refuse_unsafe(text: str, what: str) -> None:
    if _CONTROL.search(text):
        raise UriError(f"{what} has a control character (such as NUL)")
    if "\\" in text:
        raise UriError(f"{what} has a backslash; use '/' between names")


def _decode(text: str, what: str) -> str:
    try:
        decoded = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise UriError(f"{what} has percent-escapes that are not UTF-8") from None
    _refuse_unsafe(decoded, what)
    leftover = _ESCAPE.search(decoded)
    if leftover is not None:
        # A backend that decodes twice would read another name than the one decided on.
        raise UriError(
            f"{what} is percent-encoded twice ({leftover.group(0)} after decoding); "
            "send it encoded once"
        )
    return decoded


def _canonical_path(path: str, *, rooted: bool) -> str:
    """Remove dot segments and empty segments (RFC 3986 §5.2.4), refusing a climb out."""
    absolute = rooted or path.startswith("/")
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not segments:
                raise UriError("the URI's path climbs above its top with '..'")
            segments.pop()
            continue
        segments.append(segment)
    joined = _nfc("/".join(segments))
    return f"/{joined}" if absolute else joined


_DECIDED: ContextVar[frozenset[str] | None] = ContextVar("plugbay_decided", default=None)


def decided_uris() -> frozenset[str] | None:
    """The canonical URIs a policy allowed for the call now running, or ``None``.

    ``None`` when no policy decided on the call's resources (no policy, the local
    principal, a call that names no resource, a completion). A connector that resolves
    a name again when it opens it compares what it opens with these and refuses what
    differs: the name changed between the decision and the open (a directory swapped
    for a link), so the decision does not cover what it now leads to. Visible in the
    worker thread a sync tool runs in.
    """
    return _DECIDED.get()


@contextmanager
def deciding(uris: Iterable[str]) -> Iterator[None]:
    """Make ``uris`` what :func:`decided_uris` answers while the block runs."""
    token = _DECIDED.set(frozenset(uris))
    try:
        yield
    finally:
        _DECIDED.reset(token)
