"""Name patterns in configuration: shell-style globs, compiled once."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from functools import cache
from urllib.parse import unquote

from plugbay.uris import comparable


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

    def may_match_beneath(self, prefix: str) -> bool:
        """Whether some longer name that starts with ``prefix`` could match one of the globs."""
        return any(_Glob.of(pattern).after(prefix)[0] for pattern in self.patterns)

    def matches_all_beneath(self, prefix: str) -> bool:
        """Whether every longer name that starts with ``prefix`` matches one of the globs."""
        return any(_Glob.of(pattern).after(prefix)[1] for pattern in self.patterns)

    def __repr__(self) -> str:
        return f"NamePattern({list(self.patterns)!r})"


class UriPattern(NamePattern):
    """Resource URI patterns, compared with canonical URIs (:mod:`plugbay.uris`).

    Patterns are put in the form URIs are compared in (scheme and host lower-cased,
    percent-escapes decoded, Unicode NFC). A pattern that ends in ``/``, ``/*`` or
    ``/**`` names a directory: it covers the directory itself, with or without its
    trailing slash, and everything beneath it, so ``file://docs/srv/secret/`` covers
    ``file://docs/srv/secret`` (a listing), ``.../secret/`` and ``.../secret/a/b.txt``.

    ``loose`` patterns (those of deny rules) also match names that differ only in case
    or in trailing dots and spaces, which backends on case-insensitive or Windows file
    systems treat as one name: a deny then errs towards refusing, and an allow (exact)
    towards not granting, whatever the backend makes of names.
    """

    __slots__ = ("_loose",)

    def __init__(self, patterns: Iterable[str], *, loose: bool = False) -> None:
        self._loose = loose
        alternatives = [a for pattern in patterns for a in _uri_alternatives(pattern)]
        super().__init__([_loosened(a) for a in alternatives] if loose else alternatives)

    def matches(self, name: str) -> bool:
        """Whether ``name`` matches one of the globs (loosely, for loose patterns)."""
        return super().matches(_loosened(name) if self._loose else name)

    def may_match_beneath(self, prefix: str) -> bool:
        """As :meth:`NamePattern.may_match_beneath`, loosely for loose patterns."""
        return super().may_match_beneath(_loosened(prefix) if self._loose else prefix)

    def matches_all_beneath(self, prefix: str) -> bool:
        """As :meth:`NamePattern.matches_all_beneath`, loosely for loose patterns."""
        return super().matches_all_beneath(_loosened(prefix) if self._loose else prefix)


_TRAILING_DOTS = re.compile(r"[. ]+(?=/|$)")


def _loosened(text: str) -> str:
    """``text`` case-folded, without the trailing dots and spaces of its names."""
    return _TRAILING_DOTS.sub("", text.casefold())


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


_STAR = "*"


class _Glob:
    """One glob as tokens, to ask what it can match after a given prefix.

    A token is ``"*"`` or a test of one character (a literal, ``?`` or a ``[set]``
    with fnmatch's rules). The prefix is run through the tokens as an NFA, in time
    linear in the prefix, so no pattern can make the question expensive.
    """

    __slots__ = ("tokens",)

    def __init__(self, tokens: list[str | Callable[[str], bool]]) -> None:
        self.tokens = tokens

    @staticmethod
    @cache
    def of(pattern: str) -> _Glob:
        tokens: list[str | Callable[[str], bool]] = []
        index, size = 0, len(pattern)
        while index < size:
            character = pattern[index]
            index += 1
            if character == "*":
                if not tokens or tokens[-1] != _STAR:
                    tokens.append(_STAR)
            elif character == "?":
                tokens.append(lambda _: True)
            elif character == "[" and (end := _set_end(pattern, index)) is not None:
                tokens.append(_one_of(pattern[index - 1 : end + 1]))
                index = end + 1
            else:
                tokens.append(character.__eq__)
        return _Glob(tokens)

    def after(self, prefix: str) -> tuple[bool, bool]:
        """After ``prefix``: can some continuation match, and does every one of length >= 1?"""
        states = self._closure({0})
        for character in prefix:
            moved = set()
            for state in states:
                token = self.tokens[state] if state < len(self.tokens) else None
                if token == _STAR:
                    moved.add(state)
                elif token is not None and not isinstance(token, str) and token(character):
                    moved.add(state + 1)
            states = self._closure(moved)
            if not states:
                return False, False
        every = any(
            state < len(self.tokens) and all(t == _STAR for t in self.tokens[state:])
            for state in states
        )
        return True, every

    def _closure(self, states: set[int]) -> set[int]:
        result = set(states)
        for state in sorted(states):
            while state < len(self.tokens) and self.tokens[state] == _STAR:
                state += 1
                result.add(state)
        return result


def _one_of(character_set: str) -> Callable[[str], bool]:
    regex = re.compile(fnmatch.translate(character_set))
    return lambda character: regex.match(character) is not None


def _set_end(pattern: str, start: int) -> int | None:
    """Where the ``[set]`` opened before ``start`` closes, as fnmatch reads it, if it does."""
    index = start
    if index < len(pattern) and pattern[index] == "!":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1
    end = pattern.find("]", index)
    return end if end != -1 else None
