"""Name patterns in configuration: shell-style globs, compiled once."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable


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
