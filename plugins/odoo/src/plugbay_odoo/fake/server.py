"""A fake Odoo 18 server speaking the external API over XML-RPC and JSON-RPC.

Serve it with the ``odoo_fake`` fixture (:mod:`plugbay_odoo.fake.fixtures`), with
:meth:`OdooFake.serve`, or with ``python -m plugbay_odoo.fake --port N``, and point a
connector at ``fake.url``. It is written from Odoo's documentation; what it
reproduces, and where that is described:

* The two XML-RPC endpoints of the External API
  (https://www.odoo.com/documentation/18.0/developer/reference/external_api.html):
  ``POST /xmlrpc/2/common`` with ``version()`` (``server_version``,
  ``server_version_info``, ``server_serie``, ``protocol_version``), ``login`` and
  ``authenticate(db, login, password_or_api_key, {})`` answering the user id or
  ``False``; ``POST /xmlrpc/2/object`` with ``execute_kw(db, uid, password, model,
  method, args, kwargs)`` (and ``execute``), the credentials checked on every call.
  An API key works wherever the password does ("API Keys" section). Record values,
  ``search``/``search_count``/``read``/``fields_get``/``search_read``/``create``/
  ``write``/``unlink``/``check_access_rights`` and the inspection of ``ir.model``
  and ``ir.model.fields`` behave as that page shows; the ORM side (domains,
  ``name_search``, ``read_group``, exceptions) follows the ORM reference
  (https://www.odoo.com/documentation/18.0/developer/reference/backend/orm.html), see
  :mod:`plugbay_odoo.fake.orm`.
* ``POST /jsonrpc`` as in the JSON-RPC library example of "Web Services"
  (https://www.odoo.com/documentation/18.0/developer/howtos/web_services.html):
  ``{"jsonrpc": "2.0", "method": "call", "params": {"service", "method", "args"},
  "id"}`` answered with ``result``, or with Odoo's error object ``{"code": 200,
  "message": "Odoo Server Error", "data": {"name": "odoo.exceptions.AccessError",
  "message", "arguments", "context", "debug"}}`` (HTTP 200 either way).
* XML-RPC faults as Odoo's ``/xmlrpc/2`` dispatcher builds them: ``faultCode`` 4 for
  ``AccessError``, 3 for ``AccessDenied``, 2 for ``UserError`` and its subclasses
  (``ValidationError``, ``MissingError``), with the bare message as ``faultString``;
  any other exception is code 1 with the formatted traceback, whose last line names
  it (``ValueError: Invalid field ...``). The legacy ``/xmlrpc/<service>`` endpoints
  use the string codes (``"warning -- AccessError"`` + message, ``"AccessDenied"``).
  Results are marshalled without ``allow_none``, so a method returning ``None`` is a
  fault, as in Odoo; dates travel as strings.
* Per-user access rights (read, write, create, unlink per model), answered with
  Odoo's ``AccessError`` message; fields restricted to a group; private methods
  (``_name``) refused; unknown databases failing as PostgreSQL makes them fail.

Where the documentation is silent the fake chooses and says so: there are no record
rules, multi-company, translations or currencies; monetary amounts are plain floats;
``sale.order`` lines carry one 15 % tax. Tests can inject HTTP failures
(:meth:`OdooFake.inject`) and latency, read every call the fake answered
(:attr:`OdooFake.calls`) and how long it spent on them (:attr:`OdooFake.handling_seconds`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from plugbay_odoo.fake.endpoints import (
    RpcEndpoints,
)
from plugbay_odoo.fake.models import business_models, load_seed, meta_models
from plugbay_odoo.fake.orm import (
    Orm,
    Row,
)
from plugbay_odoo.fake.recording import (
    InjectedFailure,
    RecordedCall,
)
from plugbay_odoo.fake.services import (
    RpcServices,
)
from plugbay_odoo.fake.users import (
    ADMIN_API_KEY,
    DEFAULT_DATABASE,
    DEMO_API_KEY,
    DEMO_RIGHTS,
    FakeUser,
)


class OdooFake(RpcEndpoints, RpcServices):
    """An Odoo 18 database behind the external API, in memory.

    Args:
        database: The database name clients must send.
    """

    def __init__(self, database: str = DEFAULT_DATABASE) -> None:
        self.database = database
        self.url = ""
        """``http://127.0.0.1:<port>`` once served."""
        self.latency = 0.0
        """Seconds every request waits before it is handled (for timeout tests)."""
        self._lock = threading.Lock()
        self.calls: list[RecordedCall] = []
        self.handling_seconds = 0.0
        """Time spent handling requests (parsing, running, marshalling), in total."""
        self.requests = 0
        self.connections: set[tuple[str, int]] = set()
        """The client addresses requests came from: one per HTTP connection a client opened."""
        self._injected: list[InjectedFailure] = []
        self.users: dict[int, FakeUser] = {}
        self.orm = self._new_orm()
        self.reset()

    # -- state ---------------------------------------------------------------------------

    def _new_orm(self) -> Orm:
        return Orm(
            [*business_models(), *meta_models()],
            is_admin=lambda uid: uid in self.users and self.users[uid].rights is None,
            can=self._can,
        )

    def reset(self) -> None:
        """Back to the seed data, default users and rights; forget calls and injections."""
        with self._lock:
            self.orm = self._new_orm()
            load_seed(self.orm)
            self.users = {
                1: FakeUser(1, "__system__", "", active=False),
                2: FakeUser(2, "admin", "admin", [ADMIN_API_KEY]),
                6: FakeUser(6, "demo", "demo", [DEMO_API_KEY], rights=dict(DEMO_RIGHTS)),
            }
            self.calls = []
            self.handling_seconds = 0.0
            self.requests = 0
            self.connections = set()
            self._injected = []
            self.latency = 0.0

    def _can(self, uid: int, model: str, operation: str) -> bool:
        user = self.users.get(uid)
        if user is None:
            return False
        if user.rights is None:
            return True
        return operation in user.rights.get(model, frozenset())

    def user(self, login: str) -> FakeUser:
        """The user with this login."""
        for user in self.users.values():
            if user.login == login:
                return user
        raise KeyError(login)

    def set_rights(self, login: str, model: str, operations: Sequence[str]) -> None:
        """Give ``login`` exactly ``operations`` on ``model`` (an empty list removes access)."""
        with self._lock:
            user = self.user(login)
            if user.rights is None:
                raise ValueError(f"{login} is an administrator: every right is granted")
            user.rights[model] = frozenset(operations)

    def add_api_key(self, login: str, key: str) -> None:
        """Give ``login`` another API key."""
        with self._lock:
            self.user(login).api_keys.append(key)

    def revoke_api_key(self, key: str) -> None:
        """Revoke an API key: calls made with it fail with ``AccessDenied`` from now on."""
        with self._lock:
            for user in self.users.values():
                if key in user.api_keys:
                    user.api_keys.remove(key)

    def settings(self, login: str = "admin", **overrides: Any) -> dict[str, Any]:
        """Connector settings that reach this fake as ``login`` with their API key."""
        key = self.user(login).api_keys[0]
        return {
            "url": self.url,
            "database": self.database,
            "username": login,
            "api_key": key,
            **overrides,
        }

    def records(self, model: str) -> list[Row]:
        """The stored rows of ``model`` (raw values, computed fields left out)."""
        with self._lock:
            return [dict(row) for row in self.orm.tables[model].values()]

    def record(self, model: str, record_id: int) -> Row | None:
        """One stored row, or ``None``."""
        with self._lock:
            row = self.orm.tables[model].get(record_id)
            return dict(row) if row is not None else None

    def count(
        self,
        method: str | None = None,
        *,
        model: str | None = None,
        model_method: str | None = None,
    ) -> int:
        """How many calls matched: by RPC method, model and model method."""
        with self._lock:
            return sum(
                1
                for call in self.calls
                if (method is None or call.method == method)
                and (model is None or call.model == model)
                and (model_method is None or call.model_method == model_method)
            )

    def inject(self, status: int, *, times: int = 1, body: str = "Bad Gateway") -> None:
        """Answer the next ``times`` requests with an HTTP error, as a proxy in front would."""
        with self._lock:
            self._injected.append(InjectedFailure(status, times, body))

    # -- serving -------------------------------------------------------------------------

    @classmethod
    @contextmanager
    def serve(cls, database: str = DEFAULT_DATABASE) -> Iterator[OdooFake]:
        """Serve a new fake on 127.0.0.1 in a background thread (e.g. in a benchmark).

        It needs plugbay-testing's :class:`~plugbay_testing.fakes.LocalServer` (the
        ``test`` extra); imported here so that the fake itself needs only ``fake``.
        """
        from plugbay_testing.fakes import LocalServer

        fake = cls(database)
        with LocalServer(fake.app) as server:
            fake.url = server.url
            yield fake


__all__ = [
    "ADMIN_API_KEY",
    "DEFAULT_DATABASE",
    "DEMO_API_KEY",
    "DEMO_RIGHTS",
    "FakeUser",
    "OdooFake",
    "RecordedCall",
]
