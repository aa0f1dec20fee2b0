"""Reading and writing single files, safely and within size limits.

Every function here is blocking and expects a path already resolved by
:class:`plugboard_filesystem.paths.Roots`; the connector runs them in worker threads.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import stat
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel

from plugboard import ToolError
from plugboard_filesystem.errors import os_error

_READ_FLAGS = (
    os.O_RDONLY
    # The path was resolved, so its last component is not a link; if one was put
    # there since, refuse it instead of following it.
    | getattr(os, "O_NOFOLLOW", 0)
    # Opening a FIFO for reading would block until a writer appears.
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)
_CREATE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
)
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


@contextlib.contextmanager
def open_regular(path: Path, name: str) -> Iterator[tuple[BinaryIO, int]]:
    """Open a regular file for reading; yield the stream and its size.

    Args:
        path: The resolved path.
        name: The caller's path, quoted, for messages.

    Raises:
        ToolError: The file cannot be opened or is not a regular file.
    """
    try:
        descriptor = os.open(path, _READ_FLAGS)
    except OSError as error:
        raise os_error(error, name) from None
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise ToolError(f"{name} is a directory; list it with list_directory")
        if not stat.S_ISREG(status.st_mode):
            raise ToolError(f"{name} is not a regular file")
        os.set_blocking(descriptor, True)
        stream = os.fdopen(descriptor, "rb")
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


def read_bytes(path: Path, name: str, limit: int) -> bytes:
    """The whole content of a regular file, refusing files larger than ``limit``."""
    with open_regular(path, name) as (stream, size):
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
        raise ToolError(f"{name} looks like a binary file; read it with read_media_file")
    if not strict:
        return data.decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{name} is not valid UTF-8 text, so it cannot be edited safely") from None


def read_text(path: Path, name: str, limit: int, *, head: int | None, tail: int | None) -> str:
    """A text file, or its first ``head`` or last ``tail`` lines.

    With ``head`` or ``tail`` only the needed part is read, so a small part of a file
    larger than ``limit`` can still be read; the part itself must fit the limit.
    """
    if head is not None and tail is not None:
        raise ToolError("pass head or tail, not both")
    if head is None and tail is None:
        return decode_text(read_bytes(path, name, limit), name)
    with open_regular(path, name) as (stream, size):
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


def write_atomic(path: Path, data: bytes, name: str) -> None:
    """Write ``data`` to ``path``, creating the file or replacing it whole.

    A new file is created exclusively (so a link planted at that name is not
    followed). An existing file is replaced by renaming a finished temporary file
    over it, keeping its permissions: readers never see half a file, and a hard link
    to the old file is not written through.
    """
    try:
        existing = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise os_error(error, name) from None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise ToolError(f"{name} is a directory")
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise ToolError(f"{name} is not a regular file")
    try:
        if existing is None:
            _create(path, data)
        else:
            _replace(path, data, stat.S_IMODE(existing.st_mode))
    except OSError as error:
        raise os_error(error, name) from None


def _create(path: Path, data: bytes) -> None:
    descriptor = os.open(path, _CREATE_FLAGS, 0o666)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)


def _replace(path: Path, data: bytes, mode: int) -> None:
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def file_info(path: Path, name: str) -> FileInfo:
    """Size, times, type and permissions of a resolved path."""
    try:
        status = os.stat(path)
    except OSError as error:
        raise os_error(error, name) from None
    file_type: FileType = "other"
    if stat.S_ISREG(status.st_mode):
        file_type = "file"
    elif stat.S_ISDIR(status.st_mode):
        file_type = "directory"
    birth = getattr(status, "st_birthtime", None)
    return FileInfo(
        path=str(path),
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
