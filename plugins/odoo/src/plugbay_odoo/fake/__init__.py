"""A fake Odoo 18 server speaking the external API (XML-RPC and JSON-RPC), for tests and demos.

Run it with ``python -m plugbay_odoo.fake --port 8069`` (needs ``plugbay-odoo[fake]``),
or in tests with the fixtures of :mod:`plugbay_odoo.fake.fixtures`. The connector never
imports this package. What the fake reproduces, and from which page of Odoo's
documentation, is described in :mod:`plugbay_odoo.fake.server`.
"""

from plugbay_odoo.fake.server import (
    ADMIN_API_KEY,
    DEFAULT_DATABASE,
    DEMO_API_KEY,
    DEMO_RIGHTS,
    FakeUser,
    OdooFake,
    RecordedCall,
)

__all__ = [
    "ADMIN_API_KEY",
    "DEFAULT_DATABASE",
    "DEMO_API_KEY",
    "DEMO_RIGHTS",
    "FakeUser",
    "OdooFake",
    "RecordedCall",
]
