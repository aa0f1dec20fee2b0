"""What a model reads in tools/list: instance facts, sibling names, available tools, Markdown."""

from typing import Annotated, Any

import pytest
from mcp.shared.exceptions import MCPError
from pydantic import Field

from plugbay import AssemblyError, Connector, Settings, ToolError, prompt, resource, tool
from plugbay.describing import markdown
from plugbay_testing import serve

pytestmark = pytest.mark.anyio


class LedgerSettings(Settings):
    book: str = Field(default="main", description="The ledger book.")
    allow_writes: bool = Field(default=False, description="Allow posting entries.")


class LedgerConnector(Connector[LedgerSettings]):
    """A ledger of entries."""

    name = "ledger"

    def instance_facts(self) -> str | None:
        access = "writable" if self.settings.allow_writes else "read-only"
        return f"Ledger book {self.settings.book!r};\n   {access}."

    @tool(read_only=True)
    def list_entries(
        self,
        account: Annotated[str, Field(description="An account, as {tool:list_accounts} names it.")],
    ) -> list[str]:
        """List the entries of an account; ``account`` comes from {tool:list_accounts}.

        :param account: ignored here, the Args section describes arguments.
        """
        return []

    @tool(read_only=True)
    def list_accounts(self) -> list[str]:
        """List the accounts (see :meth:`~ledger.LedgerConnector.list_entries`)."""
        return ["cash"]

    @tool(read_only=False, destructive=False, requires="allow_writes")
    def post_entry(self, text: str) -> str:
        """Post an entry.

        Args:
            text: The entry, as ``list_entries`` shows them.
        """
        if not self.settings.allow_writes:
            raise ToolError(f"read-only: use {self.tool_name('list_entries')} to read")
        return text

    @tool(read_only=True)
    def audit(self) -> str:
        """Audit the ledger."""
        raise ToolError("nothing to audit; see {tool:list_entries}")

    @resource("closed", mime_type="text/plain")
    def closed(self) -> str:
        """A closed book."""
        raise ToolError("closed; see {tool:list_entries}")

    @prompt
    def review(self) -> str:
        """Review the ledger with {tool:list_entries}."""
        return "review"


def _config(*, writes: bool, list_unavailable: bool = False) -> str:
    return f"""
[server]
list_unavailable_tools = {str(list_unavailable).lower()}

[connectors.books]
plugin = "ledger"
book = "2026"
allow_writes = {str(writes).lower()}
"""


async def _tools(config: str) -> dict[str, Any]:
    async with serve(LedgerConnector, config=config) as harness:
        return {tool.name: tool for tool in await harness.list_tools()}


async def test_every_tool_description_ends_with_the_instance_facts_on_one_line() -> None:
    tools = await _tools(_config(writes=False))
    for tool_ in tools.values():
        assert tool_.description.endswith("\n\nLedger book '2026'; read-only.")


async def test_placeholders_name_siblings_by_their_catalog_name() -> None:
    async with serve(LedgerConnector, config=_config(writes=True)) as harness:
        tools = {tool.name: tool for tool in await harness.list_tools()}
        prompts = await harness.list_prompts()
        refused = await harness.client.call_tool("books_post_entry", {"text": "x"})
    entries = tools["books_list_entries"]
    assert "comes from books_list_accounts." in entries.description
    schema = entries.input_schema["properties"]["account"]
    assert schema["description"] == "An account, as books_list_accounts names it."
    assert prompts[0].description == "Review the ledger with books_list_entries."
    assert "{tool:" not in str(tools)
    assert not refused.is_error


async def test_placeholders_in_tool_errors_name_siblings_by_their_catalog_name() -> None:
    async with serve(LedgerConnector, config=_config(writes=False)) as harness:
        result = await harness.client.call_tool("books_audit", {})
    assert result.is_error
    assert result.content[0].text == "nothing to audit; see books_list_entries"


async def test_placeholders_in_resource_errors_name_siblings_by_their_catalog_name() -> None:
    async with serve(LedgerConnector, config=_config(writes=False)) as harness:
        with pytest.raises(MCPError, match=r"^closed; see books_list_entries$"):
            await harness.client.read_resource("ledger://books/closed")


async def test_tool_name_gives_the_catalog_name() -> None:
    connector = LedgerConnector("books", LedgerSettings())
    assert connector.tool_name("list_entries") == "books_list_entries"
    with pytest.raises(ToolError, match="use books_list_entries to read"):
        connector.post_entry("x")


async def test_a_tool_whose_required_setting_is_false_is_not_listed() -> None:
    read_only = await _tools(_config(writes=False))
    assert set(read_only) == {"books_list_entries", "books_list_accounts", "books_audit"}
    writable = await _tools(_config(writes=True))
    assert "books_post_entry" in writable


async def test_the_server_setting_lists_unavailable_tools_anyway() -> None:
    async with serve(LedgerConnector, config=_config(writes=False, list_unavailable=True)) as h:
        assert "books_post_entry" in {tool.name for tool in await h.list_tools()}
        result = await h.client.call_tool("books_post_entry", {"text": "x"})
    assert result.is_error
    assert "use books_list_entries to read" in result.content[0].text


async def test_docstring_markup_becomes_markdown() -> None:
    tools = await _tools(_config(writes=True))
    assert "``" not in str([tool.model_dump() for tool in tools.values()])
    assert tools["books_list_accounts"].description.startswith(
        "List the accounts (see `list_entries`)."
    )
    assert ":param" not in tools["books_list_entries"].description
    text = tools["books_post_entry"].input_schema["properties"]["text"]["description"]
    assert text == "The entry, as `list_entries` shows them."


def test_markdown_rewrites_roles_literals_and_field_lists() -> None:
    source = "Use ``x`` with :func:`plugbay.tool`::\n\n:param x: gone\n:returns: gone\nEnd."
    assert markdown(source) == "Use `x` with `plugbay.tool`:\n\nEnd."
    assert markdown("A :class:`~a.b.Name` and :py:meth:`c <d.c>`.") == "A `Name` and `c`."


class Broken(LedgerConnector):
    """A ledger whose facts cannot be told."""

    name = "broken"

    def instance_facts(self) -> str | None:
        raise RuntimeError("no book")


class Misdeclared(Connector[LedgerSettings]):
    """A tool that requires a setting the connector does not have."""

    name = "misdeclared"

    @tool(read_only=False, destructive=False, requires="allow_everything")
    def post(self) -> str:
        """Post."""
        return ""


@pytest.mark.parametrize(
    ("connector", "message"),
    [
        (Broken, "instance_facts\\(\\) failed: RuntimeError: no book"),
        (Misdeclared, "requires the setting 'allow_everything'"),
    ],
)
async def test_a_broken_declaration_is_an_assembly_problem(
    connector: type[Connector[Any]], message: str
) -> None:
    with pytest.raises(AssemblyError, match=message):
        async with serve(connector):
            pass
