"""Resource rules cannot be walked around: a filesystem instance behind API keys and a
policy, driven by a real MCP client over streamable HTTP (the assembled ASGI app).

Every non-canonical spelling of a denied file or directory (dot segments, ``%73``,
``%2F``, ``//``, ``./``, ``../<root>/``, case, backslashes, trailing dots and slashes,
``%252F``, ``%00``, NFC/NFD, a symbolic link inside the root) is tried against every
kind of rule (exact, glob, directory, allow-list with a deny exception), through
``resources/read`` and through every tool that takes a path. The denied content, and
for the directory rules the denied names, never reach the client.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import mcp_types as types
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

import plugbay_auth
import plugbay_guard
from plugbay import Call, CallNext, hookimpl
from plugbay.transports import http_app
from plugbay_auth.api_keys import hash_api_key
from plugbay_filesystem import FilesystemConnector
from plugbay_testing.harness import build_assembly

BASE = "http://127.0.0.1:8000"
ALICE = "pbk_" + "a" * 43
SECRET_DIR = "s\u00e9cret"  # NFC, as stored
SECRET_FILE = "hidden-plans.txt"
SECRET_TEXT = "TOP-SECRET-CONTENT"
PUBLIC_TEXT = "public content"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tree(tmp_path_factory.mktemp("policy-canonical"))


def make_tree(base: Path) -> Path:
    """``docs/`` with ``public/``, the denied ``sécret/`` and links from one to the other."""
    docs = Path(os.path.realpath(base)) / "docs"
    (docs / "public").mkdir(parents=True)
    (docs / SECRET_DIR / "deeper").mkdir(parents=True)
    (docs / SECRET_DIR / SECRET_FILE).write_text(SECRET_TEXT)
    (docs / SECRET_DIR / "deeper" / "more.txt").write_text(SECRET_TEXT)
    (docs / "public" / "p.txt").write_text(PUBLIC_TEXT)
    (docs / "public" / "link").symlink_to(docs / SECRET_DIR)
    (docs / "public" / "file-link").symlink_to(docs / SECRET_DIR / SECRET_FILE)
    return docs


def top(root: Path) -> str:
    """The root's path as a file URI of the ``docs`` instance spells it."""
    return f"file://docs/{root.as_posix().lstrip('/')}"


def rules(root: Path) -> dict[str, tuple[list[dict[str, Any]], str, bool]]:
    """Rule kind: (rules, default, whether the rule covers the whole directory)."""
    secret = f"{top(root)}/{SECRET_DIR}"
    tools = ["docs_*"]
    return {
        "exact": ([{"effect": "deny", "resources": [f"{secret}/{SECRET_FILE}"]}], "allow", False),
        "glob": ([{"effect": "deny", "resources": [f"file://*/{SECRET_DIR}/*"]}], "allow", True),
        "directory": ([{"effect": "deny", "resources": [f"{secret}/"]}], "allow", True),
        "allow-list": (
            [
                {"tools": tools, "resources": [f"{top(root)}/"]},
                {"effect": "deny", "resources": [f"{secret}/"]},
            ],
            "deny",
            True,
        ),
    }


def spellings(name: str) -> list[str]:
    """Ways to write ``<secret dir>/<name>`` relative to the root."""
    nfd = unicodedata.normalize("NFD", SECRET_DIR)
    last = "docs"
    return [
        f"{SECRET_DIR}/{name}",
        f"public/../{SECRET_DIR}/{name}",
        f"./{SECRET_DIR}/./{name}",
        f"public//..//{SECRET_DIR}//{name}",
        f"../{last}/{SECRET_DIR}/{name}",
        f"{nfd}/{name}",
        f"{SECRET_DIR.upper()}/{name}",
        f"{SECRET_DIR}\\{name}",
        f"{SECRET_DIR}/{name}/",
        f"{SECRET_DIR}/{name}.",
        f"{SECRET_DIR}./{name}",
        f"public/link/{name}",
        f"public/link/../link/{name}",
        f"{SECRET_DIR}/{name}\x00",
    ]


def resource_spellings(root: Path, name: str) -> list[str]:
    """Ways to write the resource URI of ``<secret dir>/<name>``."""
    base = top(root)
    encoded = "s%C3%A9cret"
    return [f"{base}/{path}" for path in spellings(name) if "\x00" not in path] + [
        f"{base}/%73%C3%A9cret/{name}",
        f"{base}/{encoded}%2F{name}",
        f"{base}/{encoded}%2f{name}",
        f"{base}/{encoded}%252F{name}",
        f"{base}/{encoded}%5C{name}",
        f"{base}/{encoded}/{name}%00",
        f"{base}/{encoded}/{name}%00.txt",
        f"file://docs//{root.as_posix().lstrip('/')}/{encoded}/{name}",
        f"file://docs/{root.as_posix().lstrip('/')}/./{encoded}/{name}",
        f"{base}/public/%2E%2E/{encoded}/{name}",
        f"{base}/public/file-link",
        f"{base}/{encoded}/{name}#fragment",
    ]


@dataclass
class Served:
    """The app for one rule kind and what each answer said."""

    client: Client
    answers: list[str]
    listings: list[str]

    async def read(self, uri: str) -> str:
        try:
            result = await self.client.read_resource(uri)
        except MCPError as error:
            text = f"error: {error.error.message}"
        else:
            text = "".join(
                getattr(content, "text", "") or getattr(content, "blob", "")
                for content in result.contents
            )
        self.answers.append(text)
        return text

    async def list(self, tool: str, **arguments: Any) -> str:
        """Call a tool that lists names; its answers may not show a denied name."""
        text = await self.call(tool, **arguments)
        self.listings.append(text)
        return text

    async def call(self, tool: str, **arguments: Any) -> str:
        try:
            result = await self.client.call_tool(tool, arguments)
        except MCPError as error:
            text = f"error: {error.error.message}"
        else:
            parts = [getattr(block, "text", "") for block in result.content]
            parts.append(json.dumps(result.structured_content or {}))
            text = ("error: " if result.is_error else "") + "\n".join(parts)
        self.answers.append(text)
        return text


@asynccontextmanager
async def serving(
    root: Path,
    kind: str,
    *,
    writable: bool = False,
    extra: list[dict[str, Any]] | None = None,
    plugins: tuple[object, ...] = (),
) -> AsyncIterator[Served]:
    policy_rules, default, _ = rules(root)[kind]
    policy_rules = [*policy_rules, *(extra or [])]
    docs = {"plugin": "filesystem", "roots": [str(root)], "allow_writes": writable}
    config = {
        # The write tools listed on a read-only instance too: the policy must refuse them
        # before they run, whatever the instance allows.
        "server": {"list_unavailable_tools": True},
        "connectors": {"docs": docs},
        "auth": {"api_keys": [{"name": "alice", "hash": hash_api_key(ALICE)}]},
        "policy": {"default": default, "rules": policy_rules},
    }
    assembly = build_assembly(
        FilesystemConnector, plugbay_auth, plugbay_guard, *plugins, config=config
    )
    assert assembly.problems == []
    app = http_app(assembly, stateless=True, json_response=True)
    async with app.router.lifespan_context(app):
        http = httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url=BASE, headers={"x-api-key": ALICE}
        )
        async with http, Client(streamable_http_client(f"{BASE}/mcp", http_client=http)) as mcp:
            yield Served(mcp, [], [])


KINDS = ["exact", "glob", "directory", "allow-list"]


def reaches(root: Path, path: str, target: Path, *, follow_final: bool = True) -> bool:
    """Whether the file system itself takes ``path`` (relative to ``root``) to ``target``.

    Without ``follow_final``, a link at the end is the entry itself (as ``move_file``
    moves a link, not what it points to).
    """
    entry = root / path.rstrip("/")
    try:
        if not follow_final and entry.name not in ("", ".", ".."):
            entry = Path(os.path.realpath(entry.parent)) / entry.name
            return entry == Path(os.path.realpath(target))
        return os.path.samefile(entry, target)
    except (OSError, ValueError):
        return False


def assert_never_served(served: Served, whole_directory: bool) -> None:
    for answer in served.answers:
        assert SECRET_TEXT not in answer, answer
    for listing in served.listings if whole_directory else []:
        assert SECRET_FILE not in listing, listing
        assert "more.txt" not in listing, listing


@pytest.mark.parametrize("kind", KINDS)
async def test_no_spelling_of_a_denied_resource_is_read(root: Path, kind: str) -> None:
    whole_directory = rules(root)[kind][2]
    async with serving(root, kind) as served:
        assert await served.read(f"{top(root)}/public/p.txt") == PUBLIC_TEXT
        canonical = await served.read(f"{top(root)}/s%C3%A9cret/{SECRET_FILE}")
        assert "is not available to alice" in canonical
        for uri in resource_spellings(root, SECRET_FILE):
            answer = await served.read(uri)
            assert answer.startswith("error: "), (uri, answer)
        if whole_directory:
            for name in ["deeper/more.txt", "deeper", ""]:
                for uri in resource_spellings(root, name):
                    assert (await served.read(uri)).startswith("error: "), uri
            for listing in [f"{top(root)}/{SECRET_DIR}", f"{top(root)}/{SECRET_DIR}/"]:
                assert "is not available to alice" in await served.read(listing)
        assert_never_served(served, whole_directory)


PATH_TOOLS: dict[str, Callable[[str], dict[str, Any]]] = {
    "docs_read_text_file": lambda path: {"path": path},
    "docs_read_media_file": lambda path: {"path": path},
    "docs_get_file_info": lambda path: {"path": path},
    "docs_read_multiple_files": lambda path: {"paths": ["public/p.txt", path]},
    "docs_write_file": lambda path: {"path": path, "content": "overwritten"},
    "docs_move_file": lambda path: {"source": path, "destination": "public/moved.txt"},
    "docs_create_directory": lambda path: {"path": path},
    "docs_edit_file": lambda path: {
        "path": path,
        "edits": [{"oldText": SECRET_TEXT, "newText": "x"}],
        "dryRun": True,
    },
}
DIRECTORY_TOOLS: dict[str, Callable[[str], dict[str, Any]]] = {
    "docs_list_directory": lambda path: {"path": path},
    "docs_list_directory_with_sizes": lambda path: {"path": path},
    "docs_directory_tree": lambda path: {"path": path},
    "docs_search_files": lambda path: {"path": path, "pattern": "*"},
}


@pytest.mark.parametrize("kind", KINDS)
async def test_no_tool_opens_a_denied_path_by_any_spelling(root: Path, kind: str) -> None:
    whole_directory = rules(root)[kind][2]
    async with serving(root, kind) as served:
        assert PUBLIC_TEXT in await served.call("docs_read_text_file", path="public/p.txt")
        absolute = f"{root}/{SECRET_DIR}/{SECRET_FILE}"
        forms = [*spellings(SECRET_FILE), absolute, f"/{absolute}", "public/file-link"]
        for tool, arguments in PATH_TOOLS.items():
            for path in forms:
                answer = await served.call(tool, **arguments(path))
                follow = tool != "docs_move_file"
                if reaches(root, path, root / SECRET_DIR / SECRET_FILE, follow_final=follow):
                    assert "is not available to alice" in answer, (tool, path, answer)
        if whole_directory:
            for tool, arguments in DIRECTORY_TOOLS.items():
                for path in [*spellings(""), *spellings("deeper"), "public/link"]:
                    answer = await served.list(tool, **arguments(path))
                    if reaches(root, path, root / SECRET_DIR) or reaches(
                        root, path, root / SECRET_DIR / "deeper"
                    ):
                        assert "is not available to alice" in answer, (tool, path, answer)
        assert_never_served(served, whole_directory)


async def test_what_a_principal_may_not_read_it_does_not_see_listed(root: Path) -> None:
    async with serving(root, "directory") as served:
        templates = await served.client.list_resource_templates()
        assert [t.uri_template for t in templates.resource_templates] == ["file://docs/{+path}"]
        listed = await served.client.list_resources()
        assert [resource.uri for resource in listed.resources] == ["file://docs/"]
    async with serving(root, "allow-list") as served:
        # Templates are matched by their text: a rule on paths beneath the root does not
        # cover the whole template, so an allow-list hides it, as it does the roots list.
        assert (await served.client.list_resource_templates()).resource_templates == []
        assert (await served.client.list_resources()).resources == []
        tools = {tool.name for tool in (await served.client.list_tools()).tools}
        assert "docs_read_text_file" in tools
        assert PUBLIC_TEXT in await served.read(f"{top(root)}/public/p.txt")


async def test_a_tool_moving_a_file_needs_both_of_its_paths(root: Path) -> None:
    async with serving(root, "directory") as served:
        moved = await served.call(
            "docs_move_file", source=f"{SECRET_DIR}/{SECRET_FILE}", destination="public/out.txt"
        )
        assert "is not available to alice" in moved
        assert (root / SECRET_DIR / SECRET_FILE).read_text() == SECRET_TEXT
        assert not (root / "public" / "out.txt").exists()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_walk_is_allowed_only_where_nothing_beneath_is_denied(
    root: Path, kind: str
) -> None:
    async with serving(root, kind) as served:
        for tool, arguments in DIRECTORY_TOOLS.items():
            walks = tool in ("docs_directory_tree", "docs_search_files")
            for path in [".", "./", "public/..", str(root)]:
                answer = await served.list(tool, **arguments(path))
                if walks:
                    assert "is not available to alice" in answer, (tool, path, answer)
                else:
                    assert SECRET_DIR in answer, (tool, path, answer)  # one level: the name
            if kind != "glob":  # a glob can match a 'sécret' beneath 'public' too
                answer = await served.list(tool, **arguments("public"))
                assert "p.txt" in answer, (tool, answer)
        assert_never_served(served, whole_directory=True)


async def test_completions_offer_no_name_beneath_a_denied_directory(root: Path) -> None:
    reference = types.ResourceTemplateReference(uri="file://docs/{+path}")
    base = root.as_posix().lstrip("/")
    async with serving(root, "directory") as served:
        offered = await served.client.complete(reference, {"name": "path", "value": f"{base}/"})
        assert f"{base}/public/" in offered.completion.values
        assert f"{base}/{SECRET_DIR}/" not in offered.completion.values
        for value in [f"{base}/{SECRET_DIR}/", f"{base}/public/link/", f"{base}/public/file-"]:
            hidden = await served.client.complete(reference, {"name": "path", "value": value})
            assert hidden.completion.values == [], value
        public = await served.client.complete(
            reference, {"name": "path", "value": f"{base}/public/p"}
        )
        assert public.completion.values == [f"{base}/public/p.txt"]


def snapshot(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): path.read_text() if path.is_file() else "<dir>"
        for path in sorted(directory.rglob("*"))
    }


@pytest.mark.parametrize("kind", ["directory", "allow-list"])
async def test_no_write_reaches_a_denied_directory_on_a_writable_instance(
    tmp_path: Path, kind: str
) -> None:
    root = make_tree(tmp_path)
    before = snapshot(root / SECRET_DIR)
    async with serving(root, kind, writable=True) as served:
        for path in [*spellings(SECRET_FILE), *spellings("new.txt"), *spellings("new-dir")]:
            await served.call("docs_write_file", path=path, content="overwritten")
            await served.call("docs_create_directory", path=path)
            await served.call(
                "docs_edit_file", path=path, edits=[{"oldText": SECRET_TEXT, "newText": "x"}]
            )
            await served.call("docs_move_file", source=path, destination="public/moved")
            await served.call("docs_move_file", source="public/p.txt", destination=path)
        # Names that only look like the denied ones are other files, and may be written.
        written = await served.call("docs_write_file", path="public/new.txt", content="fine")
        assert not written.startswith("error: "), written
    assert (root / "public" / "new.txt").read_text() == "fine"
    assert snapshot(root / SECRET_DIR) == before
    assert_never_served(served, whole_directory=True)


async def test_a_directory_holding_a_denied_one_cannot_be_renamed_around_the_rule(
    tmp_path: Path,
) -> None:
    root = make_tree(tmp_path)
    (root / "nest" / "inner").mkdir(parents=True)
    (root / "nest" / "inner" / "hidden.txt").write_text(SECRET_TEXT)
    (root / "nest" / "open.txt").write_text(PUBLIC_TEXT)
    inner = {"effect": "deny", "resources": [f"{top(root)}/nest/inner/"]}
    async with serving(root, "directory", writable=True, extra=[inner]) as served:
        for source in ["nest", "./nest/", "nest/inner", f"{root}/nest"]:
            moved = await served.call("docs_move_file", source=source, destination="renamed")
            assert "is not available to alice" in moved, (source, moved)
        assert not (root / "renamed").exists()
        assert await served.call("docs_move_file", source="nest/open.txt", destination="o.txt")
        assert (root / "o.txt").read_text() == PUBLIC_TEXT
        assert "is not available" in await served.read(f"{top(root)}/nest/inner/hidden.txt")
    assert_never_served(served, whole_directory=True)


class SwapAfterTheDecision:
    """A middleware inside the policy's: it runs ``swap`` after the decision, before the tool."""

    def __init__(self, swap: Callable[[], None]) -> None:
        self.swap = swap

    # In the default ``run`` stage, so it runs inside the guard's ``admit`` stage: after the
    # policy has decided.
    @hookimpl
    def register_middleware(self, register: Callable[[Any], None], config: Any) -> None:
        async def swapping(call: Call, call_next: CallNext) -> Any:
            if call.name == "docs_read_text_file":
                self.swap()
            return await call_next(call)

        register(swapping)


async def test_a_path_changed_between_the_decision_and_the_open_is_refused(
    tmp_path: Path,
) -> None:
    root = make_tree(tmp_path)
    decoy = root / "public" / "A"
    decoy.mkdir()
    (decoy / SECRET_FILE).write_text("decoy")

    def swap() -> None:  # what a client racing move_file against a link could arrange
        if not decoy.is_symlink():
            decoy.rename(root / "public" / "A-before")
            decoy.symlink_to(root / SECRET_DIR)

    plugins = (SwapAfterTheDecision(swap),)
    async with serving(root, "directory", plugins=plugins) as served:
        answer = await served.call("docs_read_text_file", path=f"public/A/{SECRET_FILE}")
        assert "changed while the call ran" in answer, answer
    assert decoy.is_symlink()  # the swap happened, between the decision and the open
    assert_never_served(served, whole_directory=True)
