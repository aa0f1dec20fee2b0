"""The fake Copper API on 127.0.0.1 for these tests, and a shortcut to serve the connector."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from plugbay_copper import CopperConnector
from plugbay_copper.fake import CopperFake
from plugbay_copper.fake.fixtures import copper_fake, copper_fake_server
from plugbay_testing import Harness

__all__ = ["copper_fake", "copper_fake_server"]


ServeCopper = Callable[..., AbstractAsyncContextManager[Harness]]


@pytest.fixture
def serve_copper(
    plugbay_server: Callable[..., AbstractAsyncContextManager[Harness]], copper_fake: CopperFake
) -> ServeCopper:
    """``async with serve_copper(**settings) as h``: the connector, pointed at the fake."""

    def serve(**settings: Any) -> AbstractAsyncContextManager[Harness]:
        return plugbay_server(CopperConnector, settings=copper_fake.settings(**settings))

    return serve
