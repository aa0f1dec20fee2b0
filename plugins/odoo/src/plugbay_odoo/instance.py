"""One Odoo connector instance: its session's lifecycle and the checks every tool shares.

:class:`OdooInstance` opens the authenticated session and the schema cache, and gives
the tool groups (:mod:`~plugbay_odoo.discovery`, :mod:`~plugbay_odoo.reading`,
:mod:`~plugbay_odoo.writing`, :mod:`~plugbay_odoo.methods`) and the connector's
resources the path every call follows: the access policy, then the model's cached
fields, then the caller's arguments checked against them.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from typing import Any

import anyio

from plugbay import Connector, ToolError
from plugbay_odoo.access import AccessPolicy
from plugbay_odoo.channel import RestChannel
from plugbay_odoo.client import OdooClient
from plugbay_odoo.errors import ErrorContext
from plugbay_odoo.results import ModelSummary
from plugbay_odoo.schema import FieldInfo, ModelInfo, Schema
from plugbay_odoo.settings import PERMISSIONS, OdooSettings
from plugbay_odoo.transport import TRANSPORTS, Credentials
from plugbay_odoo.validation import check_domain

logger = logging.getLogger("plugbay_odoo")

WARM_MODELS = 50
"""Models of the ``models`` setting whose fields are fetched when the instance starts."""


class OdooInstance(Connector[OdooSettings]):
    """The session, the schema cache and the access policy of one Odoo instance.

    The tools live in the mixins that :class:`~plugbay_odoo.connector.OdooConnector`
    is made of; this class has none of its own.
    """

    def __init__(self, instance: str, settings: OdooSettings) -> None:
        super().__init__(instance, settings)
        self.policy = AccessPolicy(settings.models, settings.hidden_fields, instance)
        self._client: OdooClient | None = None
        self._schema: Schema | None = None

    # Lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the connection pool, authenticate once, and fetch the listed models' fields.

        A wrong URL, database or API key fails the start with a message saying which.
        """
        settings = self.settings
        channel = RestChannel(
            settings.url,
            timeout=settings.timeout,
            max_attempts=settings.max_attempts,
            max_connections=settings.max_connections,
            secrets=[settings.api_key.get_secret_value()],
        )
        credentials = Credentials(settings.database, settings.username, settings.api_key)
        transport = TRANSPORTS[settings.transport](channel, credentials)
        errors = ErrorContext(
            self.instance, settings.username, settings.database, settings.api_key.get_secret_value()
        )
        client = OdooClient(transport, errors, settings.context)
        try:
            await client.start()
        except ToolError as error:
            await client.aclose()
            raise RuntimeError(str(error)) from None
        self._client = client
        self._schema = Schema(client, settings.cache_ttl)
        if not settings.models:
            logger.warning(
                "odoo instance %s: the models setting is empty, so every model is refused; "
                'grant some under [connectors.%s.models], e.g. "res.partner" = ["read"]',
                self.instance,
                self.instance,
            )
        await self._warm()

    async def _warm(self) -> None:
        """Fetch the fields of the listed models now, and report the ones Odoo lacks."""
        schema = self.schema

        async def fetch(model: str) -> None:
            try:
                await schema.fields(model)
            except ToolError as error:
                logger.warning(
                    "odoo instance %s: model %s of the models setting: %s",
                    self.instance,
                    model,
                    error,
                )

        async with anyio.create_task_group() as group:
            for model in self.policy.listed[:WARM_MODELS]:
                group.start_soon(fetch, model)

    async def stop(self) -> None:
        """Close the connection pool."""
        client, self._client = self._client, None
        self._schema = None
        if client is not None:
            await client.aclose()

    async def check_health(self) -> None:
        """Raise if Odoo does not answer ``version``."""
        try:
            await self.client.version()
        except ToolError as error:
            raise RuntimeError(str(error)) from None

    def describe_state(self) -> Mapping[str, Any] | None:
        """The server version and the authenticated user id."""
        client = self._client
        if client is None:
            return None
        return {
            "server_version": client.server_version.get("server_version"),
            "uid": client.uid,
            "transport": self.settings.transport,
        }

    @property
    def client(self) -> OdooClient:
        """The session; available once :meth:`start` has run."""
        if self._client is None:
            raise ToolError(f"odoo instance {self.instance!r} is not running")
        return self._client

    @property
    def schema(self) -> Schema:
        """The cached models and fields; available once :meth:`start` has run."""
        if self._schema is None:
            raise ToolError(f"odoo instance {self.instance!r} is not running")
        return self._schema

    # Helpers -------------------------------------------------------------------------

    async def _fields(self, model: str) -> Mapping[str, FieldInfo]:
        """The fields of ``model``; a clear error for a model Odoo does not have."""
        cached = self.schema.cached_fields(model)
        if cached is not None:
            return cached
        models = await self._models_or_none()
        if models is not None and model not in models:
            raise ToolError(f"Odoo has no model {model!r}{self._suggest_model(model, models)}")
        return await self.schema.fields(model)

    async def _models_or_none(self) -> dict[str, ModelInfo] | None:
        try:
            return await self.schema.models()
        except ToolError:
            # A user who may not read ir.model can still use the models granted to it.
            return None

    def _suggest_model(self, model: str, models: Mapping[str, ModelInfo]) -> str:
        candidates = [name for name in models if self.policy.visible(name)]
        close = difflib.get_close_matches(model, candidates, n=1, cutoff=0.6)
        if close:
            return f"; did you mean {close[0]!r}?"
        return "; {tool:list_models} shows the models this instance may use"

    async def _prepare(self, model: str, operation: str) -> Mapping[str, FieldInfo]:
        self.policy.require(model, operation)
        return await self._fields(model)

    async def _domain(self, model: str, domain: list[Any] | None) -> list[Any]:
        return await check_domain(domain, model, self._fields, self.policy)

    def _clean(self, model: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """A record without hidden fields, whatever Odoo sent (defence in depth)."""
        return {
            name: value for name, value in row.items() if not self.policy.is_hidden(model, name)
        }

    def _limit(self, limit: int) -> int:
        return min(limit, self.settings.max_records)

    def _check_ids(self, ids: list[int]) -> list[int]:
        unique = list(dict.fromkeys(ids))
        if len(unique) > self.settings.max_records:
            raise ToolError(
                f"{len(unique)} ids are more than this instance handles in one call "
                f"(max_records = {self.settings.max_records}); split them into several calls"
            )
        return unique

    def _summary(self, info: ModelInfo) -> ModelSummary:
        permissions = self.policy.permissions(info.model)
        return {
            "model": info.model,
            "name": info.name,
            "permissions": [right for right in PERMISSIONS if right in permissions],
        }

    async def _visible_models(self) -> list[ModelInfo]:
        models = await self._models_or_none()
        if models is None:
            return [ModelInfo(name, name) for name in self.policy.listed]
        return [
            info
            for info in models.values()
            if self.policy.visible(info.model)
            and (not info.transient or info.model in self.policy.listed)
        ]
