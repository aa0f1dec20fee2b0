"""pytest fixtures for plugboard plugin authors, loaded through the ``pytest11`` entry point.

Every pytest run in an environment with plugboard-testing installed imports this
module, so it imports nothing heavy until a fixture is used, and defines nothing but
fixtures. The fixtures that serve plugins depend on ``anyio_backend``, which is what
makes anyio's pytest plugin run the async tests that use them: authors need no marker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mcp import Client

    from plugboard_testing.harness import Harness


@pytest.fixture
def mcp_mode() -> str:
    """The client's protocol mode: ``"auto"`` (modern era) unless overridden.

    Parametrize it to run a test in both eras::

        @pytest.mark.parametrize("mcp_mode", PROTOCOL_MODES)
        async def test_lists(plugboard_server, mcp_mode): ...
    """
    return "auto"


@pytest.fixture
def plugboard_server(
    anyio_backend: Any, mcp_mode: str
) -> Callable[..., AbstractAsyncContextManager[Harness]]:
    """A factory for in-process servers: :func:`plugboard_testing.serve` in ``mcp_mode``.

    ::

        async def test_greets(plugboard_server):
            async with plugboard_server(GreeterConnector, settings={"greeting": "hi"}) as h:
                assert await h.call_ok("greet", name="Ada") == "hi Ada"
    """
    from plugboard_testing.harness import serve

    def factory(*plugins: Any, **options: Any) -> AbstractAsyncContextManager[Harness]:
        options.setdefault("mode", mcp_mode)
        return serve(*plugins, **options)

    return factory


@pytest.fixture
def plugboard_plugins() -> Sequence[Any]:
    """What :func:`plugboard_harness` serves: override it to return your connector classes."""
    pytest.fail(
        "define a `plugboard_plugins` fixture returning the connector classes or plugin modules "
        "to serve (e.g. `return [MyConnector]`) to use plugboard_harness or mcp_client",
        pytrace=False,
    )


@pytest.fixture
def plugboard_config() -> Any:
    """The configuration :func:`plugboard_harness` uses: a ``plugboard.toml`` dict or text."""
    return None


@pytest.fixture
async def plugboard_harness(
    plugboard_server: Callable[..., AbstractAsyncContextManager[Harness]],
    plugboard_plugins: Sequence[Any],
    plugboard_config: Any,
) -> AsyncIterator[Harness]:
    """A started server with ``plugboard_plugins`` and ``plugboard_config``, and its client."""
    async with plugboard_server(*plugboard_plugins, config=plugboard_config) as harness:
        yield harness


@pytest.fixture
def mcp_client(plugboard_harness: Harness) -> Client:
    """The ``mcp.Client`` connected to :func:`plugboard_harness`."""
    return plugboard_harness.client
