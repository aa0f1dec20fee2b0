"""Confining every path a caller sends to the configured root directories.

The rule is simple and checked in one place: a caller's path is made absolute (a
relative one is taken from the first root), resolved with ``os.path.realpath`` so
that ``..`` and every symbolic link along it are followed, and accepted only when
the resolved path is a root or lies beneath one. Everything after that works on the
resolved path, never on the caller's spelling, so no spelling (``..``, symlinks,
doubled slashes, backslashes, ``~``) can reach outside. A symlink inside a root is
therefore followed when, and only when, its target also lies inside a root.

Nothing else is interpreted: ``~`` is an ordinary file name and, on POSIX, so is a
backslash. Percent-decoding happens once, in the URI template match, before a
resource path reaches here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from plugboard import ToolError
from plugboard_filesystem.errors import shown

MAX_PATH_LENGTH = 4096
"""Longest path accepted from a caller (``PATH_MAX`` on Linux)."""

_SEPARATORS = os.sep + (os.altsep or "")
_URI_SAFE = "/:@!$&'()*+,;=-._~"


class Roots:
    """The resolved directories one connector instance may access.

    Args:
        directories: Absolute, resolved directory paths; the first one is where
            relative paths start.
    """

    def __init__(self, directories: Iterable[Path]) -> None:
        unique: dict[Path, None] = dict.fromkeys(directories)
        if not unique:
            raise ValueError("at least one root directory is required")
        self.directories: tuple[Path, ...] = tuple(unique)

    @classmethod
    def from_settings(cls, configured: Iterable[str]) -> Roots:
        """Resolve the operator's configured roots; each must be an existing directory.

        The operator is trusted, so ``~`` is expanded here (and only here).

        Raises:
            ValueError: A root does not exist or is not a directory.
        """
        resolved = []
        for entry in configured:
            path = Path(os.path.realpath(os.path.expanduser(entry)))
            if not path.is_dir():
                raise ValueError(f"root {entry!r} is not an existing directory")
            resolved.append(path)
        return cls(resolved)

    @property
    def first(self) -> Path:
        """The root that relative paths start from."""
        return self.directories[0]

    def root_of(self, resolved: Path) -> Path | None:
        """The root that contains ``resolved`` (an already resolved path), if any."""
        for root in self.directories:
            if resolved == root or resolved.is_relative_to(root):
                return root
        return None

    def resolve(self, path: str, *, follow_final: bool = True) -> Path:
        """Resolve a caller's path and check that it stays inside the roots.

        Args:
            path: What the caller sent: absolute, or relative to the first root.
            follow_final: Whether a symbolic link in the last component is followed.
                ``False`` resolves only the parent directory and keeps the last name,
                for operations on the entry itself (moving a link moves the link).

        Returns:
            The resolved absolute path, inside a root.

        Raises:
            ToolError: The path is malformed or leads outside every root. The message
                never says what lies outside.
        """
        _check_spelling(path)
        candidate = path if os.path.isabs(path) else os.path.join(self.first, path)
        resolved = _resolve(candidate, follow_final=follow_final)
        if self.root_of(resolved) is None:
            raise ToolError(
                f"access denied: {shown(path)} is outside the allowed directories "
                "(list_allowed_directories shows them)"
            )
        return resolved

    def relative(self, resolved: Path) -> str:
        """``resolved`` relative to its root, in POSIX form, for diff headers and listings."""
        root = self.root_of(resolved)
        if root is None or resolved == root:
            return resolved.name or "."
        return resolved.relative_to(root).as_posix()


def _check_spelling(path: str) -> None:
    if "\x00" in path:
        raise ToolError("the path contains a NUL character; file names cannot contain one")
    if len(path) > MAX_PATH_LENGTH:
        raise ToolError(f"the path is {len(path)} characters long; the limit is {MAX_PATH_LENGTH}")


def _resolve(candidate: str, *, follow_final: bool) -> Path:
    if follow_final:
        return Path(os.path.realpath(candidate))
    head, name = os.path.split(candidate.rstrip(_SEPARATORS))
    if name in ("", ".", ".."):
        # No last name to keep (a root, or a path ending in ``..``): resolve it all.
        return Path(os.path.realpath(candidate))
    return Path(os.path.realpath(head or os.sep)) / name


def uri_path(resolved: Path) -> str:
    """The ``{+path}`` value naming ``resolved`` in a ``file://<instance>/{+path}`` URI.

    On POSIX it is the absolute path without its leading slash; on Windows the path
    with forward slashes (``C:/Users/...``). The value is not percent-encoded.
    """
    return resolved.as_posix().lstrip("/")


def path_from_uri(variable: str) -> str:
    """The filesystem path a ``{+path}`` value names: the inverse of :func:`uri_path`."""
    if os.name == "nt":
        return variable
    return "/" + variable


def file_uri(instance: str, variable: str) -> str:
    """The full ``file://<instance>/...`` URI for a ``{+path}`` value, percent-encoded.

    The template match decodes it once, giving back exactly ``variable``.
    """
    return f"file://{instance}/{quote(variable, safe=_URI_SAFE)}"
