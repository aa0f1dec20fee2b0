"""Serve the filesystem plugin in-process and talk to it through a real ``mcp.Client``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client

import plugbay_filesystem
from plugbay.assembly import Assembly, assemble
from plugbay.config import parse_config
from plugbay.plugins import load_plugins
from plugbay.server import PlugbayServer

SECRET = "TOP SECRET: outside the roots"


@dataclass
class FsClient:
    """A connected client plus shortcuts for one filesystem instance."""

    client: Client
    assembly: Assembly
    instance: str

    async def call(self, tool: str, **arguments: Any) -> types.CallToolResult:
        return await self.client.call_tool(f"{self.instance}_{tool}", arguments)

    async def ok(self, tool: str, **arguments: Any) -> types.CallToolResult:
        result = await self.call(tool, **arguments)
        assert not result.is_error, text_of(result)
        return result

    async def text(self, tool: str, **arguments: Any) -> str:
        return text_of(await self.ok(tool, **arguments))

    async def data(self, tool: str, **arguments: Any) -> Any:
        structured = (await self.ok(tool, **arguments)).structured_content
        assert structured is not None
        return structured

    async def error(self, tool: str, **arguments: Any) -> str:
        result = await self.call(tool, **arguments)
        assert result.is_error, f"{tool} should have failed: {text_of(result)}"
        message = text_of(result)
        assert "failed unexpectedly" not in message, message
        return message

    async def read(self, uri: str) -> list[types.TextResourceContents | types.BlobResourceContents]:
        result = await self.client.read_resource(uri, cache_mode="bypass")
        return list(result.contents)

    async def read_json(self, uri: str) -> Any:
        (contents,) = await self.read(uri)
        assert isinstance(contents, types.TextResourceContents)
        assert contents.mime_type == "application/json"
        return json.loads(contents.text)

    def uri(self, path: Path | str) -> str:
        return f"file://{self.instance}/{str(path).lstrip('/')}"


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


ServeFs = Callable[..., AbstractAsyncContextManager[FsClient]]


@pytest.fixture
def serve_fs() -> ServeFs:
    """Start a server with one filesystem instance: ``async with serve_fs(root, ...) as fs``."""

    @asynccontextmanager
    async def serve(
        *roots: Path | str,
        instance: str = "fs",
        mode: str = "auto",
        list_unavailable: bool = False,
        message_handler: Any = None,
        **settings: Any,
    ) -> AsyncIterator[FsClient]:
        # list_unavailable lists the write tools of a read-only instance, to call them there.
        table = {"plugin": "filesystem", "roots": [str(root) for root in roots], **settings}
        registry = load_plugins({}, extra={"filesystem": plugbay_filesystem}, entry_points=False)
        server = {"list_unavailable_tools": list_unavailable}
        config = parse_config({"server": server, "connectors": {instance: table}}, environ={})
        assembly = assemble(registry, config)
        assert not assembly.problems, assembly.problems
        await assembly.start()
        try:
            state = assembly.instances[instance]
            assert state.status == "ready", state.problems
            sdk = PlugbayServer(assembly).sdk
            async with Client(sdk, mode=mode, message_handler=message_handler) as client:
                yield FsClient(client, assembly, instance)
        finally:
            await assembly.stop()

    return serve


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A root with a few files, next to an ``outside`` directory holding a secret.

    Layout (under ``tmp_path``)::

        root/notes.txt  root/src/app.py  root/src/util.py  root/src/pkg/mod.py
        root/docs/guide.md  root/empty/
        outside/secret.txt
    """
    root = tmp_path / "root"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "empty").mkdir()
    (root / "notes.txt").write_text("line 1\nline 2\nline 3\nline 4\nline 5\n")
    (root / "src" / "app.py").write_text("def main():\n    return 1\n")
    (root / "src" / "util.py").write_text("VALUE = 2\n")
    (root / "src" / "pkg" / "mod.py").write_text("")
    (root / "docs" / "guide.md").write_text("# Guide\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    return root
