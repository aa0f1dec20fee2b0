"""A fake Odoo 18 server speaking the external API over XML-RPC and JSON-RPC.

Serve it with the ``odoo_fake`` fixture (or :meth:`OdooFake.serve`) and point a
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

import asyncio
import inspect
import json
import threading
import time
import traceback
import xmlrpc.client
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from xml.parsers.expat import ExpatError

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from plugbay_odoo.fake.models import business_models, load_seed, meta_models
from plugbay_odoo.fake.orm import (
    AccessDenied,
    AccessError,
    OdooError,
    Orm,
    Row,
)

DEFAULT_DATABASE = "odoo18"
ADMIN_API_KEY = "5f1d0c3b9a8e7d6c5b4a39281706f5e4d3c2b1a0"
"""The administrator's API key (40 hex digits, like Odoo's 160-bit keys)."""
DEMO_API_KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
"""The restricted user's API key."""
SERVER_VERSION: dict[str, Any] = {
    "server_version": "18.0",
    "server_version_info": [18, 0, 0, "final", 0, ""],
    "server_serie": "18.0",
    "protocol_version": 1,
}
ALL_OPERATIONS = frozenset({"read", "write", "create", "unlink"})
DEMO_RIGHTS: dict[str, frozenset[str]] = {
    "res.partner": frozenset({"read", "write", "create"}),
    "res.users": frozenset({"read"}),
    "product.product": frozenset({"read"}),
    "sale.order": frozenset({"read", "write", "create"}),
    "sale.order.line": ALL_OPERATIONS,
    "crm.lead": frozenset({"read", "write", "create"}),
    "crm.stage": frozenset({"read"}),
    "crm.tag": frozenset({"read"}),
    "ir.model": frozenset({"read"}),
    "ir.model.fields": frozenset({"read"}),
}
"""What the restricted user (``demo``) may do: a salesperson, without accounting."""

MODEL_METHODS = frozenset(
    {"search", "search_read", "search_count", "create", "name_search", "read_group",
     "fields_get", "check_access_rights"}
)  # fmt: skip
"""ORM methods called on the model (``@api.model``): no record ids first."""
RECORD_METHODS = frozenset({"read", "write", "unlink"})
"""ORM methods called on records: the first argument is the ids."""
XMLRPC_CONTENT_TYPE = "text/xml; charset=utf-8"


class OperationalError(Exception):
    """What psycopg2 raises for a database that does not exist."""


# Tracebacks and JSON-RPC errors name it as Odoo's would: psycopg2.OperationalError.
OperationalError.__module__ = "psycopg2"


@dataclass
class FakeUser:
    """A user of the fake: login, password, API keys and access rights."""

    uid: int
    login: str
    password: str
    api_keys: list[str] = field(default_factory=list)
    rights: dict[str, frozenset[str]] | None = None
    """Per-model operations; ``None`` for an administrator (everything)."""
    active: bool = True

    def accepts(self, secret: Any) -> bool:
        """Whether ``secret`` is this user's password or one of their API keys."""
        if not isinstance(secret, str) or not secret or not self.active:
            return False
        return secret == self.password or secret in self.api_keys


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One call the fake answered."""

    protocol: str
    """``xmlrpc`` or ``jsonrpc``."""
    service: str
    """``common`` or ``object``."""
    method: str
    """``authenticate``, ``execute_kw``..."""
    model: str | None = None
    model_method: str | None = None
    """For ``execute_kw``: the model and its method (``res.partner``, ``search_read``)."""
    uid: int | None = None
    error: str | None = None
    """The exception's qualified name when the call failed."""


@dataclass(slots=True)
class _Injected:
    status: int
    remaining: int
    body: str


class OdooFake:
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
        self._injected: list[_Injected] = []
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
            self._injected.append(_Injected(status, times, body))

    # -- the RPC services ----------------------------------------------------------------

    def _check_database(self, database: Any) -> None:
        if database != self.database:
            raise OperationalError(
                'connection to server at "127.0.0.1", port 5432 failed: FATAL:  database '
                f'"{database}" does not exist'
            )

    def _common(self, method: str, args: Sequence[Any], record: dict[str, Any]) -> Any:
        if method == "version":
            return dict(SERVER_VERSION)
        if method in ("login", "authenticate"):
            expected = 3 if method == "login" else 4
            if len(args) != expected:
                raise TypeError(
                    f"exp_{method}() takes {expected} positional arguments but {len(args)} "
                    "were given"
                )
            database, login, secret = args[0], args[1], args[2]
            self._check_database(database)
            for user in self.users.values():
                if user.login == login and user.accepts(secret):
                    record["uid"] = user.uid
                    return user.uid
            return False
        raise KeyError(f"exp_{method}")

    def _object(self, method: str, args: Sequence[Any], record: dict[str, Any]) -> Any:
        if method not in ("execute", "execute_kw"):
            raise NameError(f"Method not available {method}")
        if len(args) < 5:
            raise TypeError(f"{method}() missing required positional arguments")
        database, uid, secret, model_name, model_method = args[:5]
        record.update(uid=uid, model=model_name, model_method=model_method)
        self._check_database(database)
        user = self.users.get(uid) if isinstance(uid, int) else None
        if user is None or not user.accepts(secret):
            raise AccessDenied()
        if method == "execute":
            call_args, call_kwargs = list(args[5:]), {}
        else:
            call_args = list(args[5]) if len(args) > 5 and args[5] is not None else []
            call_kwargs = dict(args[6]) if len(args) > 6 and args[6] is not None else {}
        return self._call_model(user.uid, model_name, model_method, call_args, call_kwargs)

    def _call_model(
        self, uid: int, model_name: Any, method: Any, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        orm = self.orm
        orm.uid = uid
        if not isinstance(model_name, str) or not isinstance(method, str):
            raise TypeError("the model and method names must be strings")
        model = orm.model(model_name)
        if method.startswith("_"):
            raise AccessError(
                f"Private methods (such as '{model_name}.{method}') cannot be called remotely."
            )
        context = kwargs.pop("context", None) or {}
        if method in MODEL_METHODS:
            function = getattr(orm, method)
            if "context" in _parameters(function):
                kwargs["context"] = context
            return function(model, *args, **kwargs)
        if method in RECORD_METHODS:
            if not args:
                raise TypeError(f"{method}() missing 1 required positional argument: 'ids'")
            ids = _ids(args[0])
            return getattr(orm, method)(model, ids, *args[1:], **kwargs)
        business = model.methods.get(method)
        if business is None:
            raise AttributeError(f"The method '{model_name}.{method}' does not exist")
        ids = _ids(args[0]) if args else []
        orm.check_access(model, business.operation)
        missing = [i for i in ids if i not in orm.tables[model.name]]
        if missing:
            orm.read(model, missing)  # raises Odoo's MissingError
        return business.function(orm, ids, *args[1:], **kwargs)

    def _dispatch(
        self, protocol: str, service: str, method: str, args: Sequence[Any]
    ) -> tuple[Any, BaseException | None]:
        """Run one call under the lock; the result, or the exception it raised."""
        record: dict[str, Any] = {}
        error: BaseException | None = None
        result: Any = None
        with self._lock:
            try:
                if service == "common":
                    result = self._common(method, args, record)
                elif service == "object":
                    result = self._object(method, args, record)
                else:
                    raise KeyError(service)
            except Exception as exc:  # every failure becomes a fault, as in Odoo
                error = exc
            self.calls.append(
                RecordedCall(
                    protocol,
                    service,
                    method,
                    model=record.get("model"),
                    model_method=record.get("model_method"),
                    uid=record.get("uid"),
                    error=_qualified_name(error) if error is not None else None,
                )
            )
        return result, error

    # -- HTTP ----------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        """The ASGI application: ``/xmlrpc/2/common``, ``/xmlrpc/2/object``, ``/jsonrpc``."""
        return Starlette(
            routes=[
                Route("/xmlrpc/2/{service}", self._endpoint(self._xmlrpc_int), methods=["POST"]),
                Route("/xmlrpc/{service}", self._endpoint(self._xmlrpc_string), methods=["POST"]),
                Route("/jsonrpc", self._endpoint(self._jsonrpc), methods=["POST"]),
            ]
        )

    def _endpoint(self, handler: Callable[[Request, bytes], Response]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            if self.latency:
                await asyncio.sleep(self.latency)
            body = await request.body()
            started = time.perf_counter()
            with self._lock:
                self.requests += 1
                if request.client is not None:
                    self.connections.add((request.client.host, request.client.port))
                injected = next((item for item in self._injected if item.remaining > 0), None)
                if injected is not None:
                    injected.remaining -= 1
            if injected is not None:
                return PlainTextResponse(injected.body, status_code=injected.status)
            response = handler(request, body)
            elapsed = time.perf_counter() - started
            with self._lock:
                self.handling_seconds += elapsed
            return response

        return endpoint

    def _xmlrpc_int(self, request: Request, body: bytes) -> Response:
        return self._xmlrpc(request, body, string_codes=False)

    def _xmlrpc_string(self, request: Request, body: bytes) -> Response:
        return self._xmlrpc(request, body, string_codes=True)

    def _xmlrpc(self, request: Request, body: bytes, *, string_codes: bool) -> Response:
        service = request.path_params["service"]
        try:
            params, method = xmlrpc.client.loads(body)
        except (ExpatError, ValueError, TypeError) as exc:
            fault = xmlrpc.client.Fault(1, _format(exc))
            return _xml(xmlrpc.client.dumps(fault, methodresponse=True))
        result, error = self._dispatch("xmlrpc", service, method or "", params)
        if error is None:
            try:
                return _xml(xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False))
            except (TypeError, OverflowError) as exc:
                error = exc
        fault = _string_fault(error) if string_codes else _int_fault(error)
        return _xml(xmlrpc.client.dumps(fault, methodresponse=True, allow_none=False))

    def _jsonrpc(self, request: Request, body: bytes) -> Response:
        try:
            payload = json.loads(body)
        except ValueError:
            return PlainTextResponse("Invalid JSON data", status_code=400)
        if not isinstance(payload, dict):
            return PlainTextResponse("Invalid JSON-RPC data", status_code=400)
        request_id = payload.get("id")
        params = payload.get("params") or {}
        if not isinstance(params, dict) or not {"service", "method"} <= set(params):
            error: BaseException = TypeError(
                "jsonrpc() missing required arguments: 'service', 'method' and 'args'"
            )
            return _json_error(request_id, error)
        args = params.get("args") or []
        result, failure = self._dispatch(
            "jsonrpc", str(params["service"]), str(params["method"]), list(args)
        )
        if failure is not None:
            return _json_error(request_id, failure)
        return JSONResponse({"jsonrpc": "2.0", "id": request_id, "result": result})

    # -- serving -------------------------------------------------------------------------

    @classmethod
    @contextmanager
    def serve(cls, database: str = DEFAULT_DATABASE) -> Iterator[OdooFake]:
        """Serve a new fake on 127.0.0.1 (outside pytest, e.g. in a benchmark)."""
        from plugbay_testing.fakes import LocalServer

        fake = cls(database)
        with LocalServer(fake.app) as server:
            fake.url = server.url
            yield fake


# -- faults --------------------------------------------------------------------------------


def _format(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def _qualified_name(error: BaseException) -> str:
    if isinstance(error, OdooError):
        return error.odoo_name
    kind = type(error)
    return f"{kind.__module__}.{kind.__name__}"


def _message(error: BaseException) -> str:
    return str(error.args[0]) if error.args else str(error)


def _int_fault(error: BaseException | None) -> xmlrpc.client.Fault:
    """``xmlrpc_handle_exception_int``: the ``/xmlrpc/2`` fault of an exception."""
    assert error is not None
    if isinstance(error, OdooError):
        return xmlrpc.client.Fault(error.fault_code, _message(error))
    return xmlrpc.client.Fault(1, _format(error))


def _string_fault(error: BaseException | None) -> xmlrpc.client.Fault:
    # Odoo's legacy endpoint puts strings in faultCode, which typeshed types as int.
    """``xmlrpc_handle_exception_string``: the legacy ``/xmlrpc`` fault of an exception."""
    assert error is not None
    if isinstance(error, AccessDenied):
        return xmlrpc.client.Fault("AccessDenied", _message(error))  # type: ignore[arg-type]
    if isinstance(error, OdooError):
        kind = error.odoo_name.rsplit(".", 1)[-1]
        kind = "UserError" if kind == "ValidationError" else kind
        return xmlrpc.client.Fault(f"warning -- {kind}\n\n{_message(error)}", "")  # type: ignore[arg-type]
    return xmlrpc.client.Fault(str(error), _format(error))  # type: ignore[arg-type]


def _json_error(request_id: Any, error: BaseException) -> Response:
    data = {
        "name": _qualified_name(error),
        "debug": _format(error),
        "message": _message(error),
        "arguments": [str(argument) for argument in error.args],
        "context": {},
    }
    body = {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {"code": 200, "message": "Odoo Server Error", "data": data},
    }
    return JSONResponse(body)


def _xml(text: str) -> Response:
    return Response(text.encode("utf-8"), media_type=XMLRPC_CONTENT_TYPE)


def _ids(value: Any) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list | tuple) and all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        return list(value)
    raise TypeError(f"ids must be an id or a list of ids, not {value!r}")


_PARAMETERS: dict[str, frozenset[str]] = {}


def _parameters(function: Callable[..., Any]) -> frozenset[str]:
    name = getattr(function, "__name__", "")
    if name not in _PARAMETERS:
        _PARAMETERS[name] = frozenset(inspect.signature(function).parameters)
    return _PARAMETERS[name]


__all__ = [
    "ADMIN_API_KEY",
    "DEFAULT_DATABASE",
    "DEMO_API_KEY",
    "DEMO_RIGHTS",
    "FakeUser",
    "OdooFake",
    "RecordedCall",
]
