"""Confining every path a caller sends to the configured root directories.

A caller's path is made absolute (a relative one is taken from the first root) and
walked by :func:`plugbay_filesystem.location.locate`: from ``/`` to a root, then
beneath it one directory at a time, each opened relative to the one before without
following a link. Links are followed by the walk itself, so ``..`` and every symbolic
link mean what ``realpath`` would make of them, and the path is accepted only when
its real place is a root or lies beneath one. The tools then work on the open
directory the walk hands back, never on the caller's spelling and never by name, so
neither a spelling (``..``, symlinks, doubled slashes, backslashes, ``~``) nor a link
swapped in while a call runs can reach outside. A symlink inside a root is followed
when, and only when, its target also lies inside a root.

Nothing else is interpreted: ``~`` is an ordinary file name and, on POSIX, so is a
backslash. Percent-decoding happens once, in the URI template match, before a
resource path reaches here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from plugbay import ToolError
from plugbay_filesystem.deny import NO_DENY, DenyList
from plugbay_filesystem.location import Location, locate, supported

MAX_PATH_LENGTH = 4096
"""Longest path accepted from a caller, in characters and in bytes (``PATH_MAX``)."""
MAX_NAME_BYTES = 255
"""Longest single name accepted (``NAME_MAX`` on Linux and the BSDs)."""

_URI_SAFE = "/:@!$&'()*+,;=-._~"


class Roots:
    """The resolved directories one connector instance may access.

    Args:
        directories: Absolute, resolved directory paths; the first one is where
            relative paths start.
        refuse_hard_links: Refuse to read regular files that have more than one link.
        deny: Names beneath the roots that are never served (the ``deny`` setting).
    """

    def __init__(
        self,
        directories: Iterable[Path],
        *,
        refuse_hard_links: bool = False,
        deny: DenyList = NO_DENY,
    ) -> None:
        unique: dict[Path, None] = dict.fromkeys(directories)
        if not unique:
            raise ValueError("at least one root directory is required")
        self.directories: tuple[Path, ...] = tuple(unique)
        self.refuse_hard_links = refuse_hard_links
        self.deny = deny

    @classmethod
    def from_settings(
        cls,
        configured: Iterable[str],
        *,
        refuse_hard_links: bool = False,
        deny: DenyList = NO_DENY,
    ) -> Roots:
        """Resolve the operator's configured roots; each must be an existing directory.

        The operator is trusted, so ``~`` is expanded here (and only here).

        Raises:
            ValueError: A root does not exist or is not a directory, or the platform
                cannot open files relative to a directory without following links
                (the confinement rests on that, so it fails closed).
        """
        if not supported():
            raise ValueError(
                "this platform lacks openat-style calls with O_NOFOLLOW, which the "
                "filesystem connector needs to keep paths inside the roots"
            )
        resolved = []
        for entry in configured:
            path = Path(os.path.realpath(os.path.expanduser(entry)))
            if not path.is_dir():
                raise ValueError(f"root {entry!r} is not an existing directory")
            resolved.append(path)
        return cls(resolved, refuse_hard_links=refuse_hard_links, deny=deny)

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

    def locate(self, path: str, *, follow_final: bool = True) -> Location:
        """Walk a caller's path to where it lies beneath a root, without racing links.

        Args:
            path: What the caller sent: absolute, or relative to the first root.
            follow_final: Whether a symbolic link in the last component is followed.
                ``False`` keeps the last name, for operations on the entry itself
                (moving a link moves the link).

        Returns:
            The open :class:`Location`; close it (``with``) when done.

        Raises:
            ToolError: The path is malformed, leads outside every root or through a
                name the deny list refuses. The message never says what lies outside
                nor whether a denied entry exists.
        """
        _check_spelling(path)
        if path.rstrip("/").rpartition("/")[2] in (".", ".."):
            # No last name to keep ("link/.", "a/.."): the whole path is resolved.
            follow_final = True
        candidate = path if os.path.isabs(path) else os.path.join(self.first, path)
        return locate(
            self.directories,
            candidate,
            path,
            follow_final=follow_final,
            refuse_hard_links=self.refuse_hard_links,
            deny=self.deny,
        )

    def resolve(self, path: str, *, follow_final: bool = True) -> Path:
        """The real absolute path a caller's path names, inside a root.

        Only for naming: anything that touches the entry uses :meth:`locate`.

        Raises:
            ToolError: As for :meth:`locate`.
        """
        with self.locate(path, follow_final=follow_final) as place:
            return place.path

    def uri_target(self, variable: str) -> str:
        """The path a ``file://<instance>/{+path}`` value names, as :meth:`locate` takes it.

        Two forms are accepted. A value whose first names are those of a root is the
        absolute path without its leading slash (``srv/docs/README.md`` when
        ``/srv/docs`` is a root): the form the connector writes, which names a file
        in any root. Any other value is relative to the first root
        (``README.md``), the form people write. The names are compared as spelled,
        so ``..`` and links are left to the walk.
        """
        if os.name == "nt":
            return variable
        names = [name for name in variable.split("/") if name not in ("", ".")]
        for root in self.directories:
            inside = root.parts[1:]
            if tuple(names[: len(inside)]) == inside:
                return path_from_uri(variable)
        return variable.lstrip("/") or "."

    def uri_forms(self, instance: str) -> str:
        """How this instance's file URIs are written, with examples, for error messages."""
        first = self.first
        relative = file_uri(instance, "README.md")
        absolute = file_uri(instance, uri_path(first / "README.md"))
        text = (
            f"file://{instance}/<path> takes a path relative to the first allowed directory "
            f"({relative} is {first / 'README.md'}) or an absolute path inside an allowed "
            f"directory without its leading slash ({absolute})"
        )
        if len(self.directories) > 1:
            other = file_uri(instance, uri_path(self.directories[1] / "README.md"))
            text += f"; files in the other directories need that form ({other})"
        return text

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
    try:
        encoded = os.fsencode(path)
    except UnicodeError:
        raise ToolError(
            "the path contains characters that cannot be encoded in a file name"
        ) from None
    if len(encoded) > MAX_PATH_LENGTH:
        raise ToolError(f"the path is {len(encoded)} bytes long; the limit is {MAX_PATH_LENGTH}")
    longest = max((len(name) for name in encoded.split(b"/")), default=0)
    if longest > MAX_NAME_BYTES:
        raise ToolError(
            f"a name in the path is {longest} bytes long; the file name is too long "
            f"(the limit is {MAX_NAME_BYTES} bytes per name)"
        )


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
