"""The canonical form of what a file URI or a tool's path names, for the host's policy.

The host's policy decides on resources by URI (see the host's ``Connector.canonical_uri``),
so every spelling of one file must give one URI: the URI of the file the connector
will actually open. That is the real path :meth:`Roots.resolve` gives (the same walk
the tools use: ``..``, repeated slashes and every symbolic link followed, confined to
the roots), so a link inside a root that leads into a denied directory is decided as
that directory. On a file system that folds case or Unicode forms (macOS, Windows,
case-insensitive ext4), each existing name is then spelled as its directory stores
it, so ``SECRET`` and ``secret`` are one name there and two names where the file
system keeps them apart. The URI is written decoded, as operators write rules:
``file://<instance>/srv/docs/secret/s.txt``.

A hard link is a second name for the same file; rules on names cannot see it (the
``refuse_hard_links`` setting refuses such files instead).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from mcp.shared.uri_template import UriTemplate

from plugboard.uris import UriError
from plugboard_filesystem.paths import Roots, path_from_uri, uri_path


def resource_uri(roots: Roots, instance: str, uri: str) -> str:
    """The canonical URI of a ``file://<instance>/...`` resource URI.

    The path is taken from the URI exactly as the file resource's template takes it
    (one percent-decoding), so the policy sees what the read will open.

    Raises:
        UriError: The URI is not one of this instance's file URIs.
        plugboard.ToolError: The path is malformed or leads outside the roots.
    """
    top = f"file://{instance}/"
    if uri == top:
        return top  # the list of allowed directories, not a path
    variables = _file_template(instance).match(uri)
    path = variables.get("path") if variables else None
    if not isinstance(path, str):
        raise UriError(f"{uri!r} is not a file URI of the {instance!r} instance")
    return path_uri(roots, instance, path_from_uri(path))


def path_uris(roots: Roots, instance: str, paths: Sequence[str]) -> list[str]:
    """The canonical URIs of paths given to the tools (absolute, or relative to the first root)."""
    return [path_uri(roots, instance, path) for path in paths]


def path_uri(roots: Roots, instance: str, path: str) -> str:
    """The canonical URI of one path, as the tools take it."""
    resolved = roots.resolve(path)
    root = roots.root_of(resolved)
    return f"file://{instance}/{uri_path(_stored_spelling(resolved, root))}"


@cache
def _file_template(instance: str) -> UriTemplate:
    return UriTemplate.parse(f"file://{instance}/{{+path}}")


def _stored_spelling(resolved: Path, root: Path | None) -> Path:
    """``resolved`` with each existing name beneath its root spelled as it is stored."""
    if root is None or resolved == root:
        return resolved
    current = root
    for name in resolved.relative_to(root).parts:
        current = current / _stored_name(current, name)
    return current


def _stored_name(directory: Path, name: str) -> str:
    """How ``directory`` stores the entry that ``name`` opens, when it folds names."""
    try:
        here = os.lstat(directory / name)
    except OSError:
        return name  # not there: there is no stored spelling to differ from
    variants = {
        name.swapcase(),
        unicodedata.normalize("NFC", name),
        unicodedata.normalize("NFD", name),
    } - {name}
    if not any(_same_entry(directory / variant, here) for variant in variants):
        return name  # the file system tells these spellings apart: the name is its own
    folded = _folded(name)
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if _folded(entry.name) == folded and _same_entry(Path(entry.path), here):
                    return entry.name
    except OSError:
        pass
    return name


def _same_entry(path: Path, stat: os.stat_result) -> bool:
    try:
        return os.path.samestat(os.lstat(path), stat)
    except OSError:
        return False


def _folded(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()
