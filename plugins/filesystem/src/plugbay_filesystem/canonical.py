"""The canonical form of what a file URI or a tool's path names, for the host's policy.

The host's policy decides on resources by URI (see the host's ``Connector.canonical_uri``),
so every spelling of one file must give one URI: the URI of the file the connector
will actually open. That is the real path :meth:`Roots.resolve` gives (the same walk
the tools use: ``..``, repeated slashes and every symbolic link followed, confined to
the roots), so a link inside a root that leads into a denied directory is decided as
that directory. The URI is written decoded, as operators write rules:
``file://<instance>/srv/docs/secret/s.txt``.

Where a file system folds case or Unicode forms (macOS, case-insensitive ext4), the
spelling sent is kept; the policy compares names in NFC and its deny rules ignore
case, so ``SECRET`` is refused wherever ``secret`` is, and an allow rule grants only
the spelling it names.

A hard link is a second name for the same file; rules on names cannot see it (the
``refuse_hard_links`` setting refuses such files instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from mcp.shared.uri_template import UriTemplate

from plugbay import ToolError
from plugbay.uris import UriError, decided_uris
from plugbay_filesystem.errors import shown
from plugbay_filesystem.location import Location
from plugbay_filesystem.paths import Roots, uri_path


def resource_uri(roots: Roots, instance: str, uri: str) -> str:
    """The canonical URI of a ``file://<instance>/...`` resource URI.

    The path is taken from the URI exactly as the file resource's template takes it
    (one percent-decoding, then :meth:`Roots.uri_target`: absolute or relative to the
    first root), so the policy sees what the read will open. The canonical URI is
    always the absolute form of the real path.

    Raises:
        UriError: The URI is not one of this instance's file URIs.
        plugbay.ToolError: The path is malformed or leads outside the roots.
    """
    top = f"file://{instance}/"
    if uri == top:
        return top  # the list of allowed directories, not a path
    variables = _file_template(instance).match(uri)
    path = variables.get("path") if variables else None
    if not isinstance(path, str):
        raise UriError(f"{uri!r} is not a file URI of the {instance!r} instance")
    return path_uri(roots, instance, roots.uri_target(path))


def path_uris(
    roots: Roots, instance: str, paths: Sequence[str], *, follow_final: bool = True
) -> list[str]:
    """The canonical URIs of paths given to the tools (absolute, or relative to the first root).

    ``follow_final=False`` for a tool that works on an entry itself (``move_file``
    moves a link, not what it points to), as the tool walks it.
    """
    return [path_uri(roots, instance, path, follow_final=follow_final) for path in paths]


def path_uri(roots: Roots, instance: str, path: str, *, follow_final: bool = True) -> str:
    """The canonical URI of one path, as the tools take it."""
    return _uri(instance, roots.resolve(path, follow_final=follow_final))


class DecidedRoots(Roots):
    """Roots whose walks, under a policy's decision, must end where the decision said.

    The policy decides on the real path before the call; the tool walks the path again
    when it opens it. Should a directory on the way be moved or swapped for a link in
    between, the walk ends somewhere the decision never looked at: it is then refused.
    With the walk's open descriptors held from there on, what the tool opens is what
    was decided on.
    """

    def __init__(self, roots: Roots, instance: str) -> None:
        super().__init__(
            roots.directories, refuse_hard_links=roots.refuse_hard_links, deny=roots.deny
        )
        self.instance = instance

    def locate(self, path: str, *, follow_final: bool = True) -> Location:
        """As :meth:`Roots.locate`, refusing a place the policy did not decide on."""
        place = super().locate(path, follow_final=follow_final)
        decided = decided_uris()
        if decided is not None and _uri(self.instance, place.path) not in decided:
            place.close()
            raise ToolError(
                f"{shown(path)} changed while the call ran (a directory on the way was moved "
                "or replaced by a link), so the server's policy has not decided on where it "
                "leads now; try again"
            )
        return place


def _uri(instance: str, resolved: Path) -> str:
    return f"file://{instance}/{uri_path(resolved)}"


@cache
def _file_template(instance: str) -> UriTemplate:
    return UriTemplate.parse(f"file://{instance}/{{+path}}")
