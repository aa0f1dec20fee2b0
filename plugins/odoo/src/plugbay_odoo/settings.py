"""The settings of one Odoo connector instance."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from plugbay import Settings

Permission = Literal["read", "write", "create", "unlink"]
"""What an instance may do with a model: the four rights Odoo's own ACLs know."""
TransportName = Literal["xmlrpc", "jsonrpc"]

PERMISSIONS: tuple[Permission, ...] = ("read", "write", "create", "unlink")
ALL_MODELS = "*"
"""The ``models`` key that stands for every model not listed by name."""
MODEL_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
METHOD_ENTRY = re.compile(r"^(?P<model>[a-z0-9_]+(?:\.[a-z0-9_]+)*)\.(?P<method>[A-Za-z]\w*)$")

DEFAULT_CACHE_TTL = 300.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RECORDS = 200


class OdooSettings(Settings):
    """Which Odoo database to reach, as whom, and what this instance may do there."""

    url: str = Field(
        description=(
            "The Odoo server's base URL, e.g. https://erp.example.com (the external API is "
            "at /xmlrpc/2/... and /jsonrpc below it)."
        ),
    )
    database: str = Field(min_length=1, description="The name of the Odoo database.")
    username: str = Field(
        min_length=1,
        description="The login of the Odoo user the instance acts as (a dedicated bot user "
        "with only the rights it needs is best).",
    )
    api_key: SecretStr = Field(
        description=(
            "The user's Odoo API key (Preferences > Account Security > New API Key), or its "
            'password. Set it from the environment: api_key = "${ODOO_API_KEY}" or '
            "PLUGBAY_<INSTANCE>__API_KEY. It never appears in errors, logs or results."
        ),
    )
    transport: TransportName = Field(
        default="xmlrpc",
        description="The protocol of Odoo's external API to use: xmlrpc (/xmlrpc/2) or "
        "jsonrpc (/jsonrpc).",
    )
    models: dict[str, list[Permission]] = Field(
        default_factory=dict,
        description=(
            'The models this instance may use and how: {"res.partner": ["read", "write"], '
            '"sale.order": ["read"]}. Rights are read, write, create and unlink. A model that '
            'is not listed cannot be used at all; "*" grants rights on every model not listed '
            "by name, except models that hold credentials (API keys, system parameters, mail "
            "server passwords), which must be listed by name. Odoo's own access rights apply "
            "on top."
        ),
    )
    allow_methods: list[str] = Field(
        default_factory=list,
        description=(
            'Business methods call_method may run, as "model.method" entries '
            '(e.g. "sale.order.action_confirm"). Empty: call_method is off.'
        ),
    )
    hidden_fields: list[str] = Field(
        default_factory=list,
        description=(
            "Fields never read, written or searched, on top of the built-in sensitive ones "
            '(passwords, tokens, keys, secrets): "field" on every model or "model.field".'
        ),
    )
    context: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description='Context sent with every call, e.g. {"lang": "fr_FR", "tz": "Europe/Paris"}.',
    )
    cache_ttl: float = Field(
        default=DEFAULT_CACHE_TTL,
        ge=0,
        le=24 * 3600,
        description="Seconds the list of models and each model's fields are kept before they "
        "are asked for again (0: every time).",
    )
    timeout: float = Field(
        default=DEFAULT_TIMEOUT,
        gt=0,
        le=600,
        description="Seconds to wait for Odoo to connect, accept a request or answer it.",
    )
    max_records: int = Field(
        default=DEFAULT_MAX_RECORDS,
        ge=1,
        le=10_000,
        description="The most records (or groups) one call returns or touches; larger "
        "limits are cut to it.",
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Tries per call, the first included, after a network failure or a "
        "502/503/504 answer. Only calls that change nothing are tried again.",
    )
    max_connections: int = Field(
        default=10,
        ge=1,
        le=200,
        description="How many HTTP connections to Odoo the instance keeps open at most.",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local server)")
        if "@" in value.split("://", 1)[1].split("/", 1)[0]:
            raise ValueError("leave credentials out of the URL; set username and api_key")
        return value

    @field_validator("models", "context", mode="before")
    @classmethod
    def _parse_json(cls, value: Any) -> Any:
        # From the environment, a table arrives as one JSON string.
        if isinstance(value, str):
            return json.loads(value)
        return value

    @field_validator("allow_methods", "hidden_fields", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]

    @field_validator("models")
    @classmethod
    def _check_models(cls, value: dict[str, list[Permission]]) -> dict[str, list[Permission]]:
        for name in value:
            if name != ALL_MODELS and not MODEL_NAME.match(name):
                raise ValueError(
                    f"{name!r} is not a model name; write technical names such as res.partner, "
                    'or "*" for every model'
                )
        return {name: sorted(set(rights), key=PERMISSIONS.index) for name, rights in value.items()}

    @field_validator("allow_methods")
    @classmethod
    def _check_methods(cls, value: list[str]) -> list[str]:
        for entry in value:
            match = METHOD_ENTRY.match(entry)
            if match is None:
                raise ValueError(
                    f"{entry!r} is not a model.method entry, e.g. sale.order.action_confirm"
                )
        return list(dict.fromkeys(value))

    @field_validator("hidden_fields")
    @classmethod
    def _check_hidden(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not MODEL_NAME.match(entry):
                raise ValueError(f"{entry!r} is not a field name or a model.field entry")
        return value
