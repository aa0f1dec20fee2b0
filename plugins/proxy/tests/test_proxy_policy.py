"""A proxy's upstream URIs are opaque to plugbay, so the host's policy decides on them in
the generic canonical form: no spelling of a denied upstream resource gets through.

A real plugbay peer over stdio behind a proxy instance, served over streamable HTTP with
an API key and a policy, read by a real MCP client. The key and the policy are
plugbay-auth's and plugbay-guard's, loaded by entry point as an operator's server would
(this plugin imports neither: they must be installed, as the workspace installs them).
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

from plugbay.transports import http_app
from plugbay_proxy import ProxyConnector
from plugbay_testing import build_assembly

BASE = "http://127.0.0.1:8000"
ALICE = "pbk_" + "c" * 43
NOTES = "peer://up/peer/notes"


def _stored_form(key: str) -> str:
    """How plugbay-auth's ``[[auth.api_keys]]`` stores a key (``plugbay keys hash``)."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


@asynccontextmanager
async def serving(upstream: dict[str, Any], rules: list[dict[str, Any]]) -> AsyncIterator[Client]:
    upstream = {key: value for key, value in upstream.items() if key != "pidfile"}
    config = {
        "connectors": {"up": {"plugin": "proxy", **upstream}},
        "auth": {"api_keys": [{"name": "alice", "hash": _stored_form(ALICE)}]},
        "policy": {"default": "deny", "rules": rules},
    }
    assembly = build_assembly(
        ProxyConnector, config=config, entry_points=True, environ={"PLUGBAY_PLUGINS": "auth,guard"}
    )
    assert not assembly.problems, assembly.problems
    app = http_app(assembly, stateless=True, json_response=True)
    async with app.router.lifespan_context(app):
        http = httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url=BASE, headers={"x-api-key": ALICE}
        )
        async with http, Client(streamable_http_client(f"{BASE}/mcp", http_client=http)) as mcp:
            yield mcp


async def read(client: Client, uri: str) -> str:
    try:
        result = await client.read_resource(uri)
    except MCPError as error:
        return f"error: {error.error.message}"
    return "".join(getattr(content, "text", "") for content in result.contents)


SPELLINGS = [
    f"{NOTES}/secret",
    f"{NOTES}/%73ecret",
    f"{NOTES}/%73%65%63%72%65%74",
    f"{NOTES}/SECRET",
    f"{NOTES}/Secret.",
    f"{NOTES}/x%2F..%2Fsecret",
    f"{NOTES}/.%2Fsecret",
    f"{NOTES}/secret%2F",
    f"{NOTES}/secret%252F",
    f"{NOTES}/secret%00",
    f"{NOTES}/secret%5C",
    "PEER://UP/peer/notes/secret",
    "peer://up//peer/notes/secret",
    "peer://up/peer/./notes/secret",
    "peer://up/peer/x/../notes/secret",
]


async def test_no_spelling_of_a_denied_upstream_resource_is_read(
    stdio_peer: dict[str, Any],
) -> None:
    rules = [
        {"resources": ["peer://up/peer/"]},
        {"effect": "deny", "resources": [f"{NOTES}/secret"]},
    ]
    async with serving(stdio_peer, rules) as client:
        assert await read(client, f"{NOTES}/alpha") == "note alpha"
        assert "is not available to alice" in await read(client, f"{NOTES}/secret")
        for uri in SPELLINGS:
            answer = await read(client, uri)
            assert answer.startswith("error: "), (uri, answer)
            assert "note" not in answer.lower().replace("notes", ""), (uri, answer)


@pytest.fixture
def filesystem_upstream(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """Proxy settings for plugbay's own filesystem connector served over stdio."""
    root = Path(os.path.realpath(tmp_path)) / "share"
    (root / "public").mkdir(parents=True)
    (root / "secret").mkdir()
    (root / "public" / "p.txt").write_text("public text")
    (root / "secret" / "s.txt").write_text("SECRET TEXT")
    config = tmp_path / "upstream.toml"
    config.write_text(f'[connectors.docs]\nplugin = "filesystem"\nroots = ["{root}"]\n')
    settings = {
        "command": sys.executable,
        "args": ["-m", "plugbay.cli", "serve", "--stdio", "--config", str(config)],
        "env": {"PLUGBAY_PLUGINS": "filesystem"},
        "cwd": str(tmp_path),
        "paths": {"docs_read_text_file": ["path"], "docs_read_multiple_files": ["paths"]},
        "trees": {"docs_directory_tree": ["path"]},
    }
    return settings, root


async def test_declared_path_arguments_of_upstream_tools_are_decided_as_reads(
    filesystem_upstream: tuple[dict[str, Any], Path],
) -> None:
    settings, root = filesystem_upstream
    rules = [
        {"tools": ["up_*"], "resources": ["file://up/"]},
        {"effect": "deny", "resources": [f"file://up{root}/secret/"]},
    ]
    async with serving(settings, rules) as client:

        async def call(tool: str, **arguments: Any) -> str:
            result = await client.call_tool(tool, arguments)
            return "".join(getattr(block, "text", "") for block in result.content)

        assert await call("up_docs_read_text_file", path=f"{root}/public/p.txt") == "public text"
        for path in [
            f"{root}/secret/s.txt",
            f"{root}/public/../secret/s.txt",
            f"{root}//secret//s.txt",
            f"{root}/./SECRET/s.txt",
            f"file://{root}/secret/s.txt",
            f"{root}/secret%2Fs.txt",
        ]:
            answer = await call("up_docs_read_text_file", path=path)
            assert "is not available to alice" in answer, (path, answer)
        relative = await call("up_docs_read_text_file", path="secret/s.txt")
        assert "give up_docs_read_text_file an absolute path" in relative
        both = await call(
            "up_docs_read_multiple_files", paths=[f"{root}/public/p.txt", f"{root}/secret/s.txt"]
        )
        assert "is not available to alice" in both
        assert "is not available to alice" in await call("up_docs_directory_tree", path=str(root))
        assert "SECRET TEXT" not in await call("up_docs_directory_tree", path=f"{root}/public")
