"""What the parts of the fake Odoo server share, declared once for the type checker.

:class:`~plugbay_odoo.fake.server.OdooFake` mixes in the RPC services and the HTTP
endpoints. Both derive from :class:`ServerState`, which declares the state the server
sets up and the method the endpoints call on the services, so that each part
type-checks on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plugbay_odoo.fake.orm import Orm
    from plugbay_odoo.fake.recording import InjectedFailure, RecordedCall
    from plugbay_odoo.fake.users import FakeUser


class ServerState:
    """The database, its users and what the server recorded, guarded by ``_lock``."""

    database: str
    url: str
    latency: float
    calls: list[RecordedCall]
    handling_seconds: float
    requests: int
    connections: set[tuple[str, int]]
    users: dict[int, FakeUser]
    orm: Orm
    _lock: threading.Lock
    _injected: list[InjectedFailure]

    if TYPE_CHECKING:  # implemented by RpcServices; declared for the endpoints

        def _dispatch(
            self, protocol: str, service: str, method: str, args: Sequence[Any]
        ) -> tuple[Any, BaseException | None]: ...
