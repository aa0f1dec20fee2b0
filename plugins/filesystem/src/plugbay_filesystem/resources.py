"""The ``file://<instance>/{+path}`` resource: contents, listings and completion.

A file gives its contents, a directory its listing, and the template's ``path`` is
completed from the roots and their entries.

Blocking, like the tools: the connector runs these in worker threads.
"""

from __future__ import annotations

import base64
import json

import mcp_types as types

from plugbay import ToolError
from plugbay_filesystem import directories, files
from plugbay_filesystem.errors import shown
from plugbay_filesystem.paths import Roots, file_uri, path_from_uri, uri_path

MAX_COMPLETIONS = 100

Contents = types.TextResourceContents | types.BlobResourceContents


def read(
    roots: Roots, instance: str, path: str, *, max_read_bytes: int, max_entries: int
) -> Contents:
    """The contents for the template's ``path`` (the absolute path without its leading slash).

    A directory gives a JSON listing whose entries carry their own URIs; a file gives
    text when its type says so or when an unknown type holds clean UTF-8 (README,
    Makefile, .env), and a blob otherwise.
    """
    uri = file_uri(instance, path)
    name = shown(path_from_uri(path))
    entries: list[directories.Entry] | None = None
    with roots.locate(path_from_uri(path)) as place:
        resolved = place.path
        if directories.is_directory(place):
            entries = directories.read_directory(place, name)
        else:
            data = files.read_bytes(place, name, max_read_bytes)
    if entries is not None:
        listing = {
            "path": str(resolved),
            "entries": [
                {
                    "name": entry.name,
                    "type": entry.type,
                    "uri": file_uri(instance, uri_path(entry.path)),
                }
                for entry in entries[:max_entries]
            ],
            "truncated": len(entries) > max_entries,
        }
        return types.TextResourceContents(
            uri=uri, mime_type="application/json", text=json.dumps(listing, ensure_ascii=False)
        )
    mime_type = files.guess_mime_type(resolved)
    unknown = mime_type == "application/octet-stream"
    text = _as_text(data) if unknown or files.is_text_type(mime_type) else None
    if text is not None:
        return types.TextResourceContents(
            uri=uri, mime_type="text/plain" if unknown else mime_type, text=text
        )
    blob = base64.b64encode(data).decode("ascii")
    return types.BlobResourceContents(uri=uri, mime_type=mime_type, blob=blob)


def complete(roots: Roots, value: str) -> list[str]:
    """Values for the template's ``path`` that extend ``value``: roots, then entries."""
    starts = [f"{uri_path(root)}/" for root in roots.directories if uri_path(root)]
    found = [start for start in starts if start.startswith(value) and start != value]
    head, separator, prefix = value.rpartition("/")
    if separator:
        try:
            with roots.locate(path_from_uri(head)) as place:
                entries = directories.read_directory(place, "")
        except ToolError:
            entries = []
        found += [
            f"{head}/{entry.name}{'/' if entry.type == 'directory' else ''}"
            for entry in entries
            if entry.name.startswith(prefix)
            and (prefix.startswith(".") or not entry.name.startswith("."))
        ]
    return found[:MAX_COMPLETIONS]


def _as_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
