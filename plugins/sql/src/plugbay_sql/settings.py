"""The settings of one SQL connector instance, and the database URL they describe."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from plugbay import Settings, resolve_setting_path

DEFAULT_ROW_LIMIT = 500
DEFAULT_STATEMENT_TIMEOUT = 30.0
DEFAULT_MAX_CELL_BYTES = 4096
DEFAULT_MAX_RESULT_BYTES = 8 * 2**20
DEFAULT_MAX_STATEMENT_BYTES = 100_000
MAX_STATEMENT_BYTES = 1_000_000
"""The ceiling of ``max_statement_bytes`` (and of the tools' ``sql`` argument)."""
DEFAULT_POOL_SIZE = 5

ASYNC_DRIVERS = {
    "postgresql": ("asyncpg",),
    "mysql": ("aiomysql", "asyncmy"),
    "mariadb": ("aiomysql", "asyncmy"),
    "sqlite": ("aiosqlite",),
}
"""The asyncio drivers each supported database may use; the first is the default."""
_ALIASES = {"postgres": "postgresql"}


def normalize_url(text: str) -> URL:
    """Parse a database URL and give it an asyncio driver (``postgresql://`` -> ``+asyncpg``).

    Raises:
        ValueError: The URL does not parse, names an unsupported database or driver,
            or carries a password. Messages never repeat the URL.
    """
    try:
        url = make_url(text.strip())
    except ArgumentError:
        raise ValueError(
            "not a database URL; write it as SQLAlchemy does, e.g. "
            "postgresql://app@127.0.0.1/shop or sqlite:///data/shop.db"
        ) from None
    if url.password is not None:
        raise ValueError(
            "the URL contains a password: leave it out of the URL and set the password "
            'setting (from the environment, e.g. password = "${DB_PASSWORD}")'
        )
    backend = _ALIASES.get(url.get_backend_name(), url.get_backend_name())
    drivers = ASYNC_DRIVERS.get(backend)
    if drivers is None:
        supported = ", ".join(sorted(ASYNC_DRIVERS))
        raise ValueError(f"unsupported database {backend!r}; supported: {supported}")
    driver = url.get_driver_name() if "+" in url.drivername else drivers[0]
    if driver not in drivers:
        raise ValueError(
            f"the driver {driver!r} is not an asyncio driver for {backend}; "
            f"use {backend}+{drivers[0]}"
        )
    return url.set(drivername=f"{backend}+{driver}")


def _sqlite_file(rest: str, info: ValidationInfo) -> str:
    """The part after ``sqlite://`` with a relative database file made absolute.

    The file starts from the configuration file's folder, as every path setting does
    (:func:`plugbay.resolve_setting_path`); ``~`` expands. An in-memory database
    (``sqlite://``, ``sqlite:///:memory:``) and a ``file:`` URI filename stay as written.
    """
    if not rest.startswith("/"):
        return rest
    database, separator, query = rest[1:].partition("?")
    if not database or database == ":memory:" or database.startswith("file:"):
        return rest
    return f"/{resolve_setting_path(database, info)}{separator}{query}"


class SqlSettings(Settings):
    """Which database to reach, with what rights and limits."""

    url: str = Field(
        description=(
            "The SQLAlchemy URL of the database, without its password: "
            "postgresql://app@127.0.0.1/shop, mariadb://app@127.0.0.1/shop or "
            "sqlite:///data/shop.db. The asyncio driver (asyncpg, aiomysql, aiosqlite) is "
            "added when the URL names none. A relative SQLite file starts from the "
            "configuration file's folder (the working directory when the URL comes from "
            "PLUGBAY_<INSTANCE>__URL); sqlite:////abs/shop.db is absolute, ~ expands."
        ),
    )
    password: SecretStr | None = Field(
        default=None,
        description=(
            "The database password. Set it from the environment (password = "
            '"${DB_PASSWORD}" or PLUGBAY_<INSTANCE>__PASSWORD); it never appears in '
            "errors, logs or tool results."
        ),
    )
    allow_writes: bool = Field(
        default=False,
        description=(
            "Enable the execute tool (INSERT, UPDATE, DELETE, DDL). Without it execute is not "
            "listed and the instance is read-only, enforced by the database: read-only "
            "transactions and sessions, SQLite files opened read-only."
        ),
    )
    create: bool = Field(
        default=False,
        description=(
            "SQLite only, with allow_writes: create the database file, empty, when it does "
            "not exist. Without it, a missing file stops the instance from starting, with "
            "an error naming the path (a mistyped path would otherwise serve an empty "
            "database)."
        ),
    )
    row_limit: int = Field(
        default=DEFAULT_ROW_LIMIT,
        ge=1,
        le=100_000,
        description=(
            "The most rows one call returns (a call may ask for fewer); longer results are "
            "cut off and marked truncated."
        ),
    )
    statement_timeout: float = Field(
        default=DEFAULT_STATEMENT_TIMEOUT,
        gt=0,
        le=24 * 3600,
        description=(
            "Seconds one statement may run before the database cancels it "
            "(PostgreSQL statement_timeout, MariaDB max_statement_time, MySQL "
            "max_execution_time, an interrupt in SQLite)."
        ),
    )
    max_cell_bytes: int = Field(
        default=DEFAULT_MAX_CELL_BYTES,
        ge=16,
        description="Longer values (text, binary, JSON) are cut to this many bytes in results.",
    )
    max_result_bytes: int = Field(
        default=DEFAULT_MAX_RESULT_BYTES,
        ge=64 * 1024,
        le=2**30,
        description=(
            "A query stops reading rows once their values (cut to max_cell_bytes) add up "
            "to about this many bytes, and says truncated, as at the row limit."
        ),
    )
    max_statement_bytes: int = Field(
        default=DEFAULT_MAX_STATEMENT_BYTES,
        ge=1000,
        le=MAX_STATEMENT_BYTES,
        description=(
            "Longer statements (UTF-8 bytes) are refused before they are parsed: "
            "checking a statement costs CPU time that grows with its length."
        ),
    )
    schemas: list[str] | None = Field(
        default=None,
        description=(
            "The schemas (MariaDB/MySQL: databases) that listings, descriptions and "
            "resources show; all non-system ones when unset. This narrows what is offered, "
            "it is not access control: grant the database user only what it may read."
        ),
    )
    read_only_role: str | None = Field(
        default=None,
        description=(
            "PostgreSQL only: a role that every read-only transaction switches to "
            "(SET LOCAL ROLE), e.g. one granted pg_read_all_data and nothing else."
        ),
    )
    refuse_privileged_account: bool = Field(
        default=False,
        description=(
            "Refuse to start when the database account may do more than the instance "
            "needs (on a read-only instance: write, create, or reach server files, "
            "programs or other sessions; with allow_writes: reach the server). Without "
            "it, such an account is a warning in the log naming the grants to drop."
        ),
    )
    pool_size: int = Field(
        default=DEFAULT_POOL_SIZE,
        ge=1,
        le=100,
        description="How many connections the instance keeps open at most.",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str, info: ValidationInfo) -> str:
        url = normalize_url(value)
        # Only the scheme changes: rendering the whole URL again would percent-encode
        # the rest (sqlite:///:memory: would read sqlite:///%3Amemory%3A).
        _scheme, _separator, rest = value.strip().partition("://")
        if url.get_backend_name() == "sqlite":
            rest = _sqlite_file(rest, info)
        return f"{url.drivername}://{rest}"

    @field_validator("schemas", mode="before")
    @classmethod
    def _split_schemas(cls, value: Any) -> Any:
        # Environment variables arrive as one string: a JSON list or a comma-separated one.
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]

    @model_validator(mode="after")
    def _check_role(self) -> SqlSettings:
        if self.read_only_role is not None and self.backend != "postgresql":
            raise ValueError("read_only_role is only supported with PostgreSQL")
        if self.create and self.backend != "sqlite":
            raise ValueError(
                "create is only supported with SQLite; create the database on the server"
            )
        if self.create and not self.allow_writes:
            raise ValueError(
                "create needs allow_writes = true: a read-only instance opens an existing "
                "SQLite file only"
            )
        return self

    @property
    def backend(self) -> str:
        """``postgresql``, ``mysql``, ``mariadb`` or ``sqlite``."""
        return make_url(self.url).get_backend_name()

    def engine_url(self) -> URL:
        """The URL to connect with: ``url`` plus the password."""
        url = make_url(self.url)
        if self.password is not None:
            url = url.set(password=self.password.get_secret_value())
        return url
