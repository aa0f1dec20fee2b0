"""Directories and moves, worked on through the descriptors a walk opened.

Like :mod:`plugbay_filesystem.files`, everything here takes a :class:`Location`
and acts relative to its open directory (``dir_fd=``), opening further directories
with ``O_NOFOLLOW``: a directory swapped for a link while a call runs is refused or
skipped, never entered.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from plugbay import ToolError
from plugbay_filesystem.errors import os_error
from plugbay_filesystem.files import status_of
from plugbay_filesystem.location import WALK_FLAGS, Location

EntryType = Literal["file", "directory", "symlink", "other"]

LIST_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
"""How a directory is opened to be listed (``scandir`` needs a readable descriptor)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One directory entry, typed without following symbolic links."""

    name: str
    path: Path
    type: EntryType
    size: int


def open_directory(place: Location, name: str) -> int:
    """Open the directory at ``place`` for listing; the caller closes the descriptor.

    Args:
        place: Where the directory lies.
        name: The caller's path, quoted, for messages.

    Raises:
        ToolError: It does not exist, is not a directory, or cannot be opened.
    """
    place.require_parent(name)
    try:
        return os.open(place.name, LIST_FLAGS, dir_fd=place.directory)
    except OSError as error:
        if error.errno not in (errno.ENOTDIR, errno.ELOOP):
            raise os_error(error, name) from None
    if stat.S_ISDIR(status_of(place, name).st_mode):  # it became one meanwhile
        raise ToolError(f"{name} changed while it was being opened; try again")
    raise ToolError(f"{name} is not a directory")


def open_child(directory: int, entry: str, name: str) -> int | None:
    """Open the subdirectory ``entry`` of an open directory, or ``None`` if it is not one now.

    A walk lists a directory, then enters its subdirectories: one that has gone or
    been swapped for a link in between is skipped.
    """
    try:
        return os.open(entry, LIST_FLAGS, dir_fd=directory)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            return None
        raise os_error(error, name) from None


def scan(
    directory: int, path: Path, name: str, hidden: Callable[[Path], bool] | None = None
) -> list[Entry]:
    """The entries of an open directory, sorted by name, typed without following links.

    Args:
        directory: A descriptor from :func:`open_directory` or :func:`open_child`.
        path: The directory's real path, to give each entry its own.
        name: The caller's path, quoted, for messages.
        hidden: Entries (by real path) to leave out: the deny list's
            (:meth:`Location.hides`). They are not even looked at.
    """
    try:
        # scandir works on its own duplicate and leaves ``directory`` open.
        with os.scandir(directory) as iterator:
            found = [
                _entry(item, path)
                for item in iterator
                if hidden is None or not hidden(path / item.name)
            ]
    except OSError as error:
        raise os_error(error, name) from None
    return sorted(found, key=lambda entry: entry.name)


def read_directory(place: Location, name: str) -> list[Entry]:
    """The entries of the directory at ``place`` (see :func:`scan`)."""
    descriptor = open_directory(place, name)
    try:
        return scan(descriptor, place.path, name, place.hides)
    finally:
        os.close(descriptor)


def _entry(item: os.DirEntry[str], parent: Path) -> Entry:
    path = parent / item.name
    try:
        status = item.stat(follow_symlinks=False)
    except OSError:
        return Entry(item.name, path, "other", 0)
    mode = status.st_mode
    kind: EntryType = "other"
    if stat.S_ISLNK(mode):
        kind = "symlink"
    elif stat.S_ISDIR(mode):
        kind = "directory"
    elif stat.S_ISREG(mode):
        kind = "file"
    return Entry(item.name, path, kind, status.st_size if kind == "file" else 0)


def make_directories(place: Location, name: str) -> bool:
    """Create the directory at ``place`` and any missing parents.

    Returns:
        ``True`` if it was created, ``False`` if it was already a directory.

    Raises:
        ToolError: It, or a part of its path, exists and is not a directory.
    """
    if place.is_root:
        return False
    parts = [*place.missing, place.name]
    directory = place.directory
    opened: list[int] = []
    created = False
    try:
        for index, part in enumerate(parts):
            try:
                os.mkdir(part, 0o777, dir_fd=directory)
                created = True
            except FileExistsError:
                pass
            try:
                directory = os.open(part, WALK_FLAGS, dir_fd=directory)
            except OSError as error:
                if error.errno not in (errno.ENOTDIR, errno.ELOOP):
                    raise
                if index == len(parts) - 1:
                    raise ToolError(f"{name} exists and is not a directory") from None
                raise os_error(OSError(errno.ENOTDIR, ""), name) from None
            opened.append(directory)
    except OSError as error:
        raise os_error(error, name) from None
    finally:
        for descriptor in opened:
            os.close(descriptor)
    return created


def move(origin: Location, target: Location, source: str, destination: str) -> None:
    """Move the entry at ``origin`` to ``target``; a link moves as a link.

    Args:
        origin: Where the entry is (its last name not followed).
        target: Where it goes (its last name not followed).
        source: The caller's source path, quoted, for messages.
        destination: The caller's destination path, quoted, for messages.

    Raises:
        ToolError: The source is a root or missing, a directory that a deny pattern
            with ``/`` passes through, the destination exists or its directory does
            not, or the operating system refuses.
    """
    if origin.is_root:
        raise ToolError(f"{source} is an allowed directory itself and cannot be moved")
    if origin.missing or _status(origin, source) is None:
        raise ToolError(f"{source} does not exist")
    guarded = origin.deny.guarding(origin.name) if is_directory(origin) else None
    if guarded is not None:
        raise ToolError(
            f"{source} cannot be moved: the deny list names entries beneath such a "
            f"directory by their path ({guarded!r}), and moving it would serve them"
        )
    if target.missing:
        raise ToolError(f"the directory of {destination} does not exist; create it first")
    if target.is_root or _status(target, destination) is not None:
        raise ToolError(f"{destination} already exists; {{tool:move_file}} never overwrites")
    try:
        rename_no_replace(origin, target)
    except OSError as error:
        if error.errno == errno.EEXIST:
            raise ToolError(
                f"{destination} already exists; {{tool:move_file}} never overwrites"
            ) from None
        if error.errno != errno.EXDEV:
            raise os_error(error, source) from None
        _move_across(origin, target, source)


RENAME_NOREPLACE = 1


def _load_renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not Linux, or a C library without it
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return cast("Callable[[int, bytes, int, bytes, int], int]", function)


_renameat2 = _load_renameat2()


def rename_no_replace(origin: Location, target: Location) -> None:
    """Rename ``origin`` to ``target``, failing with ``EEXIST`` if the target exists.

    Linux's ``renameat2(RENAME_NOREPLACE)`` makes that one step, so an entry created
    at the target after :func:`move` checked it is not replaced. Where the kernel,
    the C library or the file system lacks it, a plain rename follows the check.
    """
    if _renameat2 is not None:
        done = _renameat2(
            origin.directory,
            os.fsencode(origin.name),
            target.directory,
            os.fsencode(target.name),
            RENAME_NOREPLACE,
        )
        if done == 0:
            return
        failure = ctypes.get_errno()
        # EINVAL: a file system without the flag (or a directory into itself,
        # which the plain rename reports the same way).
        if failure not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(failure, os.strerror(failure))
    os.rename(origin.name, target.name, src_dir_fd=origin.directory, dst_dir_fd=target.directory)


def _status(place: Location, name: str) -> os.stat_result | None:
    try:
        return os.stat(place.name, dir_fd=place.directory, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise os_error(error, name) from None


def _move_across(origin: Location, target: Location, source: str) -> None:
    """Move to another file system: copy through descriptors, then remove the original."""
    status = _status(origin, source)
    if status is None:
        raise ToolError(f"{source} does not exist")
    try:
        if stat.S_ISLNK(status.st_mode):
            link = os.readlink(origin.name, dir_fd=origin.directory)
            os.symlink(link, target.name, dir_fd=target.directory)
        elif stat.S_ISREG(status.st_mode):
            _copy_file(origin, target, status)
        else:
            raise ToolError(
                f"{source} is on another file system than the destination; only files "
                "and links can be moved across file systems"
            )
        os.unlink(origin.name, dir_fd=origin.directory)
    except OSError as error:
        raise os_error(error, source) from None


def _copy_file(origin: Location, target: Location, status: os.stat_result) -> None:
    reading = os.open(origin.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=origin.directory)
    with os.fdopen(reading, "rb") as source_stream:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        writing = os.open(target.name, flags, 0o600, dir_fd=target.directory)
        try:
            with os.fdopen(writing, "wb") as target_stream:
                shutil.copyfileobj(source_stream, target_stream)
                os.fchmod(target_stream.fileno(), stat.S_IMODE(status.st_mode))
                os.utime(target_stream.fileno(), ns=(status.st_atime_ns, status.st_mtime_ns))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(target.name, dir_fd=target.directory)
            raise


def is_directory(place: Location) -> bool:
    """Whether the entry at ``place`` is a directory now (a link is not one)."""
    if place.missing:
        return False
    try:
        status = os.stat(place.name, dir_fd=place.directory, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISDIR(status.st_mode)
