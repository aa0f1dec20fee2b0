"""Fixtures for plugbay-auth's tests: a real local OAuth issuer, and configurations.

The issuer (``oauth_issuer.py``) serves a JWKS and an introspection endpoint over real
HTTP on 127.0.0.1; nothing is mocked.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import plugbay_auth
from plugbay.assembly import Assembly, assemble
from plugbay.config import Config, parse_config
from plugbay.plugins import load_plugins
from plugbay_auth import AuthConfig


def _load_oauth_issuer() -> Any:
    """``oauth_issuer.py`` beside this file (``--import-mode=importlib`` cannot import it)."""
    name = "plugbay_auth_tests_oauth_issuer"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("oauth_issuer.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


oauth = _load_oauth_issuer()


@pytest.fixture
def issuer() -> Iterator[Any]:
    """A local OAuth issuer on 127.0.0.1 with one published RS256 key (see oauth_issuer.py)."""
    running = oauth.Issuer()
    running.add_key("RS256")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def auth_config() -> Callable[..., Config]:
    """A :class:`Config` carrying an ``[auth]`` table validated by plugbay-auth's model.

    ``auth_config({...}, path="/mcp")``; ``auth_config(None)`` has no ``[auth]`` table.
    """

    def make(table: Mapping[str, Any] | None, **server: Any) -> Config:
        tables = {} if table is None else {"auth": AuthConfig.model_validate(table)}
        return Config(server=Config().server.model_copy(update=server), tables=tables)

    return make


@pytest.fixture
def assembled() -> Callable[..., Assembly]:
    """Assemble through the real host with plugbay-auth registered in-process.

    ``assembled(toml, environ={...})``: the host reads the TOML, plugbay-auth claims
    ``[auth]`` and registers its backends, as ``plugbay serve`` would.
    """

    def make(toml: str, environ: Mapping[str, str] | None = None) -> Assembly:
        registry = load_plugins({}, extra={"auth": plugbay_auth}, entry_points=False)
        config = parse_config(tomllib.loads(toml), environ=dict(environ or {}))
        return assemble(registry, config)

    return make
