"""The MCP server over both protocol eras: lists, pages, resources, prompts, completions."""

import json
import re
from types import SimpleNamespace
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS

from plugbay import Connector, Context, Message, ToolError, prompt, resource, tool
from plugbay.server import (
    RESOURCE_NOT_FOUND,
    PlugbayServer,
    _encode_cursor,
    _hide_internal_errors,
    _page,
)

pytestmark = pytest.mark.anyio

ERAS = pytest.mark.parametrize("era", ["legacy", "auto"])


class Library(Connector):
    """A small library of books."""

    name = "library"
    uri_scheme = "books"

    BOOKS = {"dune": "Dune", "emma": "Emma", "ulysses": "Ulysses"}

    @resource("catalogue", mime_type="application/json", title="Catalogue")
    def catalogue(self) -> dict[str, str]:
        """Every book."""
        return self.BOOKS

    @resource("books/{slug}", complete={"slug": "complete_slug"})
    async def book(self, slug: str) -> str:
        """One book's title."""
        if slug not in self.BOOKS:
            raise ToolError(f"no book {slug!r}; list books://{self.instance}/catalogue")
        return self.BOOKS[slug]

    @resource("broken")
    def broken(self) -> str:
        raise RuntimeError("disk at /secret/path failed")

    async def complete_slug(self, value: str, context: dict[str, str]) -> list[str]:
        return [slug for slug in self.BOOKS if slug.startswith(value)]

    @prompt(title="Review", complete={"slug": "complete_slug", "tone": "tones"})
    def review(self, slug: str, tone: str = "neutral") -> list[Message]:
        """Ask for a review of a book.

        Args:
            slug: Which book.
            tone: How to sound.
        """
        return [
            Message(f"Review {self.BOOKS[slug]} in a {tone} tone."),
            Message("Sure.", role="assistant"),
        ]

    def tones(self, value: str, context: dict[str, str]) -> list[str]:
        # Sync completer that uses the other arguments already filled in.
        prefix = context.get("slug", "")[:1]
        return [f"{prefix}-{tone}" for tone in ("warm", "wry") if tone.startswith(value)]

    @prompt
    def crash(self) -> str:
        raise ValueError("prompt internals")


def _many_tools(count: int) -> list[Any]:
    tools = []
    for index in range(count):

        def make(index: int = index) -> Any:
            async def numbered() -> int:
                return index

            numbered.__name__ = f"tool_{index:02d}"
            return numbered

        tools.append(make())
    return tools


@pytest.fixture
def library_server(build, bundle) -> PlugbayServer:
    def numbers(n: str) -> list[int]:
        return list(range(int(n)))

    def digits(value: str, context: dict[str, str]) -> list[str]:
        return [str(i) for i in range(150)]

    def broken_completer(value: str, context: dict[str, str]) -> list[str]:
        raise RuntimeError("completer down")

    @prompt(complete={"n": digits})
    def count_to(n: str) -> str:
        return f"Count to {n}"

    @prompt(complete={"n": broken_completer})
    def fragile(n: str) -> str:
        return n

    assembly = build(
        bundle(
            connectors=[Library],
            resources=[(numbers, {"uri": "numbers://{n}"})],
            prompts=[count_to, fragile],
        ),
        toml='[connectors.lib]\nplugin = "library"\n',
    )
    return PlugbayServer(assembly)


@ERAS
async def test_tools_list_and_call(build, bundle, era: str) -> None:
    @tool(read_only=True, title="Add")
    async def add(a: int, b: int = 2) -> int:
        """Add numbers.

        Args:
            a: First.
            b: Second.
        """
        return a + b

    server = PlugbayServer(build(bundle(tools=[add])))
    async with Client(server.sdk, mode=era) as client:
        assert client.server_info.name == "plugbay"
        (listed,) = (await client.list_tools()).tools
        assert listed.name == "add"
        assert listed.title == "Add"
        assert listed.description == "Add numbers."
        assert listed.input_schema["properties"]["a"] == {
            "type": "integer",
            "description": "First.",
        }
        assert listed.input_schema["required"] == ["a"]
        assert listed.annotations.read_only_hint is True
        result = await client.call_tool("add", {"a": 40})
    assert not result.is_error
    assert result.structured_content == {"result": 42}
    assert json.loads(result.content[0].text) == {"result": 42}


@ERAS
async def test_tools_list_pages_with_cursors(build, bundle, era: str) -> None:
    assembly = build(bundle(tools=_many_tools(5)), toml="[server]\npage_size = 2\n")
    server = PlugbayServer(assembly)
    names: list[str] = []
    cursors: list[str | None] = []
    async with Client(server.sdk, mode=era, cache=None) as client:
        cursor = None
        while True:
            page = await client.list_tools(cursor=cursor)
            names += [t.name for t in page.tools]
            assert len(page.tools) <= 2
            cursor = page.next_cursor
            cursors.append(cursor)
            if cursor is None:
                break
        assert names == [f"tool_{i:02d}" for i in range(5)]
        assert len(cursors) == 3
        for bad in ("not-a-cursor!", _encode_cursor(-1), "eDo1", "//79"):
            with pytest.raises(MCPError) as caught:
                await client.list_tools(cursor=bad)
            assert caught.value.code == INVALID_PARAMS
            assert "Invalid cursor" in caught.value.message


def test_page_helper() -> None:
    items = list(range(5))
    assert _page(items, None, 10) == (items, None)
    first, cursor = _page(items, None, 3)
    assert first == [0, 1, 2]
    assert _page(items, cursor, 3) == ([3, 4], None)
    assert _page(items, _encode_cursor(99), 3) == ([], None)
    assert _page([], None, 3) == ([], None)


@ERAS
async def test_resources_and_templates(library_server: PlugbayServer, era: str) -> None:
    async with Client(library_server.sdk, mode=era) as client:
        resources = (await client.list_resources()).resources
        assert {str(r.uri) for r in resources} == {"books://lib/catalogue", "books://lib/broken"}
        catalogue = next(r for r in resources if str(r.uri) == "books://lib/catalogue")
        assert catalogue.name == "lib_catalogue"
        assert catalogue.title == "Catalogue"
        assert catalogue.description == "Every book."
        templates = (await client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["books://lib/books/{slug}", "numbers://{n}"]
        assert templates[0].description == "One book's title."

        (content,) = (await client.read_resource("books://lib/catalogue")).contents
        assert content.mime_type == "application/json"
        assert json.loads(content.text) == Library.BOOKS
        (content,) = (await client.read_resource("books://lib/books/emma")).contents
        assert (str(content.uri), content.text, content.mime_type) == (
            "books://lib/books/emma",
            "Emma",
            "text/plain",
        )
        (content,) = (await client.read_resource("numbers://3")).contents
        assert json.loads(content.text) == [0, 1, 2]


@ERAS
async def test_resource_errors(library_server: PlugbayServer, era: str) -> None:
    async with Client(library_server.sdk, mode=era) as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource("books://lib/nothing/here")
        assert caught.value.code == RESOURCE_NOT_FOUND == -32002
        assert caught.value.message == "Resource not found: books://lib/nothing/here"
        assert caught.value.data == {"uri": "books://lib/nothing/here"}

        with pytest.raises(MCPError) as caught:
            await client.read_resource("books://lib/books/moby")
        assert caught.value.code == INVALID_PARAMS
        assert caught.value.message == "no book 'moby'; list books://lib/catalogue"

        with pytest.raises(MCPError) as caught:
            await client.read_resource("books://lib/broken")
        assert caught.value.code == INTERNAL_ERROR
        assert re.fullmatch(
            r"books://lib/broken failed unexpectedly \(RuntimeError\); the server log has the "
            r"details under reference [0-9a-f]{12}",
            caught.value.message,
        )
        assert "/secret/path" not in caught.value.message


@ERAS
async def test_prompts(library_server: PlugbayServer, era: str) -> None:
    async with Client(library_server.sdk, mode=era) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert set(prompts) == {"lib_review", "lib_crash", "count_to", "fragile"}
        review = prompts["lib_review"]
        assert review.title == "Review"
        assert review.description == "Ask for a review of a book."
        assert [(a.name, a.description, a.required) for a in review.arguments] == [
            ("slug", "Which book.", True),
            ("tone", "How to sound.", False),
        ]
        assert prompts["lib_crash"].arguments is None

        result = await client.get_prompt("lib_review", {"slug": "dune", "tone": "warm"})
        assert result.description == "Ask for a review of a book."
        assert [(m.role, m.content.text) for m in result.messages] == [
            ("user", "Review Dune in a warm tone."),
            ("assistant", "Sure."),
        ]
        result = await client.get_prompt("count_to", {"n": "3"})
        assert result.messages[0].content.text == "Count to 3"

        with pytest.raises(MCPError) as caught:
            await client.get_prompt("lib_review", {})
        assert caught.value.code == INVALID_PARAMS
        assert "Invalid arguments for lib_review: slug: Field required" in caught.value.message
        with pytest.raises(MCPError) as caught:
            await client.get_prompt("nope", {})
        assert caught.value.message == "Unknown prompt: nope"
        with pytest.raises(MCPError) as caught:
            await client.get_prompt("lib_crash", {})
        assert caught.value.code == INTERNAL_ERROR
        assert "prompt internals" not in caught.value.message


@ERAS
async def test_completions(library_server: PlugbayServer, era: str) -> None:
    async with Client(library_server.sdk, mode=era) as client:
        template = types.ResourceTemplateReference(uri="books://lib/books/{slug}")
        result = await client.complete(template, {"name": "slug", "value": "e"})
        assert result.completion.values == ["emma"]
        assert result.completion.total == 1
        assert result.completion.has_more is False

        review = types.PromptReference(name="lib_review")
        result = await client.complete(review, {"name": "slug", "value": "u"})
        assert result.completion.values == ["ulysses"]
        result = await client.complete(
            review, {"name": "tone", "value": "w"}, context_arguments={"slug": "dune"}
        )
        assert result.completion.values == ["d-warm", "d-wry"]
        result = await client.complete(review, {"name": "tone", "value": "wa"})
        assert result.completion.values == ["-warm"]

        many = await client.complete(
            types.PromptReference(name="count_to"), {"name": "n", "value": ""}
        )
        assert len(many.completion.values) == 100
        assert many.completion.total == 150
        assert many.completion.has_more is True

        for ref, argument in (
            (types.PromptReference(name="fragile"), "n"),  # the completer raises
            (types.PromptReference(name="lib_crash"), "x"),  # no completer
            (types.PromptReference(name="missing"), "x"),
            (types.ResourceTemplateReference(uri="numbers://{n}"), "n"),
            (types.ResourceTemplateReference(uri="nowhere://{x}"), "x"),
        ):
            result = await client.complete(ref, {"name": argument, "value": ""})
            assert result.completion.values == []


@ERAS
async def test_progress_reaches_the_client(build, bundle, era: str) -> None:
    async def long_job(steps: int, ctx: Context) -> str:
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step}")
        return "done"

    server = PlugbayServer(build(bundle(tools=[long_job])))
    received: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        received.append((progress, total, message))

    async with Client(server.sdk, mode=era) as client:
        result = await client.call_tool("long_job", {"steps": 3}, progress_callback=on_progress)
        assert result.content[0].text == "done"
        with anyio.fail_after(5):
            while len(received) < 3:
                await anyio.sleep(0.01)
        assert received == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
        # Without a callback the client asks for no progress: reporting is a quiet no-op.
        result = await client.call_tool("long_job", {"steps": 2})
        assert result.content[0].text == "done"
    assert len(received) == 3


@ERAS
async def test_context_in_a_live_request(build, bundle, era: str) -> None:
    async def who(ctx: Context) -> dict[str, Any]:
        return {"principal": ctx.principal.name, "has_id": ctx.request_id is not None}

    server = PlugbayServer(build(bundle(tools=[who])))
    async with Client(server.sdk, mode=era) as client:
        result = await client.call_tool("who", {})
    assert result.structured_content["principal"] == "local"
    if era == "legacy":
        assert result.structured_content["has_id"] is True


async def test_server_identity_from_config(build, bundle) -> None:
    assembly = build(bundle(), toml='[server]\nname = "team-tools"\ninstructions = "Be kind."\n')
    async with Client(PlugbayServer(assembly).sdk, mode="legacy") as client:
        assert client.server_info.name == "team-tools"
        assert client.instructions == "Be kind."
        capabilities = client.server_capabilities
        assert capabilities.tools is not None
        assert capabilities.prompts is not None
        assert capabilities.resources is not None
        assert capabilities.completions is not None


async def test_tool_input_schema_lookup(build, bundle) -> None:
    def echo(text: str) -> str:
        return text

    server = PlugbayServer(build(bundle(tools=[echo])))
    assert server.tool_input_schema("echo")["required"] == ["text"]
    assert server.tool_input_schema("missing") is None


async def test_protocol_errors_from_resources_pass_through(build, bundle) -> None:
    @resource("gone://thing")
    def gone() -> str:
        raise MCPError(RESOURCE_NOT_FOUND, "thing was deleted")

    server = PlugbayServer(build(bundle(resources=[gone])))
    async with Client(server.sdk, mode="legacy") as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource("gone://thing")
    assert (caught.value.code, caught.value.message) == (RESOURCE_NOT_FOUND, "thing was deleted")


async def test_internal_errors_outside_components_are_hidden(caplog) -> None:
    async def failing(ctx: Any) -> Any:
        raise RuntimeError("token=abc123")

    async def invalid(ctx: Any) -> Any:
        raise MCPError(INVALID_PARAMS, "bad")

    ctx = SimpleNamespace(method="tools/list")
    with pytest.raises(MCPError) as caught:
        await _hide_internal_errors(ctx, failing)
    assert caught.value.code == INTERNAL_ERROR
    assert "abc123" not in caught.value.message
    reference = caught.value.message.rsplit(" ", 1)[-1]
    assert f"tools/list failed (reference {reference})" in caplog.text
    with pytest.raises(MCPError) as caught:
        await _hide_internal_errors(ctx, invalid)
    assert caught.value.message == "bad"


async def test_resource_and_prompt_list_changes_reach_handshake_clients(
    library_server: PlugbayServer,
) -> None:
    heard: list[str] = []
    both = anyio.Event()

    async def on_message(message: Any) -> None:
        heard.append(type(message).__name__)
        if {"ResourceListChangedNotification", "PromptListChangedNotification"} <= set(heard):
            both.set()

    class GoneSession:
        async def send_resource_list_changed(self) -> None:
            raise anyio.BrokenResourceError

    changes = library_server.list_changes
    async with Client(library_server.sdk, mode="legacy", message_handler=on_message) as client:
        await client.list_prompts()
        changes._sessions[object()] = GoneSession()  # a client that went away meanwhile
        await changes.publish(["resources", "prompts"])
        with anyio.fail_after(5):
            await both.wait()
    assert "ToolListChangedNotification" not in heard
