"""Walking directories: listings, trees and glob searches, with excludes and limits.

Walks never follow symbolic links to directories (a link is reported, not entered),
so everything they visit lies beneath the resolved starting directory and therefore
inside the roots, and a link loop cannot trap them. They stop at ``limit`` entries
and check for cancellation between directories, so a call's timeout ends them.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NotRequired

import anyio.from_thread
from typing_extensions import TypedDict

from plugboard import ToolError
from plugboard_filesystem.errors import os_error

EntryType = Literal["file", "directory", "symlink", "other"]
Matcher = Callable[[str, str], bool]
"""``(name, relative posix path) -> bool``."""

_LABELS: dict[EntryType, str] = {
    "file": "[FILE]",
    "directory": "[DIR]",
    "symlink": "[LINK]",
    "other": "[OTHER]",
}


class TreeEntry(TypedDict):
    """One node of ``directory_tree``; ``children`` only on directories."""

    name: str
    type: EntryType
    children: NotRequired[list[TreeEntry]]


class DirectoryTree(TypedDict):
    """The result of ``directory_tree``."""

    tree: list[TreeEntry]
    truncated: bool
    """Whether the tree was cut off at the ``max_entries`` setting."""


class SearchResult(TypedDict):
    """The result of ``search_files``."""

    matches: list[str]
    """Absolute paths of the matching files and directories."""
    truncated: bool
    """Whether the search stopped at the ``max_entries`` setting."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One directory entry, typed without following symbolic links."""

    name: str
    path: Path
    type: EntryType
    size: int


def _checkpoint() -> None:
    # Outside an anyio worker thread (a direct call) nothing can cancel the walk.
    with contextlib.suppress(RuntimeError):
        anyio.from_thread.check_cancelled()


def compile_glob(pattern: str) -> Matcher:
    """Compile a glob into a matcher of directory entries.

    A pattern without ``/`` matches an entry's name at any depth (``*.py``,
    ``node_modules``); one with ``/`` matches the path relative to the starting
    directory (``src/**/test_*.py``). ``*`` and ``?`` stay within one name, ``**``
    spans directories, ``[abc]``/``[!abc]`` are character classes and ``{a,b}``
    alternatives.
    """
    try:
        expression = re.compile(_translate(pattern.strip("/")), re.DOTALL)
    except re.error:
        raise ToolError(
            f"{pattern!r} is not a valid glob pattern (check its brackets and braces)"
        ) from None
    if "/" in pattern.strip("/"):
        return lambda _name, relative: expression.fullmatch(relative) is not None
    return lambda name, _relative: expression.fullmatch(name) is not None


def _translate(pattern: str) -> str:
    parts: list[str] = []
    index = 0
    depth = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            parts.append(".*")
            index += 2
            continue
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif char == "[" and (end := pattern.find("]", index + 2)) != -1:
            parts.append(_character_class(pattern[index + 1 : end]))
            index = end + 1
            continue
        elif char == "{" and "}" in pattern[index:]:
            parts.append("(?:")
            depth += 1
        elif char == "}" and depth:
            parts.append(")")
            depth -= 1
        elif char == "," and depth:
            parts.append("|")
        else:
            parts.append(re.escape(char))
        index += 1
    return "".join(parts)


def _character_class(body: str) -> str:
    negate = body.startswith("!")
    if negate:
        body = body[1:]
    body = body.replace("\\", "\\\\")
    if not negate and body.startswith("^"):
        body = "\\" + body  # a literal caret, not a negation
    return f"[{'^' if negate else ''}{body}]"


def any_matcher(patterns: Iterable[str]) -> Matcher:
    """A matcher that accepts an entry when any of ``patterns`` matches it."""
    compiled = [compile_glob(pattern) for pattern in patterns if pattern.strip("/")]
    return lambda name, relative: any(match(name, relative) for match in compiled)


def scan(directory: Path, name: str) -> list[Entry]:
    """The entries of a directory, sorted by name, typed without following links.

    Args:
        directory: A resolved directory path.
        name: The caller's path, quoted, for messages.
    """
    try:
        with os.scandir(directory) as iterator:
            found = [_entry(item) for item in iterator]
    except OSError as error:
        raise os_error(error, name) from None
    return sorted(found, key=lambda entry: entry.name)


def _entry(item: os.DirEntry[str]) -> Entry:
    try:
        status = item.stat(follow_symlinks=False)
    except OSError:
        return Entry(item.name, Path(item.path), "other", 0)
    mode = status.st_mode
    kind: EntryType = "other"
    if stat.S_ISLNK(mode):
        kind = "symlink"
    elif stat.S_ISDIR(mode):
        kind = "directory"
    elif stat.S_ISREG(mode):
        kind = "file"
    return Entry(item.name, Path(item.path), kind, status.st_size if kind == "file" else 0)


def format_listing(entries: list[Entry], limit: int, *, sizes: bool, sort_by: str = "name") -> str:
    """The text of ``list_directory`` and ``list_directory_with_sizes``."""
    if sort_by == "size":
        entries = sorted(entries, key=lambda entry: (-entry.size, entry.name))
    shown = entries[:limit]
    if sizes:
        width = max((len(entry.name) for entry in shown), default=0)
        lines = [
            f"{_LABELS[entry.type]:7} {entry.name:<{width}}  "
            f"{format_size(entry.size) if entry.type == 'file' else ''}".rstrip()
            for entry in shown
        ]
    else:
        lines = [f"{_LABELS[entry.type]} {entry.name}" for entry in shown]
    if len(entries) > limit:
        lines.append(f"... {len(entries) - limit} more entries not shown (max_entries is {limit})")
    if not entries:
        lines.append("(empty directory)")
    if sizes:
        files = sum(1 for entry in entries if entry.type == "file")
        directories = sum(1 for entry in entries if entry.type == "directory")
        total = sum(entry.size for entry in entries)
        lines += [
            "",
            f"Total: {files} files, {directories} directories",
            f"Combined size: {format_size(total)}",
        ]
    return "\n".join(lines)


def format_size(size: int) -> str:
    """``1536`` -> ``1.5 KB``."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def directory_tree(base: Path, name: str, excluded: Matcher, limit: int) -> DirectoryTree:
    """A recursive tree of ``base``; excluded entries are left out and not entered."""
    count = 0
    truncated = False

    def build(directory: Path, prefix: str) -> list[TreeEntry]:
        nonlocal count, truncated
        _checkpoint()
        nodes: list[TreeEntry] = []
        for entry in scan(directory, name):
            relative = f"{prefix}{entry.name}"
            if excluded(entry.name, relative):
                continue
            if count >= limit:
                truncated = True
                break
            count += 1
            node: TreeEntry = {"name": entry.name, "type": entry.type}
            if entry.type == "directory":
                node["children"] = build(entry.path, f"{relative}/")
            nodes.append(node)
            if truncated:
                break
        return nodes

    tree = build(base, "")
    return {"tree": tree, "truncated": truncated}


def search_files(
    base: Path, name: str, matches: Matcher, excluded: Matcher, limit: int
) -> SearchResult:
    """Files and directories beneath ``base`` that match, in depth-first name order."""
    found: list[str] = []
    pending: list[tuple[Path, str]] = [(base, "")]
    while pending:
        _checkpoint()
        directory, prefix = pending.pop()
        subdirectories = []
        for entry in scan(directory, name):
            relative = f"{prefix}{entry.name}"
            if excluded(entry.name, relative):
                continue
            if matches(entry.name, relative):
                if len(found) >= limit:
                    return {"matches": found, "truncated": True}
                found.append(str(entry.path))
            if entry.type == "directory":
                subdirectories.append((entry.path, f"{relative}/"))
        pending.extend(reversed(subdirectories))
    return {"matches": found, "truncated": False}
