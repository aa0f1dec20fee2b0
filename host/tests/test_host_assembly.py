"""From plugins and configuration to connector instances and one catalog."""

import logging
from typing import Any

import anyio
import pytest
from mcp import Client
from pydantic import SecretStr

from plugbay import (
    AssemblyError,
    Connector,
    NoSettings,
    Settings,
    ToolError,
    prompt,
    resource,
    tool,
)
from plugbay.assembly import assemble
from plugbay.catalog import Catalog, Owner, build_resource, build_tool, check_name
from plugbay.components import resource_spec, tool_spec
from plugbay.config import parse_config
from plugbay.connector import SettingsT
from plugbay.plugins import load_plugins
from plugbay.server import PlugbayServer

pytestmark = pytest.mark.anyio


class ErpSettings(Settings):
    url: str
    api_key: SecretStr
    database: str = "prod"
    limit: int = 10


class ErpConnector(Connector[ErpSettings]):
    """An ERP backend.

    Second paragraph.
    """

    name = "erp"

    @tool(read_only=True)
    def describe_instance(self) -> dict[str, Any]:
        """Where this instance points."""
        return {
            "instance": self.instance,
            "url": self.settings.url,
            "database": self.settings.database,
            "limit": self.settings.limit,
            "key_length": len(self.settings.api_key.get_secret_value()),
        }


class NotesConnector(Connector):
    """Notes kept in memory."""

    name = "notes"
    uri_scheme = "memo"

    @tool
    async def count(self) -> int:
        return 3

    @resource("readme", mime_type="text/markdown")
    def readme(self) -> str:
        """The readme."""
        return f"# {self.instance}"

    @resource("/notes/{name}", complete={"name": "note_names"})
    async def note(self, name: str) -> str:
        return f"{self.instance}:{name}"

    @resource("tree/{+path}")
    def tree(self, path: str) -> str:
        return path

    async def note_names(self, value: str, context: dict[str, str]) -> list[str]:
        return [n for n in ("alpha", "beta") if n.startswith(value)]


def _plugin(bundle: Any, *connectors: type) -> Any:
    return bundle(connectors=list(connectors))


async def test_several_instances_of_one_connector_are_namespaced(build, bundle) -> None:
    toml = """
    [connectors.prod_erp]
    plugin = "erp"
    url = "https://erp.example.com"
    api_key = "${ERP_KEY}"

    [connectors.test-erp]
    plugin = "erp"
    url = "${TEST_URL:-https://test.example.com}"
    api_key = "literal-key"
    database = "test"
    """
    assembly = build(
        _plugin(bundle, ErpConnector),
        toml=toml,
        environ={"ERP_KEY": "abcdef", "PLUGBAY_TEST_ERP__LIMIT": "50"},
    )
    assert assembly.problems == []
    assert set(assembly.catalog.tools) == {
        "prod_erp_describe_instance",
        "test-erp_describe_instance",
    }
    assert {name: s.status for name, s in assembly.instances.items()} == {
        "prod_erp": "configured",
        "test-erp": "configured",
    }
    assert assembly.instances["prod_erp"].as_dict() == {
        "name": "prod_erp",
        "connector": "erp",
        "plugin": "test",
        "status": "configured",
        "problems": [],
    }
    await assembly.start()
    async with Client(PlugbayServer(assembly).sdk) as client:
        prod = await client.call_tool("prod_erp_describe_instance", {})
        test = await client.call_tool("test-erp_describe_instance", {})
    await assembly.stop()
    assert prod.structured_content == {
        "instance": "prod_erp",
        "url": "https://erp.example.com",
        "database": "prod",
        "limit": 10,
        "key_length": 6,
    }
    assert test.structured_content == {
        "instance": "test-erp",
        "url": "https://test.example.com",
        "database": "test",
        "limit": 50,
        "key_length": 11,
    }
    assert assembly.instances["prod_erp"].status == "stopped"


def test_environment_overrides_the_file(build, bundle) -> None:
    toml = '[connectors.erp]\nurl = "https://file"\napi_key = "k"\n'
    assembly = build(
        _plugin(bundle, ErpConnector), toml=toml, environ={"PLUGBAY_ERP__URL": "https://env"}
    )
    obj = assembly.instances["erp"].obj
    assert obj is not None
    assert obj.settings.url == "https://env"
    assert obj.instance == "erp"


def test_missing_settings_say_exactly_what_to_set(build, bundle) -> None:
    toml = '[connectors.crm]\nplugin = "erp"\napi_key = "${CRM_KEY}"\n'
    assembly = build(_plugin(bundle, ErpConnector), toml=toml, environ={})
    state = assembly.instances["crm"]
    assert state.status == "not configured"
    assert state.obj is None
    assert state.problems == [
        "the environment variable CRM_KEY is not set",
        "url is required: set 'url' in [connectors.crm] or the environment variable "
        "PLUGBAY_CRM__URL",
    ]
    assert assembly.problems == [f"[connectors.crm]: {p}" for p in state.problems]
    assert assembly.catalog.tools == {}


def test_unset_variable_alone_leaves_the_instance_not_configured(build, bundle) -> None:
    toml = '[connectors.erp]\nurl = "https://x"\napi_key = "${KEY:-}"\ndatabase = "${DB}"\n'
    assembly = build(_plugin(bundle, ErpConnector), toml=toml, environ={})
    state = assembly.instances["erp"]
    assert state.status == "not configured"
    assert state.problems == ["the environment variable DB is not set"]


def test_invalid_settings_never_show_secret_values(build, bundle) -> None:
    toml = (
        '[connectors.erp]\nurl = "https://x"\napi_key = 987654321\nlimit = "sk-live-secret"\n'
        'colour = "sk-other-secret"\n'
    )
    assembly = build(_plugin(bundle, ErpConnector), toml=toml, environ={})
    problems = assembly.instances["erp"].problems
    assert problems == [
        "api_key: Input should be a valid string",
        "limit: Input should be a valid integer, unable to parse string as an integer",
        "colour: Extra inputs are not permitted",
    ]
    text = "\n".join(assembly.problems)
    for secret in ("987654321", "sk-live-secret", "sk-other-secret"):
        assert secret not in text


def test_without_connectors_table_every_connector_runs_once(build, bundle) -> None:
    assembly = build(_plugin(bundle, ErpConnector, NotesConnector))
    assert assembly.instances["notes"].status == "configured"
    assert "notes_count" in assembly.catalog.tools
    erp = assembly.instances["erp"]
    assert erp.status == "not configured"
    assert (
        "url is required: set 'url' in [connectors.erp] or the environment variable "
        "PLUGBAY_ERP__URL" in erp.problems
    )
    # An auto instance that needs settings is a note, not a configuration error.
    assert assembly.problems == []


def test_auto_instances_read_environment_variables(build, bundle) -> None:
    environ = {"PLUGBAY_ERP__URL": "https://env", "PLUGBAY_ERP__API_KEY": "k"}
    assembly = build(_plugin(bundle, ErpConnector), environ=environ)
    assert assembly.instances["erp"].status == "configured"
    assert "erp_describe_instance" in assembly.catalog.tools


def test_unknown_connector_in_config(build, bundle) -> None:
    assembly = build(_plugin(bundle, NotesConnector), toml='[connectors.db]\nplugin = "postgres"\n')
    state = assembly.instances["db"]
    assert state.status == "not configured"
    assert state.plugin == "?"
    assert state.problems == [
        "no installed plugin provides the connector 'postgres' "
        "(is its package installed? see `plugbay plugins`)"
    ]
    assert "notes" not in assembly.instances  # a [connectors] table lists exactly what runs


def test_a_connector_that_cannot_be_created(build, bundle) -> None:
    class Fragile(Connector):
        name = "fragile"

        def __init__(self, instance: str, settings: NoSettings) -> None:
            raise ValueError("no")

    assembly = build(_plugin(bundle, Fragile))
    state = assembly.instances["fragile"]
    assert state.status == "failed"
    assert state.problems == ["could not be created: ValueError: no"]


def test_bad_connector_registrations_fail_their_plugin(build, bundle) -> None:
    class Nameless(Connector):
        pass

    class OtherNotes(Connector):
        name = "notes"

    # pluggy calls the plugin registered last first: "first" claims the name.
    assembly = build(
        {
            "second": bundle(connectors=[OtherNotes, Nameless, object]),
            "first": _plugin(bundle, NotesConnector),
        }
    )
    errors = assembly.registry.plugins["second"].errors
    assert errors == [
        "register_connectors: connector name 'notes' is already registered by plugin 'first'",
        "register_connectors: Nameless has no name",
        "register_connectors: <class 'object'> is not a Connector subclass",
    ]
    assert assembly.registry.plugins["second"].status == "failed"
    assert assembly.instances["notes"].plugin == "first"


def test_connector_class_basics() -> None:
    class Explicit(Connector):
        name = "explicit"
        settings_model = ErpSettings

    class Generic(Connector[SettingsT]):  # type: ignore[valid-type]
        name = "generic"

    class Child(NotesConnector):
        @tool
        def extra(self) -> str:
            return "x"

    assert ErpConnector.settings_model is ErpSettings
    assert NotesConnector.settings_model is NoSettings
    assert Explicit.settings_model is ErpSettings
    assert Generic.settings_model is NoSettings  # a TypeVar argument is not a settings model
    assert ErpConnector.describe() == "An ERP backend."
    assert Explicit.describe() == ""
    assert [name for name, _ in Child.members()] == [
        "count",
        "readme",
        "note",
        "tree",
        "extra",
    ]


async def test_lifecycle_defaults_do_nothing() -> None:
    notes = NotesConnector("n", NoSettings())
    await notes.start()
    await notes.check_health()
    await notes.stop()
    assert notes.instance == "n"


def test_resource_uris_are_placed_under_the_instance(build, bundle) -> None:
    assembly = build(
        _plugin(bundle, NotesConnector),
        toml='[connectors.work]\nplugin = "notes"\n[connectors.home]\nplugin = "notes"\n',
    )
    catalog = assembly.catalog
    assert set(catalog.resources) == {"memo://work/readme", "memo://home/readme"}
    assert catalog.resources["memo://home/readme"].definition.name == "home_readme"
    assert catalog.resources["memo://home/readme"].definition.mime_type == "text/markdown"
    templates = [entry.definition.uri_template for entry in catalog.templates]
    assert templates == [
        "memo://work/notes/{name}",
        "memo://work/tree/{+path}",
        "memo://home/notes/{name}",
        "memo://home/tree/{+path}",
    ]
    entry, variables = catalog.find_resource("memo://home/notes/todo")
    assert entry.owner.instance == "home"
    assert variables == {"name": "todo"}
    entry, variables = catalog.find_resource("memo://work/tree/a/b/c.txt")
    assert variables == {"path": "a/b/c.txt"}
    assert catalog.find_resource("memo://work/notes/a/b") is None
    assert catalog.find_resource("memo://nowhere/readme") is None
    entry, variables = catalog.find_resource("memo://work/readme")
    assert variables == {}


def test_absolute_resource_uris_clash_across_instances(build, bundle) -> None:
    class Linked(NotesConnector):
        name = "linked"

        @resource("https://example.com/absolute")
        def absolute(self) -> str:
            return "kept"

    assembly = build(
        _plugin(bundle, Linked),
        toml='[connectors.work]\nplugin = "linked"\n[connectors.home]\nplugin = "linked"\n',
    )
    # Both instances declare https://example.com/absolute: the second one is refused whole.
    home = assembly.instances["home"]
    assert home.status == "failed"
    assert home.problems == [
        "resource 'https://example.com/absolute' is registered twice: by plugin 'test', "
        "instance 'work' and by plugin 'test', instance 'home'"
    ]
    assert "home_count" not in assembly.catalog.tools
    assert "memo://home/readme" not in assembly.catalog.resources
    assert assembly.catalog.resources["https://example.com/absolute"].owner.instance == "work"


def test_scheme_defaults_to_the_connector_name(build, bundle) -> None:
    class Docs(Connector):
        name = "docs"

        @resource("index")
        def index(self) -> str:
            return "i"

    assembly = build(_plugin(bundle, Docs))
    assert list(assembly.catalog.resources) == ["docs://docs/index"]


def test_name_checks() -> None:
    owner = Owner(plugin="acme", instance="crm")
    check_name("a" * 64, "tool", owner)
    with pytest.raises(AssemblyError) as caught:
        check_name("a" * 65, "tool", owner)
    assert str(caught.value) == (
        f"plugin 'acme', instance 'crm': tool name {'a' * 65!r} has 65 characters; clients "
        "accept at most 64 (shorten the tool or the instance name)"
    )
    for bad in ("has space", "dot.ted", "", "ünïcode", "slash/name"):
        with pytest.raises(AssemblyError, match="may use only letters, digits, '_' and '-'"):
            check_name(bad, "prompt", Owner(plugin="acme"))


def test_long_namespaced_names_fail_the_instance(build, bundle) -> None:
    class Verbose(Connector):
        name = "verbose"

        @tool(name="an_exceedingly_long_tool_name_that_goes_on_and_on")
        def long(self) -> str:
            return ""

    toml = (
        '[connectors.a]\nplugin = "verbose"\n'
        '[connectors.a_rather_long_instance_name]\nplugin = "verbose"\n'
    )
    assembly = build(_plugin(bundle, Verbose), toml=toml)
    assert "a_an_exceedingly_long_tool_name_that_goes_on_and_on" in assembly.catalog.tools
    state = assembly.instances["a_rather_long_instance_name"]
    assert state.status == "failed"
    assert state.obj is None
    assert "has 77 characters; clients accept at most 64" in state.problems[0]
    assert assembly.registry.plugins["test"].status == "failed"


def test_bad_characters_in_freestanding_names(build, bundle) -> None:
    def fine() -> str:
        return ""

    def spaced() -> str:
        return ""

    assembly = build(bundle(tools=[(spaced, {"name": "bad name"}), fine]))
    assert list(assembly.catalog.tools) == ["fine"]
    assert any(
        "tool name 'bad name' may use only" in e for e in assembly.registry.plugins["test"].errors
    )


def test_tool_collisions_between_plugins_name_both(build, bundle) -> None:
    def dup() -> str:
        return "first"

    def dup2() -> str:
        return "second"

    # pluggy calls the plugin registered last first: "alpha" claims the name.
    assembly = build(
        {"beta": bundle(tools=[(dup2, {"name": "dup"})]), "alpha": bundle(tools=[dup])}
    )
    assert assembly.catalog.tools["dup"].owner.plugin == "alpha"
    (error,) = assembly.registry.plugins["beta"].errors
    assert error == "tool name 'dup' is registered twice: by plugin 'alpha' and by plugin 'beta'"


def test_collisions_between_instances_name_both_and_withdraw_all(build, bundle) -> None:
    class Shop(Connector):
        name = "shop"

        @tool(name="c")
        def c(self) -> str:
            return "c"

        @tool(name="b_c")
        def b_c(self) -> str:
            return "b_c"

        @prompt(name="p")
        def p(self) -> str:
            return "p"

    toml = '[connectors.a]\nplugin = "shop"\n[connectors.a_b]\nplugin = "shop"\n'
    assembly = build(_plugin(bundle, Shop), toml=toml)
    # a_b_c is both instance a's tool b_c and instance a_b's tool c.
    state = assembly.instances["a_b"]
    assert state.status == "failed"
    assert state.problems == [
        "tool name 'a_b_c' is registered twice: by plugin 'test', instance 'a' and by "
        "plugin 'test', instance 'a_b'"
    ]
    assert set(assembly.catalog.tools) == {"a_c", "a_b_c"}
    assert set(assembly.catalog.prompts) == {"a_p"}


def test_prompt_resource_and_template_collisions(build, bundle) -> None:
    def greet() -> str:
        return "hi"

    @resource("notes://fixed")
    def fixed() -> str:
        return "f"

    @resource("notes://{name}")
    def by_name(name: str) -> str:
        return name

    # pluggy calls the plugin registered last first: "one" claims the names.
    assembly = build(
        {
            "two": bundle(prompts=[greet], resources=[fixed, by_name]),
            "one": bundle(prompts=[greet], resources=[fixed, by_name]),
        }
    )
    errors = assembly.registry.plugins["two"].errors
    assert errors == [
        "resource 'notes://fixed' is registered twice: by plugin 'one' and by plugin 'two'",
        "resource template 'notes://{name}' is registered twice: by plugin 'one' and by "
        "plugin 'two'",
        "prompt name 'greet' is registered twice: by plugin 'one' and by plugin 'two'",
    ]
    assert len(assembly.catalog.templates) == 1


def test_freestanding_registration_forms(build, bundle) -> None:
    def plain(x: int) -> int:
        """Plain function."""
        return x

    def with_options() -> str:
        return ""

    def notes(name: str) -> str:
        return name

    @resource("notes://decorated")
    def decorated() -> str:
        return "d"

    def undecorated() -> str:
        return ""

    assembly = build(
        bundle(
            tools=[plain, (with_options, {"name": "renamed", "read_only": True}), 42],
            resources=[
                (notes, {"uri": "notes://{name}", "mime_type": "text/plain"}),
                decorated,
                undecorated,
            ],
            prompts=[(plain, {"title": "Plain prompt"})],
        )
    )
    catalog = assembly.catalog
    assert catalog.tools["plain"].definition.description == "Plain function."
    assert catalog.tools["renamed"].definition.annotations.read_only_hint is True
    assert catalog.tools["renamed"].owner == Owner(plugin="test")
    assert catalog.templates[0].definition.uri_template == "notes://{name}"
    assert catalog.templates[0].definition.mime_type == "text/plain"
    assert "notes://decorated" in catalog.resources
    assert catalog.prompts["plain"].definition.title == "Plain prompt"
    errors = assembly.registry.plugins["test"].errors
    # `plain` is both a tool and a prompt: each hook adds only its own kind.
    assert not [e for e in errors if "registered twice" in e]
    assert "register_tools: 42 is not callable" in errors
    assert any(
        e.startswith("register_resources: 'undecorated': register resources decorated with")
        for e in errors
    )


def test_tool_definitions(build, bundle) -> None:
    @tool(
        title="Delete a record",
        read_only=False,
        destructive=True,
        idempotent=True,
        open_world=False,
        description="Deletes it.",
    )
    def delete(record_id: int) -> None:
        """Ignored docstring."""

    def undocumented() -> str:
        return ""

    assembly = build(bundle(tools=[delete, undocumented]))
    definition = assembly.catalog.tools["delete"].definition
    assert definition.title == "Delete a record"
    assert definition.description == "Deletes it."
    annotations = definition.annotations
    assert annotations.title == "Delete a record"
    assert (annotations.read_only_hint, annotations.destructive_hint) == (False, True)
    assert (annotations.idempotent_hint, annotations.open_world_hint) == (True, False)
    bare = assembly.catalog.tools["undocumented"].definition
    assert bare.description is None
    assert bare.annotations is None


def test_resource_declarations_are_checked() -> None:
    def mismatch(other: str) -> str:
        return other

    def broken(name: str) -> str:
        return name

    owner = Owner(plugin="acme")
    spec = resource("notes://{name}")(mismatch)
    with pytest.raises(AssemblyError) as caught:
        build_resource(
            mismatch, resource_spec(spec), owner, scheme=None, middleware=[], default_timeout=None
        )
    assert str(caught.value) == (
        "plugin 'acme': resource 'notes://{name}': the URI's variables ['name'] must match "
        "the function's parameters ['other']"
    )
    resource("notes://{name}/{name}")(broken)
    with pytest.raises(AssemblyError) as caught:
        build_resource(
            broken, resource_spec(broken), owner, scheme=None, middleware=[], default_timeout=None
        )
    assert str(caught.value).startswith("plugin 'acme': resource 'notes://{name}/{name}': ")
    assert "more than once" in str(caught.value)


def test_completers_are_checked(build, bundle) -> None:
    @prompt(complete={"missing": lambda value, context: []})
    def ask(topic: str) -> str:
        return topic

    @resource("notes://{name}", complete={"name": "no_such_method"})
    def note(name: str) -> str:
        return name

    assembly = build(bundle(prompts=[ask], resources=[note]))
    errors = assembly.registry.plugins["test"].errors
    assert errors == [
        "plugin 'test': resource 'notes://{name}': no method 'no_such_method' to complete with",
        "plugin 'test': prompt 'ask': no argument 'missing' to complete",
    ]


def test_prompt_without_type_hints_is_refused(build, bundle) -> None:
    def untyped(topic):  # type: ignore[no-untyped-def]
        return topic

    assembly = build(bundle(prompts=[untyped]))
    assert assembly.catalog.prompts == {}
    assert "plugin 'test': prompt 'untyped': " in assembly.registry.plugins["test"].errors[0]


async def test_start_failure_withdraws_that_instance_only(build, bundle, caplog) -> None:
    started: list[str] = []
    stopped: list[str] = []

    class Flaky(Connector):
        name = "flaky"

        async def start(self) -> None:
            if self.instance == "down":
                raise ConnectionError("backend unreachable")
            started.append(self.instance)

        async def stop(self) -> None:
            stopped.append(self.instance)
            if self.instance == "noisy":
                raise RuntimeError("stop failed")

        @tool
        async def ping(self) -> str:
            return self.instance

    toml = "".join(f'[connectors.{n}]\nplugin = "flaky"\n' for n in ("up", "down", "noisy"))
    assembly = build(_plugin(bundle, Flaky), toml=toml)
    server = PlugbayServer(assembly)
    assert set(assembly.catalog.tools) == {"up_ping", "down_ping", "noisy_ping"}
    with caplog.at_level(logging.WARNING, logger="plugbay"):
        await assembly.start()
    assert sorted(started) == ["noisy", "up"]
    down = assembly.instances["down"]
    assert down.status == "failed"
    assert down.problems == ["failed to start: ConnectionError: backend unreachable"]
    assert set(assembly.catalog.tools) == {"up_ping", "noisy_ping"}
    async with Client(server.sdk) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"up_ping", "noisy_ping"}
        assert (await client.call_tool("up_ping", {})).content[0].text == "up"
    with caplog.at_level(logging.ERROR, logger="plugbay"):
        await assembly.stop()
    assert sorted(stopped) == ["noisy", "up"]
    assert {n: s.status for n, s in assembly.instances.items()} == {
        "up": "stopped",
        "down": "failed",
        "noisy": "stopped",
    }
    assert "connector instance noisy did not stop cleanly" in caplog.text


async def test_start_timeout_fails_the_instance(build, bundle, monkeypatch) -> None:
    class Slow(Connector):
        name = "slow"

        async def start(self) -> None:
            await anyio.sleep(10)

    monkeypatch.setattr("plugbay.assembly.START_TIMEOUT", 0.05)
    assembly = build(_plugin(bundle, Slow))
    with anyio.fail_after(5):
        await assembly.start()
    assert assembly.instances["slow"].status == "failed"
    assert assembly.instances["slow"].problems[0].startswith("failed to start: TimeoutError")


def test_catalog_merge_is_all_or_nothing() -> None:
    def one() -> str:
        return ""

    base = Catalog()
    base.add_tool(
        build_tool(one, tool_spec(tool(one)), Owner("a"), middleware=[], default_timeout=None)
    )
    staged = Catalog()

    def two() -> str:
        return ""

    staged.add_tool(
        build_tool(two, tool_spec(tool(two)), Owner("b"), middleware=[], default_timeout=None)
    )
    staged.add_tool(
        build_tool(one, tool_spec(tool(one)), Owner("b"), middleware=[], default_timeout=None)
    )
    with pytest.raises(AssemblyError, match="by plugin 'a' and by plugin 'b'"):
        base.merged(staged)
    assert list(base.tools) == ["one"]


def test_assemble_directly_with_the_documented_api(bundle) -> None:
    async def echo(text: str) -> str:
        return text

    registry = load_plugins({}, extra={"echo": bundle(tools=[echo])}, entry_points=False)
    assembly = assemble(registry, parse_config({}, environ={}))
    assert assembly.catalog.tools["echo"].owner.plugin == "echo"
    # The test bundle implements every hook but register_commands and message middleware.
    assert assembly.registry.plugins["echo"].hooks == [
        "provide_event_store",
        "register_asgi_wrappers",
        "register_auth",
        "register_config_tables",
        "register_connectors",
        "register_lifespan",
        "register_middleware",
        "register_prompts",
        "register_readiness_checks",
        "register_resources",
        "register_routes",
        "register_tools",
        "register_visibility",
    ]


async def test_tool_errors_from_connectors(build, bundle) -> None:
    class Strict(Connector):
        name = "strict"

        @tool
        def check(self, value: int) -> str:
            if value < 0:
                raise ToolError("value must be positive; pass a number above 0")
            return "ok"

    assembly = build(_plugin(bundle, Strict))
    async with Client(PlugbayServer(assembly).sdk) as client:
        result = await client.call_tool("strict_check", {"value": -1})
    assert result.is_error
    assert result.content[0].text == "value must be positive; pass a number above 0"
