"""The types of the tools' arguments and results, described once for every tool."""

from __future__ import annotations

from typing import Annotated, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

PathArgument = Annotated[
    str,
    Field(
        description=(
            "An absolute path inside one of the allowed directories, or a path relative "
            "to the first allowed directory (see {tool:list_allowed_directories})."
        ),
        min_length=1,
    ),
]
DirectoryArgument = Annotated[
    str,
    Field(
        description=(
            "A directory: an absolute path inside one of the allowed directories, or a "
            "path relative to the first one. Defaults to the first allowed directory."
        ),
        min_length=1,
    ),
]
ExcludeArgument = Annotated[
    tuple[str, ...],
    Field(
        alias="excludePatterns",
        description=(
            "Glob patterns of entries to leave out (and not descend into). A pattern "
            "without '/' matches names at any depth ('node_modules', '*.pyc'); one with "
            "'/' matches paths relative to the starting directory ('build/**')."
        ),
    ),
]


class FileText(TypedDict):
    """One file of ``read_multiple_files``: its content or why it could not be read."""

    path: str
    content: NotRequired[str]
    error: NotRequired[str]


class AllowedDirectories(TypedDict):
    """The roots of an instance, whether it may write, and the names it never serves."""

    directories: list[str]
    writable: bool
    denied: list[str]
    """The deny patterns: entries they match are refused and left out of listings."""
