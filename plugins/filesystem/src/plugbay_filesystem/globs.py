"""Glob patterns matched in linear time, without regular expressions.

A glob translated to a backtracking regular expression can take exponential time:
``*?*?*?...*|`` against an ordinary 29-character name held the interpreter for
seconds. Here a pattern becomes a nondeterministic automaton whose set of live
states is one integer, a bit per position, stepped once per character (the
shift-and method, with self-loops for the stars). Matching a name of ``n``
characters costs ``n`` steps of a few integer operations, whatever the pattern.

Braces (``{a,b}``) are expanded into alternatives that run side by side in the same
integer; their number and the pattern's length are bounded, so compiling is cheap
too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from plugbay import ToolError

Matcher = Callable[[str, str], bool]
"""``(name, relative posix path) -> bool``."""

MAX_PATTERN_LENGTH = 1000
"""Longest glob accepted, in characters."""
MAX_ALTERNATIVES = 256
"""Most alternatives a pattern's braces may expand to."""
MAX_POSITIONS = 20_000
"""Most automaton positions, all alternatives together."""
_CACHED_CHARACTERS = 4096


class _Wild(Enum):
    ONE = "?"  # one character, not '/'
    STAR = "*"  # any run of characters without '/'
    ANY = "**"  # any run of characters, '/' included
    DIRECTORIES = "**/"  # nothing, or any run of characters that ends with '/'


@dataclass(frozen=True, slots=True)
class _Class:
    """``[...]``: one character (never '/') that is, or with ``!`` is not, listed."""

    negated: bool
    singles: frozenset[str]
    ranges: tuple[tuple[str, str], ...]

    def matches(self, char: str) -> bool:
        listed = char in self.singles or any(low <= char <= high for low, high in self.ranges)
        return char != "/" and listed != self.negated


_Token = str | _Wild | _Class  # a str is one literal character


@dataclass(frozen=True, slots=True)
class _Group:
    alternatives: tuple[tuple[_Node, ...], ...]


_Node = _Token | _Group


def compile_glob(pattern: str) -> Matcher:
    """Compile a glob into a matcher of directory entries.

    A pattern without ``/`` matches an entry's name at any depth (``*.py``,
    ``node_modules``); one with ``/`` matches the path relative to the starting
    directory (``src/**/test_*.py``). ``*`` and ``?`` stay within one name, ``**``
    spans directories, ``[abc]``/``[!abc]`` are character classes and ``{a,b}``
    alternatives.

    Raises:
        ToolError: The pattern is malformed or too large.
    """
    body = pattern.strip("/")
    if len(body) > MAX_PATTERN_LENGTH:
        raise ToolError(
            f"the glob pattern is {len(body)} characters long; the limit is {MAX_PATTERN_LENGTH}"
        )
    automaton = _Automaton(_expand(_parse(body, pattern)))
    if "/" in body:
        return lambda _name, relative: automaton.matches(relative)
    return lambda name, _relative: automaton.matches(name)


def any_matcher(patterns: Iterable[str]) -> Matcher:
    """A matcher that accepts an entry when any of ``patterns`` matches it."""
    compiled = [compile_glob(pattern) for pattern in patterns if pattern.strip("/")]
    return lambda name, relative: any(match(name, relative) for match in compiled)


def _invalid(pattern: str, why: str) -> ToolError:
    return ToolError(f"{pattern[:200]!r} is not a valid glob pattern ({why})")


def _parse(body: str, pattern: str) -> tuple[_Node, ...]:
    """The pattern as a sequence of tokens and brace groups."""
    current: list[_Node] = []
    # Each open brace keeps the sequence it interrupted and its finished alternatives.
    open_groups: list[tuple[list[_Node], list[tuple[_Node, ...]]]] = []
    index = 0
    while index < len(body):
        char = body[index]
        if body.startswith("**/", index):
            current.append(_Wild.DIRECTORIES)
            index += 3
            continue
        if body.startswith("**", index):
            current.append(_Wild.ANY)
            index += 2
            continue
        if char == "[" and (end := body.find("]", index + 2)) != -1:
            current.append(_character_class(body[index + 1 : end], pattern))
            index = end + 1
            continue
        if char == "*":
            current.append(_Wild.STAR)
        elif char == "?":
            current.append(_Wild.ONE)
        elif char == "{" and "}" in body[index:]:
            open_groups.append((current, []))
            current = []
        elif char == "}" and open_groups:
            outer, alternatives = open_groups.pop()
            outer.append(_Group((*alternatives, tuple(current))))
            current = outer
        elif char == "," and open_groups:
            open_groups[-1][1].append(tuple(current))
            current = []
        else:
            current.append(char)
        index += 1
    if open_groups:
        raise _invalid(pattern, "a '{' is not closed; check its braces")
    return tuple(current)


def _character_class(body: str, pattern: str) -> _Class:
    negated = body.startswith("!")
    if negated:
        body = body[1:]
    singles: set[str] = set()
    ranges: list[tuple[str, str]] = []
    index = 0
    while index < len(body):
        if index + 2 < len(body) and body[index + 1] == "-":
            low, high = body[index], body[index + 2]
            if low > high:
                raise _invalid(pattern, f"the range {low}-{high} in its brackets is reversed")
            ranges.append((low, high))
            index += 3
        else:
            singles.add(body[index])
            index += 1
    return _Class(negated, frozenset(singles), tuple(ranges))


def _expand(sequence: tuple[_Node, ...]) -> list[tuple[_Token, ...]]:
    """Every brace-free alternative of ``sequence``, at most :data:`MAX_ALTERNATIVES`."""
    results: list[tuple[_Token, ...]] = [()]
    for node in sequence:
        if not isinstance(node, _Group):
            results = [(*result, node) for result in results]
            continue
        options = [option for branch in node.alternatives for option in _expand(branch)]
        if len(results) * len(options) > MAX_ALTERNATIVES:
            raise ToolError(
                f"the glob pattern's braces give more than {MAX_ALTERNATIVES} alternatives"
            )
        results = [result + option for result in results for option in options]
    return [_simplified(result) for result in results]


_STARS = (_Wild.STAR, _Wild.ANY, _Wild.DIRECTORIES)


def _simplified(tokens: tuple[_Token, ...]) -> tuple[_Token, ...]:
    """``tokens`` with each run of adjacent stars cut to at most two equivalent ones.

    Every star may match nothing, so a run holding ``**`` matches anything, as does
    ``**/`` followed (at once or later) by ``*``; what is left is ``*`` then ``**/``.
    This keeps the work per character small whatever the pattern.
    """
    result: list[_Token] = []
    run: list[_Token] = []
    for token in (*tokens, None):
        if token in _STARS:
            assert token is not None
            run.append(token)
            continue
        if run:
            star_after_directories = (
                _Wild.DIRECTORIES in run and _Wild.STAR in run[run.index(_Wild.DIRECTORIES) :]
            )
            if _Wild.ANY in run or star_after_directories:
                result.append(_Wild.ANY)
            else:
                result += [wild for wild in (_Wild.STAR, _Wild.DIRECTORIES) if wild in run]
            run = []
        if token is not None:
            result.append(token)
    return tuple(result)


class _Automaton:
    """The alternatives of a glob as one automaton, its live states one integer.

    Alternative ``k`` holds positions ``start_k .. start_k + len_k``, the last one
    accepting. Bit ``i`` of the state means "the first ``i - start_k`` tokens of
    alternative ``k`` have matched".
    """

    def __init__(self, alternatives: list[tuple[_Token, ...]]) -> None:
        self.start = self.accept = 0
        self.literal: dict[str, int] = {}
        self.one = self.star = self.any = 0
        # Positions from which nothing may be matched: one on (stars), or three on
        # (past the whole of an optional ``**/``).
        self.empty = self.skip = 0
        self.classes: list[tuple[int, _Class]] = []
        position = 0
        for tokens in alternatives:
            self.start |= 1 << position
            for token in tokens:
                bit = 1 << position
                if isinstance(token, str):
                    self.literal[token] = self.literal.get(token, 0) | bit
                elif isinstance(token, _Class):
                    self.classes.append((bit, token))
                elif token is _Wild.ONE:
                    self.one |= bit
                elif token is _Wild.STAR:
                    self.star |= bit
                elif token is _Wild.ANY:
                    self.any |= bit
                else:
                    # ``**/`` is ``(**/)?``: an entry that may skip it all, then
                    # ``**`` and a '/'.
                    self.empty |= bit
                    self.skip |= bit
                    self.any |= bit << 1
                    self.literal["/"] = self.literal.get("/", 0) | bit << 2
                    position += 2
                position += 1
            self.accept |= 1 << position
            position += 1
            if position > MAX_POSITIONS:
                raise ToolError("the glob pattern is too large once its braces are expanded")
        # Stars may match nothing: from their position the next one is live too.
        self.empty |= self.star | self.any
        self._steps: dict[str, tuple[int, int]] = {}
        self.initial = self._close(self.start)

    def _step_masks(self, char: str) -> tuple[int, int]:
        """For ``char``: positions that move on by consuming it, and those that stay."""
        masks = self._steps.get(char)
        if masks is None:
            advance = self.literal.get(char, 0)
            stay = self.any
            if char != "/":
                advance |= self.one
                stay |= self.star
                for bit, klass in self.classes:
                    if klass.matches(char):
                        advance |= bit
            masks = (advance, stay)
            if len(self._steps) < _CACHED_CHARACTERS:
                self._steps[char] = masks
        return masks

    def _close(self, state: int) -> int:
        while extra := (((state & self.empty) << 1) | ((state & self.skip) << 3)) & ~state:
            state |= extra
        return state

    def matches(self, text: str) -> bool:
        """Whether the whole of ``text`` matches one of the alternatives."""
        state = self.initial
        for char in text:
            advance, stay = self._step_masks(char)
            state = self._close(((state & advance) << 1) | (state & stay))
            if not state:
                return False
        return bool(state & self.accept)
