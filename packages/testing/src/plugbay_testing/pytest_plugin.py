"""pytest fixtures for plugbay plugin authors, loaded through the ``pytest11`` entry point.

Every pytest run in an environment with plugbay-testing installed imports this
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

    from plugbay_testing.harness import Harness


@pytest.fixture
def mcp_mode() -> str:
    """The client's protocol mode: ``"auto"`` (modern era) unless overridden.

    Parametrize it to run a test in both eras::

        @pytest.mark.parametrize("mcp_mode", PROTOCOL_MODES)
        async def test_lists(plugbay_server, mcp_mode): ...
    """
    return "auto"


@pytest.fixture
def plugbay_server(
    anyio_backend: Any, mcp_mode: str
) -> Callable[..., AbstractAsyncContextManager[Harness]]:
    """A factory for in-process servers: :func:`plugbay_testing.serve` in ``mcp_mode``.

    ::

        async def test_greets(plugbay_server):
            async with plugbay_server(GreeterConnector, settings={"greeting": "hi"}) as h:
                assert await h.call_ok("greet", name="Ada") == "hi Ada"
    """
    from plugbay_testing.harness import serve

    def factory(*plugins: Any, **options: Any) -> AbstractAsyncContextManager[Harness]:
        options.setdefault("mode", mcp_mode)
        return serve(*plugins, **options)

    return factory


@pytest.fixture
def plugbay_plugins() -> Sequence[Any]:
    """What :func:`plugbay_harness` serves: override it to return your connector classes."""
    pytest.fail(
        "define a `plugbay_plugins` fixture returning the connector classes or plugin modules "
        "to serve (e.g. `return [MyConnector]`) to use plugbay_harness or mcp_client",
        pytrace=False,
    )


@pytest.fixture
def plugbay_config() -> Any:
    """The configuration :func:`plugbay_harness` uses: a ``plugbay.toml`` dict or text."""
    return None


@pytest.fixture
async def plugbay_harness(
    plugbay_server: Callable[..., AbstractAsyncContextManager[Harness]],
    plugbay_plugins: Sequence[Any],
    plugbay_config: Any,
) -> AsyncIterator[Harness]:
    """A started server with ``plugbay_plugins`` and ``plugbay_config``, and its client."""
    async with plugbay_server(*plugbay_plugins, config=plugbay_config) as harness:
        yield harness


@pytest.fixture
def mcp_client(plugbay_harness: Harness) -> Client:
    """The ``mcp.Client`` connected to :func:`plugbay_harness`."""
    return plugbay_harness.client
