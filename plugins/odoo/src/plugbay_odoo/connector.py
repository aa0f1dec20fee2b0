"""The Odoo connector: tools and resources over one Odoo database.

Every call follows the same path: the access policy (is this model granted, for
this operation?), the checks of what the caller sent against the model's cached
fields (domain terms, field names, orders, groupings, values; sensitive fields
refused), one ``execute_kw`` over the instance's authenticated session, and the
answer passed back as Odoo sent it (dates as strings, ``False`` for empty values,
many2one as ``[id, name]``) minus any sensitive field.

The class is put together from one module per concern: :mod:`~plugbay_odoo.instance`
(the session's lifecycle and the checks every tool shares),
:mod:`~plugbay_odoo.discovery`, :mod:`~plugbay_odoo.reading`,
:mod:`~plugbay_odoo.writing` and :mod:`~plugbay_odoo.methods` (the tools), with
their arguments in :mod:`~plugbay_odoo.arguments` and their results in
:mod:`~plugbay_odoo.results`. This module adds ``server_info`` and the resources.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from plugbay import ToolError, resource, tool
from plugbay_odoo.arguments import MAX_LISTED_MODELS
from plugbay_odoo.discovery import ModelDiscovery
from plugbay_odoo.methods import BusinessMethods
from plugbay_odoo.reading import RecordReading
from plugbay_odoo.results import ModelDescription, ServerInfo
from plugbay_odoo.settings import MODEL_NAME
from plugbay_odoo.writing import RecordWriting

MAX_COMPLETIONS = 100
"""The most model names one completion offers."""


# The host lists a connector's components base by base, from the deepest base class
# to the class itself, so the bases are given last-first: the discovery tools come
# first, as they did when the connector was one class.
MAX_FACT_MODELS = 8
"""Granted models named in the line every tool description ends with."""


class OdooConnector(BusinessMethods, RecordWriting, RecordReading, ModelDiscovery):
    """Odoo 18: search, read, group and (when allowed) change records over the external API.

    Nothing is reachable until the operator grants models in the models setting, each
    with read, write, create or unlink; sensitive fields (passwords, tokens, keys) are
    never returned, searched or written; business methods run only when listed in
    allow_methods. Odoo's own access rights apply on top.
    """

    name = "odoo"
    uri_scheme = "odoo"

    def instance_facts(self) -> str:
        """The server, database and granted models, for tool descriptions."""
        # Only scheme, host and port: a URL's user information never reaches a model.
        server = urlsplit(self.settings.url)
        address = f"{server.scheme}://{server.hostname}" + (
            f":{server.port}" if server.port else ""
        )
        models = sorted(self.settings.models)
        shown = ", ".join(models[:MAX_FACT_MODELS]) or "none yet"
        more = f" and {len(models) - MAX_FACT_MODELS} more" if len(models) > MAX_FACT_MODELS else ""
        return (
            f"This instance: Odoo database {self.settings.database!r} at {address}; "
            f"granted models: {shown}{more}."
        )

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False, title="Server info")
    async def server_info(self) -> ServerInfo:
        """Show which Odoo server and database this instance uses, as whom, and what it may do."""
        client = self.client
        visible = await self._visible_models()
        listed = [info for info in visible if info.model in self.policy.listed]
        return {
            "url": self.settings.url,
            "database": self.settings.database,
            "username": self.settings.username,
            "uid": client.uid,
            "transport": self.settings.transport,
            "server_version": str(client.server_version.get("server_version", "")),
            "models": [self._summary(info) for info in listed],
            "allow_methods": list(self.settings.allow_methods),
        }

    # Resources -----------------------------------------------------------------------

    @resource("", name="models", title="Odoo models", mime_type="application/json")
    async def models_resource(self) -> dict[str, Any]:
        """The models this instance may use, each with the URIs of its schema and records."""
        models = sorted(await self._visible_models(), key=lambda info: info.model)
        base = f"{self.uri_scheme}://{self.instance}"
        return {
            "models": [
                {
                    **self._summary(info),
                    "schema": f"{base}/{info.model}",
                    "records": f"{base}/{info.model}/{{id}}",
                }
                for info in models[:MAX_LISTED_MODELS]
            ],
            "truncated": len(models) > MAX_LISTED_MODELS,
        }

    @resource(
        "{model}",
        name="model_schema",
        title="Model schema",
        mime_type="application/json",
        complete={"model": "complete_model"},
    )
    async def schema_resource(self, model: str) -> ModelDescription:
        """A model's fields and what this instance may do with it (as {tool:describe_model}).

        Args:
            model: The model's technical name, e.g. res.partner.
        """
        self._check_model_name(model)
        return await self.describe_model(model)

    @resource(
        "{model}/{id}",
        name="record",
        title="Odoo record",
        mime_type="application/json",
        complete={"model": "complete_model"},
    )
    async def record_resource(self, model: str, id: str) -> dict[str, Any]:
        """One record with its stored fields, as read returns it.

        Args:
            model: The model's technical name, e.g. res.partner.
            id: The record's id.
        """
        self._check_model_name(model)
        # Only the one spelling of a number: a server's policy decides on the URI, so
        # '07' or another script's digits may not name record 7 behind its back.
        if not (id.isascii() and id.isdigit()) or id.startswith("0"):
            raise ToolError(f"{id!r} is not a record id: the URI ends with a number")
        found = await self.read(model, [int(id)])
        return found["records"][0]

    async def complete_model(self, value: str, context: Mapping[str, str]) -> list[str]:
        """Complete a model name from the models this instance may use."""
        names = sorted(info.model for info in await self._visible_models())
        return [name for name in names if name.startswith(value)][:MAX_COMPLETIONS]

    @staticmethod
    def _check_model_name(model: str) -> None:
        if not MODEL_NAME.match(model):
            raise ToolError(f"{model!r} is not a model name such as res.partner")

    @classmethod
    def demo(cls) -> AbstractAsyncContextManager[Mapping[str, Any]]:
        """The bundled fake Odoo 18, with its sample company, on a loopback port."""
        return _demo()


DEMO_MODELS = {
    "res.partner": ["read", "write", "create"],
    "product.product": ["read"],
    "sale.order": ["read", "write", "create"],
    "sale.order.line": ["read"],
    "crm.lead": ["read", "write", "create"],
    "crm.stage": ["read"],
    "crm.tag": ["read"],
}
"""What the demo instance may do: the sample data's models, nothing destructive."""


@asynccontextmanager
async def _demo() -> AsyncIterator[Mapping[str, Any]]:
    # Imported here: the connector itself never needs the fake (plugbay-odoo[fake]).
    from plugbay.demo import serve_on_loopback
    from plugbay_odoo.fake import OdooFake

    fake = OdooFake()
    async with serve_on_loopback(fake.app) as url:
        fake.url = url
        yield fake.settings("admin", models=DEMO_MODELS)
