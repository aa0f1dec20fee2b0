"""The conformance suite catches tool names written without the instance prefix."""

from __future__ import annotations

import pytest

from plugbay_testing.sibling_checks import sibling_name_problems

pytest_plugins = ["pytester"]

BARE = '''
from typing import Annotated
from pydantic import BeforeValidator, Field
from plugbay import Connector, NoSettings, tool
from plugbay_testing import ConnectorConformance


def _known(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("not an account name; list_accounts shows them")
    return value


class BareConnector(Connector[NoSettings]):
    """Accounts, described carelessly."""

    name = "bare"

    @tool(read_only=True)
    def list_accounts(self) -> list[str]:
        """List the accounts; read one with `read`."""
        return ["cash"]

    @tool(read_only=True)
    def read(
        self,
        account: Annotated[
            str, Field(description="An account name."), BeforeValidator(_known)
        ] = "cash",
    ) -> str:
        """Read an account, as {tool:list_accounts} names it."""
        return account


class TestBare(ConnectorConformance):
    connector = BareConnector
    entry_point = False
    sample_calls = {"read": {"account": "cash"}}

    def test_bad_value(self):
        pass
'''


def test_the_suite_fails_a_description_or_error_naming_a_bare_sibling(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_bare=BARE)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "-k", "sibling")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "tool 'bare_list_accounts'" in output
    assert "names the tool 'read', which is listed as 'bare_read'" in output
    assert "the error of 'bare_read' called with wrongly-typed account" in output


def test_prefixed_and_placeholder_free_texts_pass() -> None:
    texts = [
        ("tool 'shop_query'", "Run a query; shop_list_tables shows the tables."),
        ("tool 'shop_explain'", "Explain a query plan, then run shop_query."),
    ]
    assert sibling_name_problems(texts, "shop", ["query", "list_tables", "explain"]) == []


def test_bare_names_are_found_with_their_fix() -> None:
    texts = [
        ("the error of 'shop_execute'", "execute is disabled; use list_tables or `query`"),
        ("tool 'shop_describe_table'", "as list_tables_extra shows it; run explain(...)"),
    ]
    problems = sibling_name_problems(texts, "shop", ["list_tables", "query", "explain"])
    assert len(problems) == 3
    assert "write {tool:list_tables} in descriptions" in problems[0]
    assert "self.tool_name('query') in messages" in problems[1]
    assert "'shop_explain'" in problems[2]
