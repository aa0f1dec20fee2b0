"""pytest fixtures serving the fake Copper API on 127.0.0.1.

Register them in a ``conftest.py`` (they need ``plugbay-copper[test]``, which brings
plugbay-testing's :class:`~plugbay_testing.fakes.LocalServer`)::

    from plugbay_copper.fake.fixtures import copper_fake, copper_fake_server  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from plugbay_copper.fake.account import CopperFake
from plugbay_testing.fakes import LocalServer

__all__ = ["copper_fake", "copper_fake_server"]


@pytest.fixture(scope="session")
def copper_fake_server() -> Iterator[CopperFake]:
    """One fake Copper API served on 127.0.0.1 for the whole test session."""
    fake = CopperFake()
    with LocalServer(fake.app) as server:
        fake.base_url = server.url
        yield fake


@pytest.fixture
def copper_fake(copper_fake_server: CopperFake) -> CopperFake:
    """The session's fake Copper API, reset to its seed data for this test.

    ``copper_fake.settings()`` gives connector settings that reach it.
    """
    copper_fake_server.reset()
    return copper_fake_server
