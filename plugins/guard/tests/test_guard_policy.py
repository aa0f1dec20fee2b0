"""The authorization policy: rules, the list filter and refused calls, unit by unit and
over HTTP in-process through the real host (auth by the tests' own API-key backend)."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from mcp import MCPError
from pydantic import ValidationError

from plugbay import Principal, prompt
from plugbay.auth import LOCAL_PRINCIPAL
from plugbay_guard import Policy, PolicyConfig

ALICE_KEY = "key-alice"
BOB_KEY = "key-bob"
ALICE = Principal(name="alice", scopes=frozenset({"calc:use"}))
BOB = Principal(name="bob", roles=frozenset({"writer"}))


def policy(*rules: dict[str, Any], **table: Any) -> Policy:
    return Policy(PolicyConfig.model_validate({"rules": list(rules), **table}))


def who(name: str, scopes: tuple[str, ...] = (), roles: tuple[str, ...] = ()) -> Principal:
    return Principal(name=name, scopes=frozenset(scopes), roles=frozenset(roles))


def test_a_rule_selects_callers_by_name_scope_and_role_together() -> None:
    rules = policy({"principals": ["ci-*"], "scopes": ["deploy", "admin"], "roles": ["ops"]})
    assert rules.allows(who("ci-1", ("deploy",), ("ops",)), "tool", "x", None)
    assert not rules.allows(who("ci-1", ("deploy",)), "tool", "x", None)  # no role
    assert not rules.allows(who("ci-1", roles=("ops",)), "tool", "x", None)  # no scope
    assert not rules.allows(who("dev", ("admin",), ("ops",)), "tool", "x", None)  # name


def test_a_rule_selects_components_by_instance_kind_and_name() -> None:
    rules = policy(
        {"connectors": ["crm"], "tools": ["crm_search_*"], "resources": ["crm://crm/people/*"]}
    )
    alice = who("alice")
    assert rules.allows(alice, "tool", "crm_search_people", "crm")
    assert not rules.allows(alice, "tool", "crm_delete_person", "crm")
    assert not rules.allows(alice, "tool", "crm_search_people", "erp")  # other instance
    assert not rules.allows(alice, "tool", "search", None)  # freestanding: no instance
    assert rules.allows(alice, "resource", "crm://crm/people/7", "crm")
    assert not rules.allows(alice, "prompt", "crm_brief", "crm")  # prompts not named


def test_a_rule_without_kinds_covers_a_whole_connector() -> None:
    rules = policy({"connectors": ["docs"]})
    for kind in ("tool", "resource", "prompt"):
        assert rules.allows(who("x"), kind, "anything", "docs")
        assert not rules.allows(who("x"), kind, "anything", "crm")


def test_deny_wins_and_the_default_applies_when_nothing_matches() -> None:
    rules = policy(
        {"tools": ["*"]},
        {"effect": "deny", "tools": ["*_delete_*"], "roles": ["intern"]},
    )
    intern = who("ivy", roles=("intern",))
    assert rules.allows(intern, "tool", "crm_search", "crm")
    assert not rules.allows(intern, "tool", "crm_delete_person", "crm")
    assert rules.allows(who("sam"), "tool", "crm_delete_person", "crm")
    assert not rules.allows(who("sam"), "prompt", "p", None)  # default: deny, with rules
    lenient = policy({"effect": "deny", "tools": ["danger"]}, default="allow")
    assert lenient.allows(who("sam"), "prompt", "p", None)
    assert not lenient.allows(who("sam"), "tool", "danger", None)


def test_the_local_principal_is_trusted() -> None:
    rules = policy(default="deny")
    assert rules.allows(LOCAL_PRINCIPAL, "tool", "anything", None)
    assert not rules.allows(who("local"), "tool", "anything", None)


def test_decisions_are_remembered_per_principal(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = policy({"principals": ["alice"], "tools": ["t*"]})
    calls: list[str] = []
    original = rules._decide

    def counting(*args: Any) -> bool:
        calls.append(args[2])
        return original(*args)

    monkeypatch.setattr(rules, "_decide", counting)
    for _ in range(3):
        assert rules.allows(who("alice"), "tool", "t1", None)
        assert not rules.allows(who("bob"), "tool", "t1", None)
    assert calls == ["t1", "t1"]


def test_the_memory_of_decisions_is_bounded() -> None:
    rules = Policy(PolicyConfig.model_validate({"rules": [{"tools": ["t*"]}]}), cache_size=3)
    for number in range(10):
        assert rules.allows(who(f"p{number}"), "tool", f"t{number}", None)
        assert not rules.allows(who(f"p{number}"), "tool", f"x{number}", None)
    assert rules.allows(who("p0"), "tool", "t0", None)


def test_policy_tables_are_validated() -> None:
    with pytest.raises(ValidationError, match="effect"):
        PolicyConfig.model_validate({"rules": [{"effect": "maybe"}]})
    with pytest.raises(ValidationError, match="tool"):
        PolicyConfig.model_validate({"rules": [{"tool": ["x"]}]})
    with pytest.raises(ValidationError, match="ip_allow"):
        PolicyConfig.model_validate({"ip_allow": ["not-an-address"]})
    assert not PolicyConfig().enabled
    assert PolicyConfig.model_validate({"default": "deny"}).enabled


TOML = """
[connectors.calc]
plugin = "calc"

[connectors.vault]
plugin = "calc"

[[policy.rules]]
description = "calc users get the calc instance"
scopes = ["calc:use"]
connectors = ["calc"]

[[policy.rules]]
description = "writers get prompts only, on any instance"
roles = ["writer"]
prompts = ["*"]

[[policy.rules]]
effect = "deny"
principals = ["alice"]
resources = ["calc://calc/numbers/13"]
"""


@pytest.fixture
async def app(build, extras, key_auth, connector_cls, served) -> Any:
    keys = key_auth({ALICE_KEY: ALICE, BOB_KEY: BOB})
    assembly = build(extras(connectors=[connector_cls], auth=[keys]), config=TOML)
    assert assembly.problems == []
    async with served(assembly) as application:
        yield application


async def test_a_principal_sees_and_calls_only_what_the_policy_allows(app, client_as) -> None:
    async with client_as(app, ALICE_KEY) as alice:
        tools = await alice.list_tools()
        assert [tool.name for tool in tools.tools] == ["calc_add"]
        templates = await alice.list_resource_templates()
        assert [t.uri_template for t in templates.resource_templates] == ["calc://calc/numbers/{n}"]
        assert [p.name for p in (await alice.list_prompts()).prompts] == ["calc_explain"]
        added = await alice.call_tool("calc_add", {"a": 1})
        assert added.structured_content == {"result": 2}
        refused = await alice.call_tool("vault_add", {"a": 1})
        assert refused.is_error
        assert isinstance(refused.content[0], types.TextContent)
        assert refused.content[0].text == (
            "vault_add is not available to alice: the server's policy does not allow it; "
            "ask the server's operator for access"
        )
        read = await alice.read_resource("calc://calc/numbers/7")
        assert [content.text for content in read.contents] == ["calc:7"]
        with pytest.raises(MCPError, match="calc://calc/numbers/13 is not available to alice"):
            await alice.read_resource("calc://calc/numbers/13")
        with pytest.raises(MCPError, match="not available"):
            await alice.read_resource("calc://vault/numbers/1")


async def test_another_principal_sees_another_slice(app, client_as) -> None:
    async with client_as(app, BOB_KEY) as bob:
        assert (await bob.list_tools()).tools == []
        assert (await bob.list_resource_templates()).resource_templates == []
        prompts = await bob.list_prompts()
        assert sorted(p.name for p in prompts.prompts) == ["calc_explain", "vault_explain"]
        result = await bob.get_prompt("vault_explain", {"topic": "limits"})
        assert isinstance(result.messages[0].content, types.TextContent)
        assert result.messages[0].content.text == "Explain limits"
        refused = await bob.call_tool("calc_add", {"a": 1})
        assert refused.is_error


async def test_completions_are_not_offered_for_what_is_hidden(
    build, extras, key_auth, served, client_as
) -> None:
    @prompt(complete={"lang": lambda value, context: ["python", "perl"]})
    def greet(lang: str) -> str:
        """Greet in a language."""
        return lang

    keys = key_auth({ALICE_KEY: Principal(name="alice"), BOB_KEY: Principal(name="bob")})
    config = {"policy": {"rules": [{"principals": ["alice"]}]}}
    async with served(build(extras(prompts=[greet], auth=[keys]), config=config)) as application:
        reference = types.PromptReference(name="greet")
        async with client_as(application, ALICE_KEY) as alice:
            offered = await alice.complete(reference, {"name": "lang", "value": "p"})
            assert offered.completion.values == ["python", "perl"]
        async with client_as(application, BOB_KEY) as bob:
            hidden = await bob.complete(reference, {"name": "lang", "value": "p"})
            assert hidden.completion.values == []
