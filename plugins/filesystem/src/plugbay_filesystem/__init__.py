"""plugbay-filesystem: files under configured root directories, as MCP tools and resources.

Install it next to ``plugbay`` and the ``filesystem`` connector is available::

    [connectors.files]
    plugin = "filesystem"
    roots = ["~/projects"]
    allow_writes = true
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugbay import Connector, hookimpl
from plugbay_filesystem.connector import FilesystemConnector
from plugbay_filesystem.settings import FilesystemSettings

__all__ = ["FilesystemConnector", "FilesystemSettings", "register_connectors"]


@hookimpl
def register_connectors(register: Callable[[type[Connector[Any]]], None]) -> None:
    """Register the filesystem connector."""
    register(FilesystemConnector)
