"""pytest fixtures serving the fake Odoo on 127.0.0.1.

Register them in a ``conftest.py`` (they need ``plugbay-odoo[test]``, which brings
plugbay-testing's :class:`~plugbay_testing.fakes.LocalServer`)::

    from plugbay_odoo.fake.fixtures import odoo_fake, odoo_fake_server  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from plugbay_odoo.fake.server import OdooFake

__all__ = ["odoo_fake", "odoo_fake_server"]


@pytest.fixture(scope="session")
def odoo_fake_server() -> Iterator[OdooFake]:
    """One fake Odoo served on 127.0.0.1 for the whole test session."""
    with OdooFake.serve() as fake:
        yield fake


@pytest.fixture
def odoo_fake(odoo_fake_server: OdooFake) -> OdooFake:
    """The session's fake Odoo, reset to its seed data for this test.

    ``odoo_fake.settings()`` gives connector settings that reach it as the
    administrator, ``odoo_fake.settings("demo")`` as the restricted user.
    """
    odoo_fake_server.reset()
    return odoo_fake_server
