"""The ``file://<instance>/{+path}`` resource: contents, listings and completion.

A file gives its contents, a directory its listing, and the template's ``path`` is
completed from the roots and their entries.

Blocking, like the tools: the connector runs these in worker threads.
"""

from __future__ import annotations

import base64
import json
import os

import mcp_types as types

from plugbay import ToolError
from plugbay_filesystem import directories, files
from plugbay_filesystem.errors import shown
from plugbay_filesystem.location import Location
from plugbay_filesystem.paths import Roots, file_uri, uri_path

MAX_COMPLETIONS = 100

Contents = types.TextResourceContents | types.BlobResourceContents


def read(
    roots: Roots, instance: str, path: str, *, max_read_bytes: int, max_entries: int
) -> Contents:
    """The contents for the template's ``path``: relative to the first root, or absolute.

    A directory gives a JSON listing whose entries carry their own URIs (in the
    absolute form); a file gives text when its type says so or when an unknown type
    holds clean UTF-8 (README, Makefile), and a blob otherwise. A path that leads
    nowhere gets an error that shows how the URIs are written.
    """
    uri = file_uri(instance, path)
    target = roots.uri_target(path)
    name = shown(target)
    entries: list[directories.Entry] | None = None
    try:
        place = roots.locate(target)
    except ToolError as error:
        raise ToolError(f"{error}. {roots.uri_forms(instance)}") from None
    with place:
        if not _exists(place):
            raise ToolError(f"{name} does not exist. {roots.uri_forms(instance)}")
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
    """Values for the template's ``path`` that extend ``value``: roots, then entries.

    Entries are completed in the value's own form: beneath a root's absolute path, or
    relative to the first root once something that is not a root's path is typed.
    """
    starts = [f"{uri_path(root)}/" for root in roots.directories if uri_path(root)]
    found = [start for start in starts if start.startswith(value) and start != value]
    head, separator, prefix = value.rpartition("/")
    if separator or (value and not found):
        try:
            with roots.locate(roots.uri_target(head) if separator else ".") as place:
                entries = directories.read_directory(place, "")
        except ToolError:
            entries = []
        found += [
            f"{head}{separator}{entry.name}{'/' if entry.type == 'directory' else ''}"
            for entry in entries
            if entry.name.startswith(prefix)
            and (prefix.startswith(".") or not entry.name.startswith("."))
        ]
    return found[:MAX_COMPLETIONS]


def _exists(place: Location) -> bool:
    if place.missing:
        return False
    try:
        os.stat(place.name, dir_fd=place.directory, follow_symlinks=False)
    except OSError:
        return False
    return True


def _as_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
