"""The protocols of Odoo's external API, behind one interface.

:class:`OdooTransport` is what the rest of the connector uses: ``version``,
``authenticate`` (once; the user id is kept for the life of the instance) and
``execute_kw``. Two implementations share the session logic of
:class:`RpcTransport`:

* :class:`XmlRpcTransport`: ``/xmlrpc/2/common`` and ``/xmlrpc/2/object``, marshalled
  with the standard library's pure ``xmlrpc.client.dumps``/``loads`` (never the
  blocking ``ServerProxy``) and sent over the instance's pooled async HTTP channel;
* :class:`JsonRpcTransport`: the same services through ``/jsonrpc``.

Odoo 19's JSON-2 API (``POST /json/2/<model>/<method>`` with a bearer API key and
named arguments) fits the same interface as a third implementation: its
``authenticate`` has no password exchange (it would ask who the key belongs to),
and its ``execute_kw`` would send ``args[0]`` as ``ids`` and ``kwargs`` as the body.
That is why the connector passes every argument but record ids by name.
"""

from __future__ import annotations

import itertools
import json
import xmlrpc.client
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from xml.parsers.expat import ExpatError

import anyio
from pydantic import SecretStr

from plugbay_http import unknown_outcome
from plugbay_odoo.channel import HttpChannel
from plugbay_odoo.errors import OdooFault, OdooUnavailable, from_jsonrpc, from_xmlrpc

XMLRPC_CONTENT_TYPE = "text/xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who the instance acts as, on which database."""

    database: str
    username: str
    api_key: SecretStr


class OdooTransport(ABC):
    """One protocol of Odoo's external API, with the session it keeps.

    Args:
        channel: Sends the encoded requests.
        credentials: The database, login and API key.
    """

    name: ClassVar[str]

    def __init__(self, channel: HttpChannel, credentials: Credentials) -> None:
        self.channel = channel
        self.credentials = credentials
        self._uid: int | None = None
        self._login_lock = anyio.Lock()

    @property
    def uid(self) -> int | None:
        """The authenticated user's id, once :meth:`authenticate` has succeeded."""
        return self._uid

    @abstractmethod
    async def version(self) -> dict[str, Any]:
        """The server's version information (no authentication needed)."""

    @abstractmethod
    async def authenticate(self) -> int:
        """Check the credentials and remember the user id.

        Raises:
            OdooFault: ``access_denied`` when Odoo refuses them.
        """

    @abstractmethod
    async def execute_kw(
        self,
        model: str,
        method: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        *,
        idempotent: bool,
        check: str | None = None,
    ) -> Any:
        """Call ``model.method(*args, **kwargs)`` as the authenticated user.

        Args:
            model: The model's technical name.
            method: The method.
            args: Positional arguments: the record ids first for record methods.
            kwargs: Keyword arguments (``context`` included).
            idempotent: Whether the call changes nothing, so it may be sent again.
            check: For a write: how to find out whether it took effect, for the error
                when its outcome is unknown.

        Raises:
            OdooFault: Odoo reported an error.
            plugbay_http.HttpStatusError: Odoo, or a proxy, answered an HTTP error.
            plugbay_http.BackendUnavailable: Odoo could not be reached.
            OdooUnavailable: The answer is not one of Odoo's external API.
        """

    async def start(self) -> None:
        """Open the HTTP channel; call it before anything else."""
        await self.channel.start()

    async def aclose(self) -> None:
        """Close the HTTP channel."""
        await self.channel.aclose()


class RpcTransport(OdooTransport):
    """The session shared by the XML-RPC and JSON-RPC transports.

    ``authenticate`` runs once (concurrent first calls wait for the same login); every
    ``execute_kw`` then sends the user id with the API key, as both protocols require.
    """

    @abstractmethod
    async def call(
        self,
        service: str,
        method: str,
        params: Sequence[Any],
        *,
        idempotent: bool,
        check: str | None = None,
    ) -> Any:
        """Call ``method`` of the ``common`` or ``object`` service and return its result.

        An answer that is not one of the protocol's is an :class:`OdooUnavailable`;
        for a write (not ``idempotent``) its message says the call may have been
        carried out, and ``check``.
        """

    @staticmethod
    def _not_rpc(message: str, *, idempotent: bool, check: str | None) -> OdooUnavailable:
        if not idempotent:
            message += unknown_outcome("Odoo", "POST", check)
        return OdooUnavailable(message)

    async def version(self) -> dict[str, Any]:
        """``common.version()``."""
        result = await self.call("common", "version", [], idempotent=True)
        return dict(result) if isinstance(result, Mapping) else {"server_version": str(result)}

    async def authenticate(self) -> int:
        """``common.authenticate(db, login, key, {})``: the user id, or ``AccessDenied``."""
        credentials = self.credentials
        uid = await self.call(
            "common",
            "authenticate",
            [
                credentials.database,
                credentials.username,
                credentials.api_key.get_secret_value(),
                {},
            ],
            idempotent=True,
        )
        if isinstance(uid, bool) or not isinstance(uid, int) or uid <= 0:
            raise OdooFault("access_denied", "Access Denied", "odoo.exceptions.AccessDenied")
        self._uid = uid
        return uid

    async def _session_uid(self) -> int:
        if self._uid is not None:
            return self._uid
        async with self._login_lock:
            uid = self._uid
            return uid if uid is not None else await self.authenticate()

    async def execute_kw(
        self,
        model: str,
        method: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        *,
        idempotent: bool,
        check: str | None = None,
    ) -> Any:
        """``object.execute_kw(db, uid, key, model, method, args, kwargs)``."""
        uid = self._uid if self._uid is not None else await self._session_uid()
        credentials = self.credentials
        params = [
            credentials.database,
            uid,
            credentials.api_key.get_secret_value(),
            model,
            method,
            list(args),
            dict(kwargs),
        ]
        return await self.call("object", "execute_kw", params, idempotent=idempotent, check=check)


class XmlRpcTransport(RpcTransport):
    """Odoo's XML-RPC API: ``POST /xmlrpc/2/<service>``."""

    name = "xmlrpc"

    async def call(
        self,
        service: str,
        method: str,
        params: Sequence[Any],
        *,
        idempotent: bool,
        check: str | None = None,
    ) -> Any:
        """Marshal the call, send it, and unmarshal the answer or its fault."""
        body = xmlrpc.client.dumps(tuple(params), method, allow_none=True).encode("utf-8")
        path = f"/xmlrpc/2/{service}"
        answer = await self.channel.post(
            path, body, content_type=XMLRPC_CONTENT_TYPE, idempotent=idempotent, check=check
        )
        try:
            result, _method = xmlrpc.client.loads(answer, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            raise from_xmlrpc(fault.faultCode, fault.faultString) from None
        except (ExpatError, ValueError, TypeError, xmlrpc.client.ResponseError):
            raise self._not_rpc(
                f"The answer to POST {path} is not XML-RPC: check that the url setting points "
                "at an Odoo server.",
                idempotent=idempotent,
                check=check,
            ) from None
        return result[0] if result else None


class JsonRpcTransport(RpcTransport):
    """Odoo's JSON-RPC API: ``POST /jsonrpc`` with ``{"service", "method", "args"}``."""

    name = "jsonrpc"

    def __init__(self, channel: HttpChannel, credentials: Credentials) -> None:
        super().__init__(channel, credentials)
        self._ids = itertools.count(1)

    async def call(
        self,
        service: str,
        method: str,
        params: Sequence[Any],
        *,
        idempotent: bool,
        check: str | None = None,
    ) -> Any:
        """Send a JSON-RPC 2.0 ``call`` and return its ``result``, or raise its ``error``."""
        request_id = next(self._ids)
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(params)},
            "id": request_id,
        }
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        answer = await self.channel.post(
            "/jsonrpc", body, content_type=JSON_CONTENT_TYPE, idempotent=idempotent, check=check
        )
        try:
            reply = json.loads(answer)
        except ValueError:
            reply = None
        if not isinstance(reply, Mapping) or ("result" not in reply and "error" not in reply):
            raise self._not_rpc(
                "The answer to POST /jsonrpc is not JSON-RPC: check that the url setting "
                "points at an Odoo server.",
                idempotent=idempotent,
                check=check,
            )
        error = reply.get("error")
        if error is not None:
            raise from_jsonrpc(error if isinstance(error, Mapping) else {"message": str(error)})
        return reply.get("result")


TRANSPORTS: dict[str, type[RpcTransport]] = {
    XmlRpcTransport.name: XmlRpcTransport,
    JsonRpcTransport.name: JsonRpcTransport,
}
"""The transports by the name the ``transport`` setting uses."""
