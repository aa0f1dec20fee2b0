"""Every TOML example in docs/hosting.md is a valid configuration, with its tables claimed.

The tables of a hosted server belong to plugins (``[auth]`` to plugbay-auth, ``[policy]``,
``[limits]`` and ``[audit]`` to plugbay-guard, ``[telemetry]`` and ``[redis]`` to theirs), so
each block is assembled the way ``plugbay serve`` assembles it: the four plugins loaded
through their installed entry points, every table claimed and validated by its plugin's
model, every hook run, and nothing refused as insecure.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from plugbay.assembly import assemble
from plugbay.config import parse_config
from plugbay.errors import ConfigError
from plugbay.fail_closed import refuse_if_insecure
from plugbay.plugins import SELECT_ENV, load_plugins

HOSTING = Path(__file__).resolve().parents[1] / "docs" / "hosting.md"
TEXT = HOSTING.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```toml\n(.*?)```", TEXT, re.DOTALL)
HOSTED = {
    "auth": "plugbay-auth",
    "guard": "plugbay-guard",
    "telemetry": "plugbay-telemetry",
    "redis": "plugbay-redis",
}
ENVIRON = {"REDIS_URL": "redis://127.0.0.1:6379/0", "CI_BOT_KEY": "pbk_" + "c" * 43}


def _assembled(block: str, environ: dict[str, str]) -> None:
    registry = load_plugins({SELECT_ENV: ",".join(HOSTED)})
    for name, distribution in HOSTED.items():
        info = registry.plugins[name]
        assert (info.status, info.distribution) == ("loaded", distribution), info.errors
    config = parse_config(tomllib.loads(block), environ=environ)
    assembly = assemble(registry, config)
    assert assembly.problems == []
    refuse_if_insecure(registry)
    for table in config.raw_tables:
        assert assembly.config.table(table) is not None, f"[{table}] was not claimed"


def test_the_overview_has_the_team_example_and_the_refusal() -> None:
    assert len(BLOCKS) >= 2
    tables = set(tomllib.loads(BLOCKS[0]))
    assert {"server", "auth", "policy", "limits", "audit", "telemetry", "redis"} <= tables


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block-{n}" for n in range(len(BLOCKS))])
def test_each_example_assembles_with_the_hosted_plugins(block: str) -> None:
    _assembled(block, ENVIRON)


def test_without_the_plugins_the_team_example_is_refused_naming_what_to_install() -> None:
    registry = load_plugins(entry_points=False)
    config = parse_config(tomllib.loads(BLOCKS[0]), environ=ENVIRON)
    with pytest.raises(ConfigError) as refused:
        assemble(registry, config)
    problems = "\n".join(refused.value.problems)
    for distribution in HOSTED.values():
        assert f"which is not installed: pip install {distribution}" in problems
    # The refusal the page quotes is the host's, word for word.
    assert "[auth] belongs to plugbay-auth, which is not installed: pip install plugbay-auth" in (
        TEXT
    )


def test_the_documented_test_paths_exist() -> None:
    root = HOSTING.parents[1]
    paths = set(re.findall(r"`((?:host|tests|plugins|packages)/[\w/]+\.py)`", TEXT))
    assert len(paths) >= 20
    assert sorted(path for path in paths if not (root / path).is_file()) == []
