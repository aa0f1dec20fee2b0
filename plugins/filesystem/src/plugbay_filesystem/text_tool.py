"""The ``search_text`` tool, kept beside the connector class it is mixed into."""

# The ``path`` argument is described once, in its ``Annotated`` type.
# ruff: noqa: D417

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from plugbay import Context, tool
from plugbay_filesystem import search, textsearch
from plugbay_filesystem.arguments import DirectoryArgument, ExcludeArgument
from plugbay_filesystem.errors import shown
from plugbay_filesystem.globs import any_matcher, compile_glob

if TYPE_CHECKING:
    from plugbay_filesystem.paths import Roots
    from plugbay_filesystem.settings import FilesystemSettings


class TextSearchTools:
    """Searching inside files; mixed into :class:`FilesystemConnector`."""

    if TYPE_CHECKING:
        settings: FilesystemSettings

        @property
        def roots(self) -> Roots:
            """The connector's roots."""

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=False,
        title="Search text in files",
        paths=("path",),
        trees=("path",),
    )
    def search_text(
        self,
        pattern: Annotated[str, Field(min_length=1, max_length=textsearch.MAX_PATTERN_LENGTH)],
        path: DirectoryArgument = ".",
        regex: bool = False,
        ignore_case: Annotated[bool, Field(alias="ignoreCase")] = False,
        include: str | None = None,
        exclude_patterns: ExcludeArgument = (),
        context_lines: Annotated[
            int, Field(alias="contextLines", ge=0, le=textsearch.MAX_CONTEXT)
        ] = 0,
        max_matches: Annotated[
            int, Field(alias="maxMatches", ge=1, le=textsearch.MAX_MATCHES)
        ] = textsearch.DEFAULT_MATCHES,
        ctx: Context | None = None,
    ) -> textsearch.TextSearchResult:
        """Find the lines of text files that contain a pattern, like grep.

        Searches the file at ``path``, or every file beneath that directory (links are
        not followed), and returns each matching line with its file's absolute path and
        line number. Binary files and files over the read limit are skipped and
        counted. At most ``maxMatches`` lines come back; ``truncated`` says there may be
        more.

        Args:
            pattern: The text to find, matched within one line. With regex, an RE2
                regular expression (no backreferences or lookaround).
            regex: Treat the pattern as a regular expression instead of plain text.
            ignore_case: Match regardless of case.
            include: Search only files matching this glob: without '/' a name ('*.py'),
                with '/' a path relative to ``path`` ('src/**/*.ts').
            context_lines: Lines to show before and after each match (at most 10).
            max_matches: Stop after this many matching lines (at most 1000).
        """
        test = textsearch.compile_pattern(pattern, regex=regex, ignore_case=ignore_case)
        included = compile_glob(include) if include and include.strip("/") else None
        excluded = any_matcher(exclude_patterns)
        with search.watching(ctx), self.roots.locate(path) as place:
            return textsearch.search_text(
                place,
                shown(path),
                test,
                include=included,
                excluded=excluded,
                context=context_lines,
                max_matches=max_matches,
                max_file_bytes=self.settings.max_read_bytes,
            )
