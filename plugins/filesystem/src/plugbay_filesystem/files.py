"""Reading and writing single files, safely and within size limits.

Every function here is blocking and works on a :class:`Location` that
:meth:`plugbay_filesystem.paths.Roots.locate` found: relative to its open
directory, never by path and never through a link in the last name. The connector
runs them in worker threads.
"""

from __future__ import annotations

import contextlib
import errno
import mimetypes
import os
import secrets
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel

from plugbay import ToolError
from plugbay_filesystem.errors import os_error
from plugbay_filesystem.location import Location

_READ_FLAGS = (
    os.O_RDONLY
    # The walk found no link in the last name; if one was put there since, refuse
    # it instead of following it.
    | os.O_NOFOLLOW
    # Opening a FIFO for reading would block until a writer appears.
    | os.O_NONBLOCK
    | os.O_CLOEXEC
)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_TAIL_BLOCK = 64 * 1024
_EXTRA_TYPES = {
    # Stable answers where the platform's MIME tables disagree or are silent.
    ".md": "text/markdown",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".toml": "application/toml",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
}

_TEXT_APPLICATION_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/toml",
        "application/yaml",
        "application/x-yaml",
        "application/x-sh",
        "application/x-python-code",
        "application/sql",
        "application/x-tex",
        "application/x-httpd-php",
        "image/svg+xml",
    }
)

FileType = Literal["file", "directory", "other"]


class FileInfo(BaseModel):
    """What ``get_file_info`` reports about a file or directory.

    Attributes:
        path: The resolved absolute path.
        type: ``file``, ``directory`` or ``other`` (device, socket, FIFO).
        size: Size in bytes.
        created: Creation time where the platform records it (UTC).
        modified: Last modification time (UTC).
        accessed: Last access time (UTC).
        permissions: The permission bits in octal, as ``chmod`` takes them (``644``).
        mode: The permissions as ``ls -l`` shows them (``-rw-r--r--``).
    """

    path: str
    type: FileType
    size: int
    created: datetime | None
    modified: datetime
    accessed: datetime
    permissions: str
    mode: str


def guess_mime_type(path: Path) -> str:
    """The MIME type for a file name, ``application/octet-stream`` when unknown."""
    suffix = path.suffix.lower()
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    guessed, _encoding = mimetypes.guess_type(path.name, strict=False)
    return guessed or "application/octet-stream"


def is_text_type(mime_type: str) -> bool:
    """Whether content of this MIME type is text (``text/*``, JSON, XML, scripts...)."""
    if mime_type.startswith("text/") or mime_type.endswith(("+json", "+xml")):
        return True
    return mime_type in _TEXT_APPLICATION_TYPES


def changed(name: str) -> ToolError:
    """The error for a last name that became a symbolic link after the walk."""
    return ToolError(
        f"{name} changed while it was being opened (a symbolic link took its place); "
        "it was not followed"
    )


def check_links(status: os.stat_result, place: Location, name: str) -> None:
    """Refuse a regular file with several hard links when the instance says so.

    A hard link made inside a root to a file elsewhere is indistinguishable from
    that file; ``refuse_hard_links`` refuses every file that has more than one name.
    """
    if place.refuse_hard_links and stat.S_ISREG(status.st_mode) and status.st_nlink > 1:
        raise ToolError(
            f"{name} has {status.st_nlink} hard links; this instance refuses files with "
            "more than one (the refuse_hard_links setting)"
        )


def status_of(place: Location, name: str) -> os.stat_result:
    """The status of the entry at ``place``, which the walk found not to be a link.

    Raises:
        ToolError: It does not exist, or a link has taken its place since.
    """
    place.require_parent(name)
    try:
        status = os.stat(place.name, dir_fd=place.directory, follow_symlinks=False)
    except OSError as error:
        raise os_error(error, name) from None
    if stat.S_ISLNK(status.st_mode):
        raise changed(name)
    return status


@contextlib.contextmanager
def open_regular(place: Location, name: str) -> Iterator[tuple[BinaryIO, int]]:
    """Open a regular file for reading; yield the stream and its size.

    Args:
        place: Where the file lies.
        name: The caller's path, quoted, for messages.

    Raises:
        ToolError: The file cannot be opened or is not a regular file.
    """
    place.require_parent(name)
    try:
        descriptor = os.open(place.name, _READ_FLAGS, dir_fd=place.directory)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise changed(name) from None
        raise os_error(error, name) from None
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise ToolError(f"{name} is a directory; list it with {{tool:list_directory}}")
        if not stat.S_ISREG(status.st_mode):
            raise ToolError(f"{name} is not a regular file")
        check_links(status, place, name)
        os.set_blocking(descriptor, True)
        stream = os.fdopen(descriptor, "rb")
    except OSError as error:
        os.close(descriptor)
        raise os_error(error, name) from None
    except BaseException:
        os.close(descriptor)
        raise
    with stream:
        yield stream, status.st_size


def _too_large(name: str, size: int, limit: int) -> ToolError:
    return ToolError(
        f"{name} is {size} bytes, more than the read limit of {limit} bytes "
        "(the max_read_bytes setting); read part of it with head or tail"
    )


def read_bytes(place: Location, name: str, limit: int) -> bytes:
    """The whole content of a regular file, refusing files larger than ``limit``."""
    with open_regular(place, name) as (stream, size):
        if size > limit:
            raise _too_large(name, size, limit)
        try:
            data = stream.read(limit + 1)
        except OSError as error:
            raise os_error(error, name) from None
    if len(data) > limit:  # it grew while we read it
        raise _too_large(name, len(data), limit)
    return data


def decode_text(data: bytes, name: str, *, strict: bool = False) -> str:
    """Decode a file's bytes as UTF-8; NUL bytes mean it is binary, not text.

    Invalid sequences become U+FFFD for reading; with ``strict`` (before an edit
    writes the text back) they are refused, so no byte is silently replaced.
    """
    if b"\x00" in data:
        raise ToolError(f"{name} looks like a binary file; read it with {{tool:read_media_file}}")
    if not strict:
        return data.decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{name} is not valid UTF-8 text, so it cannot be edited safely") from None


def read_text(place: Location, name: str, limit: int, *, head: int | None, tail: int | None) -> str:
    """A text file, or its first ``head`` or last ``tail`` lines.

    With ``head`` or ``tail`` only the needed part is read, so a small part of a file
    larger than ``limit`` can still be read; the part itself must fit the limit.
    """
    if head is not None and tail is not None:
        raise ToolError("pass head or tail, not both")
    if head is None and tail is None:
        return decode_text(read_bytes(place, name, limit), name)
    with open_regular(place, name) as (stream, size):
        try:
            if head is not None:
                data = _head(stream, head, limit)
            else:
                assert tail is not None
                data = _tail(stream, size, tail, limit)
        except OSError as error:
            raise os_error(error, name) from None
    if data is None:
        raise ToolError(
            f"the requested lines of {name} are more than the read limit of {limit} bytes "
            "(the max_read_bytes setting); ask for fewer lines"
        )
    return decode_text(data, name)


def _head(stream: BinaryIO, count: int, limit: int) -> bytes | None:
    lines: list[bytes] = []
    total = 0
    for line in stream:
        total += len(line)
        if total > limit:
            return None
        lines.append(line)
        if len(lines) == count:
            break
    return b"".join(lines)


def _tail(stream: BinaryIO, size: int, count: int, limit: int) -> bytes | None:
    position = size
    data = b""
    # Read blocks from the end until the buffer holds more line breaks than lines
    # wanted: then its first (partial) line can be dropped and enough remain.
    while position > 0 and data.count(b"\n") <= count:
        if len(data) > limit:
            return None
        step = min(_TAIL_BLOCK, position)
        position -= step
        stream.seek(position)
        data = stream.read(step) + data
    lines = data.splitlines(keepends=True)
    if position > 0:
        lines = lines[1:]
    result = b"".join(lines[-count:])
    return None if len(result) > limit else result


def write_atomic(place: Location, data: bytes, name: str) -> None:
    """Write ``data`` to the entry at ``place``, creating the file or replacing it whole.

    A new file is created exclusively (so a link planted at that name is not
    followed). An existing file is replaced by renaming a finished temporary file
    over it, keeping its permissions: readers never see half a file, and a hard link
    to the old file is not written through. Both happen in the walked directory.
    """
    place.require_parent(name)
    try:
        existing = os.stat(place.name, dir_fd=place.directory, follow_symlinks=False)
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise os_error(error, name) from None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise ToolError(f"{name} is a directory")
    if existing is not None and stat.S_ISLNK(existing.st_mode):
        raise changed(name)
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise ToolError(f"{name} is not a regular file")
    try:
        if existing is None:
            _create(place, data)
        else:
            _replace(place, data, stat.S_IMODE(existing.st_mode))
    except OSError as error:
        raise os_error(error, name) from None


def _create(place: Location, data: bytes) -> None:
    descriptor = os.open(place.name, _CREATE_FLAGS, 0o666, dir_fd=place.directory)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)


def _replace(place: Location, data: bytes, mode: int) -> None:
    # The temporary name must stay a valid name when the file's own is long.
    stem = place.name if len(os.fsencode(place.name)) <= 200 else ""
    temporary = f".{stem}.{secrets.token_hex(6)}.tmp"
    directory = place.directory
    descriptor = os.open(temporary, _CREATE_FLAGS, 0o600, dir_fd=directory)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        os.replace(temporary, place.name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=directory)
        raise


def file_info(place: Location, name: str) -> FileInfo:
    """Size, times, type and permissions of the entry at ``place``."""
    status = status_of(place, name)
    check_links(status, place, name)
    file_type: FileType = "other"
    if stat.S_ISREG(status.st_mode):
        file_type = "file"
    elif stat.S_ISDIR(status.st_mode):
        file_type = "directory"
    birth = getattr(status, "st_birthtime", None)
    return FileInfo(
        path=str(place.path),
        type=file_type,
        size=status.st_size,
        created=_utc(birth) if birth is not None else None,
        modified=_utc(status.st_mtime),
        accessed=_utc(status.st_atime),
        permissions=format(stat.S_IMODE(status.st_mode), "o"),
        mode=stat.filemode(status.st_mode),
    )


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
