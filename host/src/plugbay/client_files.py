"""Read and rewrite an MCP client's JSON configuration without losing anything in it.

The rules, in the order they apply:

- A file that is not plain JSON (JSONC comments or trailing commas, which VS Code allows;
  a duplicated key; bytes that are not UTF-8; a top level that is not an object) is never
  rewritten: rewriting would drop what the parser could not keep. The caller says why and
  prints the entry to add by hand.
- Every other key, every other server and their order stay as they are; only the named
  entry is set or removed. The file's indentation, the spelling of its numbers and a
  UTF-8 byte order mark are kept.
- Before a file is rewritten it is copied, byte for byte, to a timestamped backup beside
  it (mode 0600: it may hold secrets), and the new text replaces it atomically (a temporary
  file in the same folder, then ``os.replace``), so a crash leaves the old file or the new
  one, never half of one. A file that changed since it was read is not overwritten.
- A symbolic link (dotfiles kept in a repository) is followed: its target is rewritten and
  the link stays.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_BOM = b"\xef\xbb\xbf"


class ClientFileError(Exception):
    """A client's file that plugbay will not rewrite, with the reason."""


@dataclass
class ClientFile:
    """A client's configuration file as read.

    Attributes:
        path: The file that holds the data (a link's target).
        data: The parsed top-level object (empty for a missing or blank file).
        raw: The bytes read, or ``None`` where there was no file.
    """

    path: Path
    data: dict[str, Any]
    raw: bytes | None

    @property
    def indent(self) -> str:
        """The indentation the file uses (two spaces for a new or one-line file)."""
        match = re.search(rb"\n([ \t]+)\S", self.raw or b"")
        return match.group(1).decode() if match else "  "


class _DuplicateKey(ValueError):
    pass


class _Number(str):
    """A number as the file spells it: ``1.5e3`` is written back as ``1.5e3``, not ``1500.0``."""

    __slots__ = ()


def _dump(value: object, indent: str, depth: int = 0) -> str:
    # json.dumps with indent, except that numbers read from the file keep their spelling.
    inner, outer = "\n" + indent * (depth + 1), "\n" + indent * depth
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = (
            f"{json.dumps(key, ensure_ascii=False)}: {_dump(item, indent, depth + 1)}"
            for key, item in value.items()
        )
        return "{" + inner + ("," + inner).join(items) + outer + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        items = (_dump(item, indent, depth + 1) for item in value)
        return "[" + inner + ("," + inner).join(items) + outer + "]"
    return json.dumps(value, ensure_ascii=False)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys silently; rewriting would drop the first.
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def read_client_file(path: Path) -> ClientFile:
    """Read a client's configuration file.

    Args:
        path: The file; it need not exist.

    Returns:
        The file as read.

    Raises:
        ClientFileError: It cannot be read, or rewriting it could lose something.
    """
    target = Path(os.path.realpath(path))
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        return ClientFile(target, {}, None)
    except OSError as error:
        raise ClientFileError(f"{path} cannot be read: {error.strerror}") from None
    try:
        text = raw.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError:
        raise ClientFileError(f"{path} is not UTF-8 text") from None
    if not text.strip():
        return ClientFile(target, {}, raw)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_float=_Number,
            parse_int=_Number,
            parse_constant=_Number,
        )
    except _DuplicateKey as error:
        raise ClientFileError(f"{path} has the key {error.args[0]!r} twice") from None
    except json.JSONDecodeError as error:
        raise ClientFileError(
            f"{path} is not plain JSON (line {error.lineno}, column {error.colno}: {error.msg});"
            " comments and trailing commas (JSONC) are not rewritten, so that none is lost"
        ) from None
    if not isinstance(data, dict):
        raise ClientFileError(f"{path} holds a JSON {type(data).__name__}, not an object")
    return ClientFile(target, data, raw)


def servers_in(file: ClientFile, key: str) -> dict[str, Any] | None:
    """The server entries under ``key``, or ``None`` where the key is absent.

    Raises:
        ClientFileError: ``key`` holds something other than an object.
    """
    servers = file.data.get(key)
    if servers is None:
        return None
    if not isinstance(servers, dict):
        raise ClientFileError(f"{file.path}: {key!r} is not an object of servers")
    return servers


def _backup(file: ClientFile) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    for attempt in range(100):
        suffix = f"-{attempt}" if attempt else ""
        backup = file.path.with_name(f"{file.path.name}.plugbay-backup-{stamp}{suffix}")
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(file.raw or b"")
        return backup
    raise ClientFileError(f"no free backup name beside {file.path}")


def write_client_file(file: ClientFile) -> Path | None:
    """Write ``file.data`` back, after a backup, atomically.

    Args:
        file: The file as read, its ``data`` changed.

    Returns:
        The backup's path, or ``None`` where there was no file before.

    Raises:
        ClientFileError: The file changed since it was read, or cannot be written.
    """
    text = _dump(file.data, file.indent) + "\n"
    bom = _BOM if file.raw is not None and file.raw.startswith(_BOM) else b""
    new = bom + text.encode("utf-8")
    try:
        file.path.parent.mkdir(parents=True, exist_ok=True)
        current = file.path.read_bytes() if file.path.exists() else None
        if current != file.raw:
            raise ClientFileError(
                f"{file.path} changed while plugbay read it; run the command again"
            )
        backup = _backup(file) if file.raw is not None else None
        # Keep the file's mode; a new file may hold --env secrets, so only its owner reads it.
        mode = stat.S_IMODE(file.path.stat().st_mode) if file.raw is not None else 0o600
        fd, temporary = tempfile.mkstemp(dir=file.path.parent, prefix=f".{file.path.name}.")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(new)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, file.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise ClientFileError(f"{file.path} cannot be written: {error.strerror}") from None
    return backup
