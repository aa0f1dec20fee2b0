"""Name patterns in configuration: shell-style globs, compiled once."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from urllib.parse import unquote

from plugboard.uris import comparable


class NamePattern:
    """Any of several shell-style globs, matched case-sensitively against a whole name.

    ``*`` matches any run of characters (``/`` included, so ``files://docs/*`` covers
    every URI below it), ``?`` one character, ``[abc]`` one of a set. The globs are
    compiled into one regular expression when the configuration is read, never per call.
    """

    __slots__ = ("_regex", "patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._regex = re.compile("|".join(fnmatch.translate(p) for p in self.patterns) or r"(?!)")

    def matches(self, name: str) -> bool:
        """Whether ``name`` matches one of the globs."""
        return self._regex.match(name) is not None

    def __repr__(self) -> str:
        return f"NamePattern({list(self.patterns)!r})"


class UriPattern(NamePattern):
    """Resource URI patterns, compared with canonical URIs (:mod:`plugboard.uris`).

    Patterns are put in the form URIs are compared in (scheme and host lower-cased,
    percent-escapes decoded, Unicode NFC). A pattern that ends in ``/``, ``/*`` or
    ``/**`` names a directory: it covers the directory itself, with or without its
    trailing slash, and everything beneath it, so ``file://docs/srv/secret/`` covers
    ``file://docs/srv/secret`` (a listing), ``.../secret/`` and ``.../secret/a/b.txt``.
    """

    __slots__ = ()

    def __init__(self, patterns: Iterable[str]) -> None:
        super().__init__(
            alternative for pattern in patterns for alternative in _uri_alternatives(pattern)
        )


def check_uri_pattern(pattern: str) -> str:
    """Refuse a resource pattern that no canonical URI can match; return it unchanged.

    Raises:
        ValueError: The pattern has ``.`` or ``..`` segments, an empty segment or a
            backslash in its path, which canonical URIs never have.
    """
    normal = comparable(unquote(pattern))
    _, separator, rest = normal.partition("://")
    path = rest.partition("/")[2] if separator else normal
    segments = path.split("/")
    inner = segments[:-1]  # a trailing "" is the directory form
    if "\\" in path or any(s in (".", "..") for s in segments) or "" in inner:
        raise ValueError(
            f"resource pattern {pattern!r} can never match: URIs are compared in canonical "
            "form, without '.', '..' or empty segments and with '/' between names; "
            "write the path the way it is, e.g. 'file://docs/srv/secret/'"
        )
    return pattern


def _uri_alternatives(pattern: str) -> list[str]:
    normal = comparable(unquote(pattern))
    for suffix in ("/**", "/*", "/"):
        if normal.endswith(suffix):
            directory = normal[: -len(suffix)]
            if directory.endswith(":/"):  # "scheme://" with nothing after: a prefix only
                return [f"{directory}/*"]
            return [directory, f"{directory}/*"]
    return [normal]
