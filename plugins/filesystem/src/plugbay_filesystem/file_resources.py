"""The ``file://<instance>/`` resources, kept beside the connector class they are mixed into."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import anyio.to_thread

from plugbay import resource
from plugbay_filesystem import resources
from plugbay_filesystem.paths import file_uri, uri_path

if TYPE_CHECKING:
    from plugbay_filesystem.paths import Roots
    from plugbay_filesystem.settings import FilesystemSettings


class FileResources:
    """The roots and the file template; mixed into :class:`FilesystemConnector`.

    Clients may subscribe to them: the connector announces changes (see
    :mod:`plugbay_filesystem.watching`).
    """

    if TYPE_CHECKING:
        instance: str
        settings: FilesystemSettings

        @property
        def roots(self) -> Roots:
            """The connector's roots."""

    @resource("", name="roots", title="Allowed directories", mime_type="application/json")
    def roots_resource(self) -> dict[str, object]:
        """The allowed directories, each with the file:// URI that reads it."""
        return {
            "directories": [
                {"path": str(root), "uri": file_uri(self.instance, uri_path(root))}
                for root in self.roots.directories
            ],
            "writable": self.settings.allow_writes,
        }

    @resource("{+path}", name="file", title="File or directory", complete={"path": "complete_path"})
    def file_resource(self, path: str) -> resources.Contents:
        """A file (text or blob) or a directory listing (JSON), by path.

        file://<instance>/README.md names README.md in the first allowed directory. A
        file in any allowed directory can also be named by its absolute path without
        the leading slash (file://<instance>/home/me/notes.txt is /home/me/notes.txt):
        the form listings use. Denied names (the deny setting) are never served.

        Args:
            path: A path relative to the first allowed directory, or an absolute path
                inside an allowed directory without its leading slash.
        """
        return resources.read(
            self.roots,
            self.instance,
            path,
            max_read_bytes=self.settings.max_read_bytes,
            max_entries=self.settings.max_entries,
        )

    async def complete_path(self, value: str, context: Mapping[str, str]) -> list[str]:
        """Complete the ``path`` of the file resource template from the directories."""
        return await anyio.to_thread.run_sync(resources.complete, self.roots, value)
