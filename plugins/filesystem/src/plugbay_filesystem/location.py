"""Finding a caller's path beneath a root without ever letting the kernel follow a link.

A path checked with ``realpath`` and then opened by name can be raced: between the
check and the open, a directory on the way can be swapped for a symbolic link that
points out of the root. So a path is never opened by name here. The walk starts
from ``/`` and, once it reaches a root, opens that root and then each directory
beneath it relative to the one before (``openat`` with ``O_NOFOLLOW``), and hands
back an open descriptor of the directory that holds the entry plus the entry's
name. The caller works on that descriptor (``dir_fd=``), so what it touches is
beneath the root whatever is renamed meanwhile (only moving a directory out of the
root from another process, which no tool can do, takes a held descriptor along).

Symbolic links keep the meaning they had: a link inside a root whose target lies
inside a root is followed, but by the walk, not the kernel: the link is read with
``readlink`` and the walk starts again from ``/`` with the target in its place (at
most :data:`MAX_LINK_HOPS` times). ``..`` goes back to the directory the walk came
from, never to a parent the kernel picks. A path whose real place is not beneath a
root is refused, whether or not it exists. Only the part of a path above the roots,
which belongs to the operator, is looked at by name.

Beneath a root every name the walk meets is checked against the instance's deny list
(:mod:`plugbay_filesystem.deny`) before it is opened or looked at, so a denied
directory is never entered, not even on the way to somewhere else
(``.git/../README.md`` is refused), and whether a denied entry exists is never told.
"""

from __future__ import annotations

import errno
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from plugbay import ToolError
from plugbay_filesystem.deny import NO_DENY, DenyList, refused
from plugbay_filesystem.errors import os_error, shown

MAX_LINK_HOPS = 40
"""The most symbolic links one path may pass through (Linux's own limit)."""

WALK_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
"""How each directory on the way is opened: never through a link. ``O_PATH`` where
there is one, so a directory that may be searched but not listed can be passed."""


def supported() -> bool:
    """Whether this platform offers the ``dir_fd`` calls the walk relies on."""
    needed = (os.open, os.stat, os.readlink, os.mkdir, os.rename, os.unlink)
    return hasattr(os, "O_NOFOLLOW") and all(call in os.supports_dir_fd for call in needed)


@dataclass(eq=False)
class Location:
    """Where a caller's path lies: an open directory beneath a root and a name in it.

    Use it as a context manager; leaving it closes :attr:`directory`.

    Attributes:
        root: The root the entry lies beneath.
        path: The entry's real absolute path (for messages, listings and URIs).
        directory: An open descriptor of the deepest existing directory on the way.
        name: The entry's name in :attr:`directory`, or ``"."`` for a root itself.
        missing: Names between :attr:`directory` and :attr:`name` that do not exist
            (or are not directories); empty when :attr:`directory` holds the entry.
        missing_errno: ``ENOENT`` or ``ENOTDIR``, why :attr:`missing` is not empty.
        refuse_hard_links: The instance refuses to serve files with several links.
        deny: The instance's deny list; listings leave out what it denies.
    """

    root: Path
    path: Path
    directory: int
    name: str
    missing: tuple[str, ...] = ()
    missing_errno: int = 0
    refuse_hard_links: bool = False
    deny: DenyList = NO_DENY

    def __enter__(self) -> Location:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the directory descriptor (safe to call twice)."""
        if self.directory >= 0:
            os.close(self.directory)
            self.directory = -1

    def hides(self, path: Path) -> bool:
        """Whether the entry at real ``path``, in a directory already allowed, is denied."""
        try:
            names = path.relative_to(self.root).parts
        except ValueError:
            return True  # not beneath the root: never shown
        return self.deny.denies_child(names)

    @property
    def is_root(self) -> bool:
        """Whether the entry is a root itself."""
        return self.name == "."

    def require_parent(self, shown_path: str) -> None:
        """Raise unless the directory that should hold the entry exists.

        Args:
            shown_path: The caller's path, quoted, for the message.
        """
        if self.missing:
            raise os_error(OSError(self.missing_errno, ""), shown_path)


def denied(path: str) -> ToolError:
    """The refusal for a path outside every root; it never says what lies there."""
    return ToolError(
        f"access denied: {shown(path)} is outside the allowed directories "
        "({tool:list_allowed_directories} shows them)"
    )


class _Expand(Exception):
    """The walk met a link (or a change under it): start again from this path."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def locate(
    roots: tuple[Path, ...],
    path: str,
    caller: str,
    *,
    follow_final: bool,
    refuse_hard_links: bool,
    deny: DenyList = NO_DENY,
) -> Location:
    """Walk an absolute ``path`` down to its :class:`Location` beneath one of ``roots``.

    Args:
        roots: The real paths of the roots.
        path: An absolute path (the caller's, made absolute).
        caller: What the caller sent, for messages.
        follow_final: Whether a link in the last component is followed.
        refuse_hard_links: Copied into the result for the readers.
        deny: Names beneath a root that may not be passed through or reached.

    Raises:
        ToolError: The path leads outside the roots or through a denied name, passes
            too many links, or a directory on the way cannot be opened.
    """
    pending = path
    for _hop in range(MAX_LINK_HOPS + 1):
        try:
            place = _Walk(roots, caller, follow_final, deny).run(pending)
        except _Expand as expansion:
            pending = expansion.path
            continue
        except OSError as error:
            raise os_error(error, shown(caller)) from None
        place.refuse_hard_links = refuse_hard_links
        place.deny = deny
        return place
    raise os_error(OSError(errno.ELOOP, ""), shown(caller))


class _Walk:
    """One pass from ``/`` down the names of a path; it owns the descriptors it opens."""

    def __init__(
        self, roots: tuple[Path, ...], caller: str, follow_final: bool, deny: DenyList
    ) -> None:
        self.roots = {str(root): root for root in roots}
        self.deny = deny
        self.caller = caller
        self.follow_final = follow_final
        self.above: list[str] = []  # real names from "/" while above every root
        self.root: Path | None = None
        self.opened: list[tuple[str, int]] = []  # the root ("", fd), then directories
        self.missing: list[str] = []
        self.missing_errno = 0

    def run(self, path: str) -> Location:
        names = deque(name for name in path.split("/") if name not in ("", "."))
        try:
            self._enter_root()
            final = None
            while names:
                name = names.popleft()
                if self.root is None:
                    self._step_above(name, names)
                elif name == "..":
                    self._step_up()
                else:
                    final = self._step_beneath(name, names)
                self._enter_root()
            if self.root is None:
                raise denied(self.caller)
            return self._finish(final)
        finally:
            for _name, descriptor in self.opened:
                if descriptor >= 0:
                    os.close(descriptor)

    def _step_beneath(self, name: str, rest: deque[str]) -> str | None:
        """Take ``name`` beneath the root; the last name kept unfollowed is returned."""
        # Checked before it is opened or looked at: a denied directory is never
        # entered, and a denied entry's existence never shows.
        names = [*(entered for entered, _fd in self.opened[1:]), *self.missing, name]
        if self.deny.denies_child(names):
            raise refused(shown(self.caller))
        if self.missing:
            self.missing.append(name)
        elif not rest and not self.follow_final:
            return name
        else:
            self._step_down(name, rest)
        return None

    def _enter_root(self) -> None:
        if self.root is not None:
            return
        root = self.roots.get("/" + "/".join(self.above))
        if root is None:
            return
        descriptor = os.open(root, WALK_FLAGS)
        self.root = root
        self.opened = [("", descriptor)]

    def _step_above(self, name: str, rest: deque[str]) -> None:
        # Above the roots the operator's directories are trusted: they are read by
        # name, only to find out where the path goes.
        if name == "..":
            if self.above:
                self.above.pop()
            return
        here = "/" + "/".join([*self.above, name])
        try:
            target = os.readlink(here)
        except (OSError, ValueError):
            self.above.append(name)
            return
        raise _Expand(_joined(os.path.dirname(here), target, rest))

    def _step_up(self) -> None:
        if self.missing:
            self.missing.pop()
            return
        if len(self.opened) > 1:
            os.close(self.opened.pop()[1])
            return
        # ``..`` of the root itself: back above the roots, to the root's parent.
        assert self.root is not None
        os.close(self.opened.pop()[1])
        self.above = list(self.root.parts[1:-1])
        self.root = None

    def _step_down(self, name: str, rest: deque[str]) -> None:
        top = self.opened[-1][1]
        if not rest:  # the last name, followed: only a link needs work
            target = _readlink(name, top)
            if target is not None:
                raise _Expand(_joined(self._here(), target, rest))
            self.opened.append((name, -1))
            return
        try:
            descriptor = os.open(name, WALK_FLAGS, dir_fd=top)
        except OSError as error:
            if error.errno == errno.ENOENT:
                self._lose(name, errno.ENOENT)
                return
            if error.errno not in (errno.ENOTDIR, errno.ELOOP):
                raise
            target = _readlink(name, top)
            if target is not None:
                raise _Expand(_joined(self._here(), target, rest)) from None
            if error.errno == errno.ELOOP:  # a link a moment ago, not now: look again
                raise _Expand(_joined(self._here(), name, rest)) from None
            self._lose(name, errno.ENOTDIR)
            return
        self.opened.append((name, descriptor))

    def _lose(self, name: str, why: int) -> None:
        self.missing = [name]
        self.missing_errno = why

    def _here(self) -> str:
        assert self.root is not None
        return os.path.join(self.root, *(name for name, _fd in self.opened[1:]))

    def _finish(self, final: str | None) -> Location:
        assert self.root is not None
        if final is None and self.missing:
            final = self.missing.pop()
        if final is None and self.opened[-1][1] == -1:
            final = self.opened.pop()[0]
        if final is None and len(self.opened) > 1:
            # The path ends at a directory below the root: name it in its parent.
            name, descriptor = self.opened.pop()
            os.close(descriptor)
            final = name
        if final is None:
            final = "."
        names = [name for name, _fd in self.opened[1:]]
        if final != ".":
            names += [*self.missing, final]
        if self.deny.denies_names(names):  # checked on the way; fail closed all the same
            raise refused(shown(self.caller))
        directory = self.opened.pop()[1]
        return Location(
            root=self.root,
            path=self.root.joinpath(*names),
            directory=directory,
            name=final,
            missing=tuple(self.missing),
            missing_errno=self.missing_errno if self.missing else 0,
        )


def _readlink(name: str, directory: int) -> str | None:
    """The target of ``name`` in ``directory`` if it is a symbolic link, else ``None``."""
    try:
        return os.readlink(name, dir_fd=directory)
    except OSError as error:
        if error.errno in (errno.EINVAL, errno.ENOENT, errno.ENOTDIR):
            return None
        raise


def _joined(base: str, target: str, rest: deque[str]) -> str:
    """The path to walk instead: ``target`` (from ``base`` if relative), then ``rest``."""
    return "/".join([os.path.join(base, target), *rest])
