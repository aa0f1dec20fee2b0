"""Searching inside files: ``search_text``, a bounded grep.

Patterns are matched by RE2 (``google-re2``), whose matching time is linear in the
text whatever the pattern, so a regular expression from a caller cannot hold the
server (no backreferences or lookarounds, which need backtracking). A literal
pattern is compiled by RE2 too, quoted. Files are found by the same walk as
``search_files`` (:func:`plugbay_filesystem.search.walk`): beneath the starting
directory, links not followed, denied names left out. Each file is opened through
its directory's descriptor like every other read. Binary files (a NUL byte near the
start) and files over the size limit are skipped and counted. The search stops at
``max_matches`` matches or :data:`MAX_RESULT_CHARS` characters, and checks for
cancellation before each file and every so many lines, so the call's timeout ends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NotRequired

import re2
from typing_extensions import TypedDict

from plugbay import ToolError
from plugbay_filesystem import directories, files
from plugbay_filesystem.globs import Matcher
from plugbay_filesystem.location import Location
from plugbay_filesystem.search import checkpoint, walk

DEFAULT_MATCHES = 100
"""How many matching lines a search returns unless the caller asks for fewer or more."""
MAX_MATCHES = 1000
"""The most matching lines one search returns, whatever the caller asks."""
MAX_CONTEXT = 10
"""The most context lines before and after a match."""
MAX_PATTERN_LENGTH = 1000
"""Longest pattern accepted, in characters."""
MAX_LINE_CHARS = 400
"""Lines longer than this (minified code, data) are cut in the result."""
MAX_RESULT_CHARS = 512 * 1024
"""The most characters of lines (matches and context) one search returns."""
BINARY_PROBE = 8192
"""A NUL byte in this many first bytes makes a file binary."""
PATTERN_MEMORY = 8 << 20
"""The memory RE2 may use for one compiled pattern; a larger one is refused."""
_LINES_PER_CHECK = 10_000


class TextMatch(TypedDict):
    """One matching line."""

    path: str
    """The file's absolute path."""
    line: int
    """The line number, from 1."""
    text: str
    before: NotRequired[list[str]]
    """Up to ``contextLines`` lines before it."""
    after: NotRequired[list[str]]
    """Up to ``contextLines`` lines after it."""


class TextSearchResult(TypedDict):
    """The result of ``search_text``."""

    matches: list[TextMatch]
    files_searched: int
    """Files whose text was searched."""
    files_skipped: int
    """Files left out: binary, over the size limit, or unreadable."""
    truncated: bool
    """Whether the search stopped at ``maxMatches`` (or the size limit); more may match."""


LineTest = Callable[[str], bool]


def compile_pattern(pattern: str, *, regex: bool, ignore_case: bool) -> LineTest:
    """A test of one line for ``pattern``: a literal, or an RE2 regular expression.

    Raises:
        ToolError: The pattern is empty, too long, spans lines or is not valid RE2.
    """
    if not pattern:
        raise ToolError("the pattern is empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ToolError(
            f"the pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN_LENGTH}"
        )
    if "\n" in pattern or "\r" in pattern:
        raise ToolError(
            "the pattern contains a line break; {tool:search_text} matches within one line"
        )
    options = re2.Options()
    options.literal = not regex
    options.case_sensitive = not ignore_case
    options.never_capture = True
    options.log_errors = False
    options.max_mem = PATTERN_MEMORY
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", errors="replace")
        raise ToolError(
            f"the pattern is not a regular expression this search supports ({reason}); "
            "it uses RE2 syntax, without backreferences or lookaround. For plain text "
            "leave regex false."
        ) from None
    return lambda line: compiled.search(line) is not None


def search_text(
    place: Location,
    name: str,
    test: LineTest,
    *,
    include: Matcher | None,
    excluded: Matcher,
    context: int,
    max_matches: int,
    max_file_bytes: int,
) -> TextSearchResult:
    """Search the file at ``place``, or every file beneath the directory there.

    Args:
        place: Where the search starts.
        name: The caller's path, quoted, for messages.
        test: From :func:`compile_pattern`.
        include: Which files to search, by name or relative path; ``None`` for all.
        excluded: Entries to leave out, and directories not to enter.
        context: Lines to give before and after each match.
        max_matches: Stop after this many matching lines.
        max_file_bytes: Skip files larger than this.
    """
    search = _Search(test, context, max_matches, max_file_bytes)
    if not directories.is_directory(place):
        # One file: errors are the caller's to see, not a skipped count.
        files.status_of(place, name)
        search.file(place, name, skip_errors=False)
        return search.result()
    for directory, entry, relative in walk(place, name, excluded):
        if entry.type != "file" or (include is not None and not include(entry.name, relative)):
            continue
        where = Location(
            root=place.root,
            path=entry.path,
            directory=directory,  # the walk's: not closed here
            name=entry.name,
            refuse_hard_links=place.refuse_hard_links,
            deny=place.deny,
        )
        if not search.file(where, repr(entry.name), skip_errors=True):
            break
    return search.result()


class _Search:
    def __init__(self, test: LineTest, context: int, max_matches: int, max_bytes: int) -> None:
        self.test = test
        self.context = context
        self.max_matches = max_matches
        self.max_bytes = max_bytes
        self.matches: list[TextMatch] = []
        self.searched = 0
        self.skipped = 0
        self.truncated = False
        self.size = 0

    def result(self) -> TextSearchResult:
        return {
            "matches": self.matches,
            "files_searched": self.searched,
            "files_skipped": self.skipped,
            "truncated": self.truncated,
        }

    def file(self, place: Location, name: str, *, skip_errors: bool) -> bool:
        """Search one file; ``False`` once the match limit is reached."""
        checkpoint()
        text = self._read(place, name, skip_errors=skip_errors)
        if text is None:
            self.skipped += 1
            return True
        self.searched += 1
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        path = str(place.path)
        for index, line in enumerate(lines):
            if index % _LINES_PER_CHECK == _LINES_PER_CHECK - 1:
                checkpoint()
            if not self.test(line.removesuffix("\r")):
                continue
            match = self._match(path, lines, index)
            size = len(match["text"]) + sum(map(len, match.get("before", [])))
            size += sum(map(len, match.get("after", [])))
            if len(self.matches) >= self.max_matches or self.size + size > MAX_RESULT_CHARS:
                self.truncated = True
                return False
            self.size += size
            self.matches.append(match)
        return True

    def _read(self, place: Location, name: str, *, skip_errors: bool) -> str | None:
        try:
            with files.open_regular(place, name) as (stream, size):
                if size > self.max_bytes:
                    if not skip_errors:
                        raise ToolError(
                            f"{name} is {size} bytes, more than the search limit of "
                            f"{self.max_bytes} bytes (the max_read_bytes setting)"
                        )
                    return None
                data = stream.read(self.max_bytes + 1)
        except (ToolError, OSError):
            if not skip_errors:
                raise
            return None
        if len(data) > self.max_bytes or b"\x00" in data[:BINARY_PROBE]:
            if not skip_errors and len(data) <= self.max_bytes:
                raise ToolError(f"{name} looks like a binary file; {{tool:search_text}} reads text")
            return None
        return data.decode("utf-8", errors="replace")

    def _match(self, path: str, lines: list[str], index: int) -> TextMatch:
        match: TextMatch = {"path": path, "line": index + 1, "text": _shown(lines[index])}
        if self.context:
            before = lines[max(0, index - self.context) : index]
            after = lines[index + 1 : index + 1 + self.context]
            match["before"] = [_shown(line) for line in before]
            match["after"] = [_shown(line) for line in after]
        return match


def _shown(line: str) -> str:
    line = line.removesuffix("\r")
    if len(line) <= MAX_LINE_CHARS:
        return line
    return f"{line[:MAX_LINE_CHARS]}... ({len(line) - MAX_LINE_CHARS} more characters)"
