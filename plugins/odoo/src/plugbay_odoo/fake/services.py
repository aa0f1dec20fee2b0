"""The RPC services, ``common`` and ``object``, dispatched to the ORM as Odoo's are."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from plugbay_odoo.fake.faults import (
    qualified_name,
)
from plugbay_odoo.fake.orm import (
    AccessDenied,
    AccessError,
)
from plugbay_odoo.fake.recording import (
    RecordedCall,
)
from plugbay_odoo.fake.state import ServerState
from plugbay_odoo.fake.users import (
    SERVER_VERSION,
)

MODEL_METHODS = frozenset(
    {"search", "search_read", "search_count", "create", "name_search", "read_group",
     "fields_get", "check_access_rights"}
)  # fmt: skip
"""ORM methods called on the model (``@api.model``): no record ids first."""
RECORD_METHODS = frozenset({"read", "write", "unlink"})
"""ORM methods called on records: the first argument is the ids."""


class OperationalError(Exception):
    """What psycopg2 raises for a database that does not exist."""


# Tracebacks and JSON-RPC errors name it as Odoo's would: psycopg2.OperationalError.
OperationalError.__module__ = "psycopg2"


class RpcServices(ServerState):
    """The ``common`` and ``object`` services (mixed into :class:`OdooFake`)."""

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
            if "context" in parameters_of(function):
                kwargs["context"] = context
            return function(model, *args, **kwargs)
        if method in RECORD_METHODS:
            if not args:
                raise TypeError(f"{method}() missing 1 required positional argument: 'ids'")
            ids = record_ids(args[0])
            return getattr(orm, method)(model, ids, *args[1:], **kwargs)
        business = model.methods.get(method)
        if business is None:
            raise AttributeError(f"The method '{model_name}.{method}' does not exist")
        ids = record_ids(args[0]) if args else []
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
                    error=qualified_name(error) if error is not None else None,
                )
            )
        return result, error


def record_ids(value: Any) -> list[int]:
    """The ids of a record method's first argument: one id or a list."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list | tuple) and all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        return list(value)
    raise TypeError(f"ids must be an id or a list of ids, not {value!r}")


_PARAMETERS: dict[str, frozenset[str]] = {}


def parameters_of(function: Callable[..., Any]) -> frozenset[str]:
    """The parameter names of an ORM method (cached by name)."""
    name = getattr(function, "__name__", "")
    if name not in _PARAMETERS:
        _PARAMETERS[name] = frozenset(inspect.signature(function).parameters)
    return _PARAMETERS[name]
