"""A fake of the Copper CRM developer API, served over real HTTP for tests and demos.

Run it with ``python -m plugbay_copper.fake --port 8765`` (needs ``plugbay-copper[fake]``),
or in tests with the fixtures of :mod:`plugbay_copper.fake.fixtures`. The connector
never imports this package. What the fake reproduces, and from which page of Copper's
documentation, is described in :mod:`plugbay_copper.fake.account`.
"""

from plugbay_copper.fake.account import CopperFake
from plugbay_copper.fake.recording import RecordedRequest

__all__ = ["CopperFake", "RecordedRequest"]
