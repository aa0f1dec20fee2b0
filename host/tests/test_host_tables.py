"""Plugin tables: claimed through register_config_tables, validated, every problem at once."""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel, Field

from plugbay import ConfigError, hookimpl
from plugbay.assembly import assemble
from plugbay.config import Config, parse_config
from plugbay.plugins import load_plugins
from plugbay.tables import claim_tables

WHERE = "/etc/plugbay.toml"


class CacheTable(BaseModel):
    ttl: float = Field(gt=0)
    url: str = "memory://"


class QueueTable(BaseModel):
    size: int


def _claims(*pairs: tuple[type[BaseModel], str]) -> object:
    def register_config_tables(register: Any) -> None:
        for model, table in pairs:
            register(model, table=table)

    return SimpleNamespace(register_config_tables=hookimpl(register_config_tables))


def _config(toml: str, environ: dict[str, str] | None = None) -> Config:
    return parse_config(tomllib.loads(toml), environ=environ or {}, source=Path(WHERE))


def _claim(plugins: dict[str, object], toml: str, **environ: str) -> Config:
    registry = load_plugins(environ, extra=plugins, entry_points=False)
    return claim_tables(registry, _config(toml, environ))


def test_a_claimed_table_is_validated_and_reachable_by_name() -> None:
    config = _claim(
        {"cache": _claims((CacheTable, "cache"))},
        '[cache]\nttl = 60\nurl = "${CACHE_URL}"\n',
        CACHE_URL="redis://127.0.0.1:6379/1",
    )
    table = config.table("cache")
    assert isinstance(table, CacheTable)
    assert (table.ttl, table.url) == (60.0, "redis://127.0.0.1:6379/1")
    assert config.table("queue") is None  # absent from the file


def test_every_problem_of_every_table_is_reported_at_once() -> None:
    plugins = {"cache": _claims((CacheTable, "cache"), (QueueTable, "queue"))}
    toml = '[cache]\nttl = 0\nextra = 1\n[queue]\nsize = "many"\n[cahce]\nttl = 1\n[auth]\n'
    with pytest.raises(ConfigError) as refused:
        _claim(plugins, toml)
    problems = refused.value.problems
    assert f"{WHERE}: [cache] ttl: Input should be greater than 0" in problems
    assert any(p.startswith(f"{WHERE}: [queue] size: ") for p in problems)
    assert (
        f"{WHERE}: [cahce] is not a table of plugbay or of any loaded plugin (a misspelling?)"
        in (problems)
    )
    assert (
        f"{WHERE}: [auth] belongs to plugbay-auth, which is not installed: pip install "
        + ("plugbay-auth")
        in problems
    )
    assert len(problems) == 4


def test_an_unset_variable_in_a_table_is_a_problem_with_its_location() -> None:
    with pytest.raises(ConfigError) as refused:
        _claim({"cache": _claims((CacheTable, "cache"))}, '[cache]\nttl = "${TTL}"\n')
    assert f"{WHERE}: [cache] the environment variable TTL is not set" in refused.value.problems


def test_a_table_whose_plugin_failed_says_so() -> None:
    class Broken:
        @hookimpl
        def register_config_tables(self, register: Any) -> None:
            register(CacheTable, table="cache")

        @hookimpl
        def register_tool(self, register: Any) -> None:  # misspelled: the plugin fails
            pass

    registry = load_plugins({}, extra={"cache": Broken()}, entry_points=False)
    registry.plugins["cache"].distribution = "plugbay-cache"
    with pytest.raises(ConfigError) as refused:
        claim_tables(registry, _config("[cache]\nttl = 1\n"))
    (problem,) = refused.value.problems
    assert problem.startswith(f"{WHERE}: [cache] belongs to plugbay-cache, which failed to load")


def test_a_second_claim_and_bad_claims_fail_their_plugins() -> None:
    plugins = {
        "first": _claims((CacheTable, "cache")),
        "second": _claims((QueueTable, "cache")),
        "reserved": _claims((QueueTable, "server")),
        "shouty": _claims((QueueTable, "Queue")),
        "notamodel": SimpleNamespace(
            register_config_tables=hookimpl(lambda register: register(dict, table="things"))
        ),
    }
    registry = load_plugins({}, extra=plugins, entry_points=False)
    with pytest.raises(ConfigError) as refused:
        claim_tables(registry, _config("[cache]\nttl = 1\n[things]\n"))
    problems = refused.value.problems
    # pluggy calls the last registered plugin first, so "first" claims after "second".
    assert "plugin 'first': register_config_tables: [cache] is already claimed by 'second'" in (
        problems
    )
    assert any(
        p.startswith("plugin 'reserved': register_config_tables: table='server'") for p in problems
    )
    assert any(
        p.startswith("plugin 'shouty': register_config_tables: table='Queue'") for p in problems
    )
    assert any("is not a pydantic model class" in p for p in problems)
    assert registry.plugins["first"].status == "failed"


def test_tables_given_already_validated_are_kept() -> None:
    registry = load_plugins({}, extra={"cache": _claims((CacheTable, "cache"))}, entry_points=False)
    given = CacheTable(ttl=5)
    config = claim_tables(registry, Config(tables={"cache": given}))
    assert config.table("cache") is given


def test_assembly_refuses_an_unclaimed_table() -> None:
    registry = load_plugins({}, entry_points=False)
    with pytest.raises(ConfigError) as refused:
        assemble(registry, _config('[policy]\ndefault = "deny"\n'))
    assert refused.value.problems == [
        f"{WHERE}: [policy] belongs to plugbay-guard, which is not installed: pip install "
        "plugbay-guard"
    ]


def test_settings_for_a_plugin_that_is_not_loaded_are_refused() -> None:
    greeter = SimpleNamespace(register_tools=hookimpl(lambda register: None))
    toml = '[plugins.greeter]\ngreeting = "hi"\n[plugins.keystore]\nurl = "x"\n[plugins.gone]\n'
    registry = load_plugins(
        {"PLUGBAY_BLOCK_PLUGINS": "keystore"}, extra={"greeter": greeter}, entry_points=False
    )
    registry.register(SimpleNamespace(), "keystore", status="blocked")
    with pytest.raises(ConfigError) as refused:
        claim_tables(registry, _config(toml))
    problems = refused.value.problems
    assert not any("[plugins.greeter]" in p for p in problems)
    assert any(
        p.startswith(f"{WHERE}: [plugins.keystore] is for the plugin 'keystore', which is blocked")
        for p in problems
    )
    assert (
        f"{WHERE}: [plugins.gone] is for the plugin 'gone', which is not installed "
        + ("(`plugbay plugins` lists the installed ones)")
        in problems
    )
