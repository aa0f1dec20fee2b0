"""Loading plugins one at a time: broken ones are reported, the rest load."""

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from plugbay import hookimpl
from plugbay.plugins import PluginInfo, PluginRegistry, load_plugins


def hello() -> str:
    """Say hello."""
    return "hello"


class HelloPlugin:
    @hookimpl
    def register_tools(self, register: Any) -> None:
        register(hello)


class Misspelled:
    @hookimpl
    def register_tool(self, register: Any) -> None:  # the hook is register_tools
        register(hello)


class WrongSignature:
    @hookimpl
    def register_tools(self, register: Any, extra: Any) -> None:
        register(hello)


class Raising:
    @hookimpl
    def register_tools(self, register: Any) -> None:
        register(hello)  # registered before the failure: must not leak into the catalog
        raise RuntimeError("cannot reach the licence server")


class NoArguments:
    """pluggy lets an implementation leave out the arguments it does not use."""

    @hookimpl
    def register_tools(self) -> None:
        self.called = True


@dataclass
class FakeDistribution:
    name: str
    version: str


class FakeEntryPoint:
    """Stands in for ``importlib.metadata.EntryPoint``."""

    def __init__(self, name: str, plugin: Any = None, error: BaseException | None = None) -> None:
        self.name = name
        self.value = f"plugbay_{name}"
        self.group = "plugbay"
        self.dist = FakeDistribution(f"plugbay-{name}", "1.2.3")
        self._plugin = plugin
        self._error = error
        self.loaded = False

    def load(self) -> Any:
        self.loaded = True
        if self._error is not None:
            raise self._error
        return self._plugin


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch) -> list[FakeEntryPoint]:
    """Replace the installed entry points with this (mutable) list."""
    installed: list[FakeEntryPoint] = []

    def fake(*, group: str) -> list[FakeEntryPoint]:
        assert group == "plugbay"
        return list(installed)

    monkeypatch.setattr("plugbay.plugins.metadata.entry_points", fake)
    return installed


def test_builtins_and_in_process_plugins() -> None:
    registry = load_plugins({}, extra={"hello": HelloPlugin()}, entry_points=False)
    builtin = registry.plugins["builtin"]
    assert builtin.status == "builtin"
    assert builtin.module == "plugbay.builtin"
    assert builtin.hooks == ["register_middleware"]
    info = registry.plugins["hello"]
    assert info.status == "loaded"
    assert info.module == "HelloPlugin"
    assert info.hooks == ["register_tools"]
    assert info.errors == []
    (registration,) = list(registry.collect("register_tools"))
    assert registration.plugin == "hello"
    assert registration.item is hello
    assert registration.options == {}


def test_misspelled_hook_is_rejected_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="plugbay"):
        registry = load_plugins(
            {}, extra={"typo": Misspelled(), "hello": HelloPlugin()}, entry_points=False
        )
    info = registry.plugins["typo"]
    assert info.status == "failed"
    (error,) = info.errors
    assert "register_tool" in error
    assert "PluginValidationError" in error
    assert registry.manager.get_plugin("typo") is None
    assert registry.plugins["hello"].status == "loaded"
    assert "plugin typo not loaded" in caplog.text


def test_wrong_hook_signature_is_rejected() -> None:
    registry = load_plugins({}, extra={"wrong": WrongSignature()}, entry_points=False)
    info = registry.plugins["wrong"]
    assert info.status == "failed"
    assert "extra" in info.errors[0]
    assert registry.manager.get_plugin("wrong") is None


def test_a_hook_that_raises_fails_its_plugin_only(build) -> None:
    assembly = build({"raising": Raising(), "hello": HelloPlugin()})
    info = assembly.registry.plugins["raising"]
    assert info.status == "failed"
    (error,) = info.errors
    assert error.startswith("register_tools: RuntimeError: cannot reach the licence server (at ")
    assert "test_host_plugins.py:" in error
    assert list(assembly.catalog.tools) == ["hello"]
    assert assembly.catalog.tools["hello"].owner.plugin == "hello"
    assert f"plugin 'raising': {error}" in assembly.problems


def test_an_implementation_may_leave_out_register() -> None:
    plugin = NoArguments()
    registry = load_plugins({}, extra={"quiet": plugin}, entry_points=False)
    assert list(registry.collect("register_tools")) == []
    assert plugin.called


def test_entry_points_load_with_versions(entry_points: list[FakeEntryPoint]) -> None:
    entry_points.append(FakeEntryPoint("hello", HelloPlugin()))
    registry = load_plugins({})
    info = registry.plugins["hello"]
    assert info.status == "loaded"
    assert info.version == "1.2.3"
    assert info.distribution == "plugbay-hello"
    assert info.hooks == ["register_tools"]
    assert info.as_dict() == {
        "name": "hello",
        "status": "loaded",
        "version": "1.2.3",
        "distribution": "plugbay-hello",
        "module": "HelloPlugin",
        "hooks": ["register_tools"],
        "errors": [],
        "warnings": [],
    }


class Unmarked:
    """A hook function without ``@hookimpl``: pluggy registers the object and calls nothing."""

    def register_tools(self, register: Any) -> None:
        register(hello)


def test_a_plugin_that_implements_no_hook_loads_with_a_warning(
    entry_points: list[FakeEntryPoint], caplog: pytest.LogCaptureFixture
) -> None:
    entry_points.append(FakeEntryPoint("unmarked", Unmarked()))
    with caplog.at_level(logging.WARNING, logger="plugbay"):
        registry = load_plugins({})
    info = registry.plugins["unmarked"]
    assert (info.status, info.hooks, info.errors) == ("loaded", [], [])
    assert info.warnings == [
        "Unmarked implements no plugbay hook: mark its hook functions with "
        "@plugbay.hookimpl (register_connectors, ...)"
    ]
    assert info.as_dict()["warnings"] == info.warnings
    assert "plugin unmarked: Unmarked implements no plugbay hook" in caplog.text
    assert list(registry.collect("register_tools")) == []
    assert registry.plugins["builtin"].warnings == []


def test_import_failures_are_reported_and_others_load(
    entry_points: list[FakeEntryPoint], caplog: pytest.LogCaptureFixture
) -> None:
    entry_points.extend(
        [
            FakeEntryPoint("broken", error=ImportError("No module named 'missing_dependency'")),
            FakeEntryPoint("exits", error=SystemExit(3)),
            FakeEntryPoint("hello", HelloPlugin()),
            FakeEntryPoint("typo", Misspelled()),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="plugbay"):
        registry = load_plugins({})
    broken = registry.plugins["broken"]
    assert broken.status == "failed"
    assert broken.module == "plugbay_broken"
    assert broken.version == "1.2.3"
    assert broken.errors == [
        "import failed: ImportError: No module named 'missing_dependency' "
        f"(at {__file__}:{FakeEntryPoint.load.__code__.co_firstlineno + 3})"
    ]
    assert registry.plugins["exits"].status == "failed"
    assert registry.plugins["exits"].errors[0].startswith("import failed: SystemExit: 3")
    assert registry.plugins["typo"].status == "failed"
    assert registry.plugins["hello"].status == "loaded"
    assert "plugin broken failed to import" in caplog.text


def test_keyboard_interrupt_while_importing_is_not_swallowed(
    entry_points: list[FakeEntryPoint],
) -> None:
    entry_points.append(FakeEntryPoint("ctrl_c", error=KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        load_plugins({})


def test_select_and_block_variables(entry_points: list[FakeEntryPoint]) -> None:
    one, two, three = (FakeEntryPoint(name, HelloPlugin()) for name in ("one", "two", "three"))
    entry_points.extend([one, two, three])

    selected = load_plugins({"PLUGBAY_PLUGINS": " one , three,"})
    assert {n: i.status for n, i in selected.plugins.items()} == {
        "builtin": "builtin",
        "one": "loaded",
        "three": "loaded",
        "two": "blocked",
    }
    assert selected.plugins["two"].module == "plugbay_two"
    assert not two.loaded

    one.loaded = three.loaded = False
    blocked = load_plugins({"PLUGBAY_BLOCK_PLUGINS": "two", "PLUGBAY_PLUGINS": ""})
    assert blocked.plugins["two"].status == "blocked"
    assert blocked.plugins["one"].status == "loaded"
    assert not two.loaded

    both = load_plugins({"PLUGBAY_PLUGINS": "one,two", "PLUGBAY_BLOCK_PLUGINS": "two"})
    assert both.plugins["two"].status == "blocked"
    assert both.plugins["three"].status == "blocked"
    assert both.plugins["one"].status == "loaded"


def test_select_and_block_read_the_process_environment_by_default(
    entry_points: list[FakeEntryPoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_points.append(FakeEntryPoint("hello", HelloPlugin()))
    monkeypatch.setenv("PLUGBAY_BLOCK_PLUGINS", "hello")
    assert load_plugins().plugins["hello"].status == "blocked"


def test_an_entry_point_named_like_a_registered_plugin_is_not_loaded_twice(
    entry_points: list[FakeEntryPoint],
) -> None:
    shadow = FakeEntryPoint("builtin", HelloPlugin())
    entry_points.append(shadow)
    registry = load_plugins({})
    assert not shadow.loaded
    assert registry.plugins["builtin"].status == "builtin"


def test_entry_point_without_distribution(entry_points: list[FakeEntryPoint]) -> None:
    bare = FakeEntryPoint("bare", HelloPlugin())
    bare.dist = None  # type: ignore[assignment]
    entry_points.append(bare)
    info = load_plugins({}).plugins["bare"]
    assert info.status == "loaded"
    assert info.version is None
    assert info.distribution is None


def test_unregister_removes_a_plugin() -> None:
    registry = load_plugins({}, extra={"hello": HelloPlugin()}, entry_points=False)
    registry.unregister("hello")
    registry.unregister("never-registered")
    assert "hello" not in registry.plugins
    assert list(registry.collect("register_tools")) == []


def test_fail_records_errors_but_keeps_builtin_status() -> None:
    registry = PluginRegistry()
    registry.load_builtins()
    registry.fail("builtin", "something odd")
    registry.fail("ghost", "never loaded")
    assert registry.plugins["builtin"].status == "builtin"
    assert registry.plugins["builtin"].errors == ["something odd"]
    assert registry.plugins["ghost"] == PluginInfo(
        name="ghost", status="failed", errors=["never loaded"]
    )
