"""Walking directories: listings, trees and glob searches, with excludes and limits.

Walks start from a directory that :meth:`Roots.locate` found and enter each
subdirectory relative to its parent's open descriptor, never following a symbolic
link (a link is reported, not entered; a directory swapped for a link meanwhile is
skipped), so everything they visit lies beneath the starting directory, and a link
loop cannot trap them. They stop at ``limit`` entries and check for cancellation
between directories (:func:`checkpoint`: the call's ``ctx.cancelled``), so a call's
timeout ends them. Globs are matched in linear
time (:mod:`plugbay_filesystem.globs`). Entries the deny list names are left out
and never entered (:meth:`Location.hides`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import NotRequired

import anyio.from_thread
from typing_extensions import TypedDict

from plugbay import Context
from plugbay_filesystem.directories import Entry, EntryType, open_child, open_directory, scan
from plugbay_filesystem.globs import Matcher, any_matcher, compile_glob
from plugbay_filesystem.location import Location

__all__ = [
    "DirectoryTree",
    "Entry",
    "Matcher",
    "SearchResult",
    "TreeEntry",
    "any_matcher",
    "checkpoint",
    "compile_glob",
    "directory_tree",
    "format_listing",
    "format_size",
    "search_files",
    "walk",
    "watching",
]

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


_CALL: ContextVar[Context | None] = ContextVar("plugbay_filesystem_call", default=None)


@contextlib.contextmanager
def watching(ctx: Context | None) -> Iterator[None]:
    """Make :func:`checkpoint` end the work done inside once ``ctx`` is cancelled.

    A tool wraps its walk in it; the walk's functions need no context argument.
    """
    token = _CALL.set(ctx)
    try:
        yield
    finally:
        _CALL.reset(token)


def checkpoint() -> None:
    """Raise if the call was cancelled (its timeout passed).

    The call's :class:`Context` says so (``ctx.cancelled``, set by the host), or, for
    a walk run straight in an anyio worker thread, the worker's cancel scope.
    """
    if (ctx := _CALL.get()) is not None:
        ctx.raise_if_cancelled()
    # Outside an anyio worker thread (a direct call) nothing else can cancel the walk.
    with contextlib.suppress(RuntimeError):
        anyio.from_thread.check_cancelled()


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


def directory_tree(place: Location, name: str, excluded: Matcher, limit: int) -> DirectoryTree:
    """A recursive tree of the directory at ``place``.

    Excluded entries are left out and not entered.
    """
    count = 0
    tree: list[TreeEntry] = []
    base = open_directory(place, name)
    # One frame per directory being listed: its descriptor, relative prefix, the
    # entries still to visit and the list its nodes go into. Iterative, so a deep
    # tree needs no deep recursion.
    frames = [(base, "", _paced(_scan(base, place, place.path, name)), tree)]
    try:
        while frames:
            directory, prefix, entries, nodes = frames[-1]
            entry = next(entries, None)
            if entry is None:
                os.close(frames.pop()[0])
                continue
            relative = f"{prefix}{entry.name}"
            if excluded(entry.name, relative):
                continue
            if count >= limit:
                return {"tree": tree, "truncated": True}
            count += 1
            node: TreeEntry = {"name": entry.name, "type": entry.type}
            nodes.append(node)
            if entry.type != "directory":
                continue
            children: list[TreeEntry] = []
            node["children"] = children
            checkpoint()
            child = open_child(directory, entry.name, name)
            if child is not None:
                entries_below = _paced(_scan(child, place, entry.path, name))
                frames.append((child, f"{relative}/", entries_below, children))
    finally:
        for frame in frames:
            os.close(frame[0])
    return {"tree": tree, "truncated": False}


def search_files(
    place: Location, name: str, matches: Matcher, excluded: Matcher, limit: int
) -> SearchResult:
    """Files and directories beneath the directory at ``place`` that match.

    Each directory's matches come before those of its subdirectories, which are
    then searched in name order, depth first.
    """
    found: list[str] = []
    for _directory, entry, relative in walk(place, name, excluded):
        if matches(entry.name, relative):
            if len(found) >= limit:
                return {"matches": found, "truncated": True}
            found.append(str(entry.path))
    return {"matches": found, "truncated": False}


Walked = tuple[int, Entry, str]
"""One entry of :func:`walk`: its directory's open descriptor, itself, its relative path."""


def walk(place: Location, name: str, excluded: Matcher) -> Iterator[Walked]:
    """Every entry beneath the directory at ``place``, but excluded and denied ones.

    A directory's entries come in name order, then its subdirectories' entries, depth
    first. The descriptor yielded with an entry is open until the next one is asked
    for (closing the generator closes them all). Links are reported, not entered.
    """
    frames: list[tuple[int, Iterator[tuple[str, Path, str]]]] = []

    def listed(directory: int, path: Path, prefix: str) -> Iterator[Walked]:
        entries = _scan(directory, place, path, name)
        subdirectories: list[tuple[str, Path, str]] = []
        # The frame owns the descriptor from here on; its subdirectories are read
        # once this listing is done.
        frames.append((directory, iter(subdirectories)))
        for entry in _paced(entries):
            relative = f"{prefix}{entry.name}"
            if excluded(entry.name, relative):
                continue
            yield directory, entry, relative
            if entry.type == "directory":
                subdirectories.append((entry.name, entry.path, f"{relative}/"))

    try:
        yield from listed(open_directory(place, name), place.path, "")
        while frames:
            directory, pending = frames[-1]
            subdirectory = next(pending, None)
            if subdirectory is None:
                os.close(frames.pop()[0])
                continue
            checkpoint()
            entry_name, path, prefix = subdirectory
            child = open_child(directory, entry_name, name)
            if child is not None:
                yield from listed(child, path, prefix)
    finally:
        for directory, _pending in frames:
            os.close(directory)


def _paced(entries: list[Entry]) -> Iterator[Entry]:
    """``entries``, with a cancellation check every so many: a directory may be huge."""
    for index, entry in enumerate(entries):
        if index % 1024 == 1023:
            checkpoint()
        yield entry


def _scan(directory: int, place: Location, path: Path, name: str) -> list[Entry]:
    """:func:`scan` without denied entries, closing ``directory`` if it fails.

    (The walk has not taken the descriptor yet.) A denied directory is left out, so
    it is never entered either.
    """
    try:
        checkpoint()
        return scan(directory, path, name, place.hides)
    except BaseException:
        os.close(directory)
        raise
