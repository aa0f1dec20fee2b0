"""Reading ``plugbay.toml``, ``.env`` and the environment into one configuration.

Precedence, lowest first: the connector's defaults, ``plugbay.toml`` (where
``${VAR}`` and ``${VAR:-default}`` are replaced from the environment), then
``PLUGBAY_<INSTANCE>__<SETTING>`` variables (``PLUGBAY_SERVER__<KEY>`` for
``[server]``). A ``${VAR}`` that is not set is an error only when no such variable
gives the setting instead. The environment is the process environment laid over the
``.env`` file beside the configuration file (or in the current directory when there
is none).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_origin

from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from plugbay.errors import ConfigError
from plugbay.network import split_authority
from plugbay.setting_paths import ConfigPath, settings_context

CONFIG_ENV = "PLUGBAY_CONFIG"
DEFAULT_CONFIG_NAME = "plugbay.toml"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
INSTANCE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
"""What a connector instance may be called (it prefixes the names of its components)."""
SERVER_PREFIX = "PLUGBAY_SERVER__"
"""``PLUGBAY_SERVER__<KEY>`` sets ``[server] <key>``, so no instance may be called ``server``."""


def setting_variable(instance: str, setting: str) -> str:
    """The environment variable that sets ``setting`` of connector instance ``instance``.

    ``PLUGBAY_<INSTANCE>__<SETTING>`` in upper case, ``-`` in the instance name read as
    ``_``: ``setting_variable("my-erp", "api_key")`` is ``PLUGBAY_MY_ERP__API_KEY``.
    Name it in error messages that tell an operator what to set.
    """
    return f"PLUGBAY_{instance.upper().replace('-', '_')}__{setting.upper()}"


class ServerConfig(BaseModel):
    """The ``[server]`` table: how the assembled server presents itself and listens."""

    model_config = ConfigDict(extra="forbid")

    name: str = "plugbay"
    instructions: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    path: str = "/mcp"
    stateless: bool = False
    json_response: bool = False
    legacy_sse: bool = True
    websocket: bool = True
    """Serve MCP over WebSocket at ``/ws`` (subprotocol ``mcp``), behind the same
    authentication and checks as ``path``."""
    call_timeout: float | None = Field(default=120.0, gt=0)
    sync_workers: int = Field(default=8, ge=1)
    """Worker threads per connector instance for its sync tools, resources and prompts;
    more calls wait for a free one (see :mod:`plugbay.threads`)."""
    max_abandoned_threads: int = Field(default=8, ge=1)
    """Threads of timed-out sync calls an instance may have still running; past that its
    sync calls are refused at once until one returns."""
    page_size: int = Field(default=200, ge=1)
    list_unavailable_tools: bool = False
    """List tools that cannot work on their instance (``@tool(requires=...)`` whose setting
    is false there, such as writes on a read-only instance); by default they are left out."""
    max_request_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    allowed_hosts: list[str] = Field(default_factory=list)
    workers: int = Field(default=1, ge=1)
    """Worker processes for HTTP; more than one implies stateless mode."""
    event_store: None = Field(default=None, exclude=True, repr=False)
    """Moved in 0.2 to plugbay-redis's ``[redis]`` table; named here for a clear error
    (as are ``event_store_ttl`` and ``event_store_max_events``)."""
    event_store_ttl: None = Field(default=None, exclude=True, repr=False)
    event_store_max_events: None = Field(default=None, exclude=True, repr=False)
    sse_retry_ms: int | None = Field(default=None, ge=0)
    """The reconnection delay suggested to clients in resumable SSE streams."""
    relay_lane: None = Field(default=None, exclude=True, repr=False)
    """Removed in 0.2: named here only so that a configuration setting it gets a clear
    error (every call takes the SDK's path now)."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Reverse proxies (addresses or networks) whose ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` are believed; from anyone else those headers are ignored."""
    header_timeout: float = Field(default=10.0, gt=0)
    """Seconds a connection may take to send a request's headers (counted from when it
    opens or its previous request ends); then it is closed."""
    body_timeout: float = Field(default=30.0, gt=0)
    """Seconds a request may take to send its body; then it gets ``408`` and is closed."""
    max_connections: int = Field(default=1000, ge=1)
    """Open HTTP connections at most; more are closed as they arrive."""
    shutdown_grace: float = Field(default=30.0, ge=0)
    """Seconds calls in flight may take to finish once the server is told to stop; new
    calls are refused meanwhile (see :mod:`plugbay.hosting.shutdown`)."""
    retry_initial: float = Field(default=1.0, gt=0)
    """Seconds before the first new start of an instance that failed to start; each
    further wait doubles, with jitter (see :mod:`plugbay.retrying`)."""
    retry_max: float = Field(default=60.0, gt=0)
    """The longest wait, in seconds, between two starts of a failed instance."""
    strict: bool = False
    """Refuse to start on any plugin or instance problem, or a failed start (``--strict``)."""
    allow_unauthenticated: bool = False
    """Serve HTTP on a non-loopback address with no authentication backend
    (``--allow-unauthenticated``): only where the network or a proxy authenticates."""
    ssl_certfile: ConfigPath | None = None
    """A PEM certificate (chain) to serve HTTPS with (``--ssl-certfile``); see ``ssl_keyfile``."""
    ssl_keyfile: ConfigPath | None = None
    """The certificate's PEM private key (``--ssl-keyfile``)."""
    ssl_keyfile_password: SecretStr | None = None
    """The password of an encrypted ``ssl_keyfile``."""

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts_are_authorities(cls, value: list[str]) -> list[str]:
        for entry in value:
            if split_authority(entry.removesuffix(":*")) is None:
                raise ValueError(
                    f"{entry!r} is not a host name or address with an optional port "
                    "(mcp.example.com, mcp.example.com:8443, mcp.example.com:*, [::1]:*)"
                )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return value

    @field_validator("relay_lane", mode="before")
    @classmethod
    def _relay_lane_was_removed(cls, value: object) -> None:
        raise ValueError("relay_lane was removed in 0.2; delete this setting")

    @field_validator("event_store", "event_store_ttl", "event_store_max_events", mode="before")
    @classmethod
    def _event_store_moved(cls, value: object, info: ValidationInfo) -> None:
        key = {"event_store": "url", "event_store_ttl": "ttl"}.get(
            str(info.field_name), "max_events"
        )
        raise ValueError(
            f"moved in 0.2: install plugbay-redis and set [redis] {key} (see its README)"
        )


@dataclass(frozen=True, slots=True)
class InstanceConfig:
    """One ``[connectors.<name>]`` table."""

    name: str
    plugin: str
    values: dict[str, Any]
    missing_variables: tuple[str, ...] = ()
    """``${VAR}`` references that are not set (and have no default)."""
    call_timeout: float | None = None
    """The instance's own ``call_timeout`` (seconds), overriding ``[server] call_timeout``."""
    sync_workers: int | None = None
    """The instance's own ``sync_workers``, overriding ``[server] sync_workers``."""


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, as read; connector settings are validated at assembly."""

    server: ServerConfig = field(default_factory=ServerConfig)
    instances: tuple[InstanceConfig, ...] | None = None
    """``None`` when no ``[connectors]`` table exists: every connector that needs no
    settings then runs as one instance named after the connector."""
    environ: Mapping[str, str] = field(default_factory=dict)
    source: Path | None = None
    plugins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The ``[plugins.<name>]`` tables: settings of plugins that are not connectors."""
    tables: Mapping[str, Any] = field(default_factory=dict)
    """The top-level tables plugins claimed (``register_config_tables``), validated by
    their models; see :meth:`table`."""
    raw_tables: Mapping[str, Any] = field(default_factory=dict)
    """The file's other top-level tables as written, before a plugin claims and
    validates them (:func:`plugbay.tables.claim_tables`)."""

    def table(self, name: str) -> Any:
        """The validated ``[name]`` table a plugin claimed; ``None`` when the file has none."""
        return self.tables.get(name)

    def plugin_table(self, name: str) -> Mapping[str, Any]:
        """The ``[plugins.<name>]`` table (``${VAR}`` already replaced), empty when absent."""
        return self.plugins.get(name, {})

    def env_overrides(self, instance: str) -> dict[str, str]:
        """Settings given as ``PLUGBAY_<INSTANCE>__<SETTING>`` variables."""
        prefix = setting_variable(instance, "")
        return {
            key[len(prefix) :].lower(): value
            for key, value in self.environ.items()
            if key.startswith(prefix)
        }

    def settings_context(self, instance: str) -> dict[str, Any]:
        """The validation context of ``instance``'s settings, for path settings.

        Relative :data:`plugbay.ConfigPath` values start from the configuration
        file's folder, those from ``PLUGBAY_*`` variables from the working directory.
        """
        base = self.source.parent if self.source is not None else None
        return settings_context(base, self.env_overrides(instance))


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The configuration file: the given one, ``$PLUGBAY_CONFIG``, else ``./plugbay.toml``."""
    if explicit is not None:
        return Path(explicit)
    if from_env := os.environ.get(CONFIG_ENV):
        return Path(from_env)
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.is_file() else None


def load_config(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> Config:
    """Read the configuration.

    Args:
        path: The TOML file; found with :func:`find_config_file` when ``None``. With no
            file at all the embedded defaults apply.
        environ: The environment to use instead of ``os.environ`` and ``.env``.

    Returns:
        The configuration.

    Raises:
        ConfigError: With every problem found: unreadable file, invalid TOML, bad
            ``[server]`` values, malformed ``[connectors]`` tables.
    """
    source = find_config_file(path)
    if environ is None:
        dotenv_dir = source.parent if source is not None else Path.cwd()
        dotenv = {k: v for k, v in dotenv_values(dotenv_dir / ".env").items() if v is not None}
        environ = {**dotenv, **os.environ}
    if source is None:
        return parse_config({}, environ=environ)  # PLUGBAY_SERVER__* still apply
    try:
        document = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{source}: no such configuration file"]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([f"{source}: cannot read it ({error})"]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{source}: not valid TOML: {error}"]) from None
    return parse_config(document, environ=environ, source=source)


def parse_config(
    document: Mapping[str, Any], *, environ: Mapping[str, str], source: Path | None = None
) -> Config:
    """Build a :class:`Config` from a parsed TOML document; see :func:`load_config`."""
    where = str(source) if source else "configuration"
    problems: list[str] = []
    base = source.parent if source is not None else None
    server = _read_server(document.get("server", {}), where, environ, problems, base)
    raw_tables = {name: table for name, table in document.items() if name not in _HOST_TABLES}
    instances: tuple[InstanceConfig, ...] | None = None
    if "connectors" in document:
        instances = tuple(_read_instances(document["connectors"], where, environ, problems))
    plugins = document.get("plugins", {})
    if not isinstance(plugins, dict) or not all(isinstance(t, dict) for t in plugins.values()):
        problems.append(f"{where}: [plugins] must hold one [plugins.<name>] table per plugin")
        plugins = {}
    if problems:
        raise ConfigError(problems)
    return Config(
        server=server,
        instances=instances,
        environ=environ,
        source=source,
        plugins=_interpolate(plugins, environ, []),
        raw_tables=raw_tables,
    )


_HOST_TABLES = frozenset({"server", "connectors", "plugins"})
"""The tables the host reads itself; every other one belongs to a plugin."""


def _read_server(
    table: Any,
    where: str,
    environ: Mapping[str, str],
    problems: list[str],
    base: Path | None = None,
) -> ServerConfig:
    """``[server]`` with ``PLUGBAY_SERVER__<KEY>`` variables laid over the file's keys."""
    if not isinstance(table, dict):
        problems.append(f"{where}: [server] must be a table")
        return ServerConfig()
    overrides = {
        key[len(SERVER_PREFIX) :].lower(): (key, value)
        for key, value in environ.items()
        if key.startswith(SERVER_PREFIX)
    }
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key in overrides:
            continue  # the variable wins, so the file's ${VAR}s need not be set
        missing: list[str] = []
        values[key] = _interpolate(raw, environ, missing)
        problems.extend(
            f"{where}: [server] {key}: the environment variable {variable} is not set"
            for variable in dict.fromkeys(missing)
        )
    values.update({key: _from_variable(key, value) for key, (_, value) in overrides.items()})
    try:
        # Relative paths (ssl_certfile) start from the file's folder, a variable's from
        # the working directory.
        return ServerConfig.model_validate(values, context=settings_context(base, overrides))
    except ValidationError as error:
        for item in error.errors(include_input=False, include_url=False):
            first = str(item["loc"][0]) if item["loc"] else ""
            if first in overrides:
                message = validation_line({**item, "loc": item["loc"][1:]})
                problems.append(f"{overrides[first][0]}: {message}")
            else:
                problems.append(f"{where}: [server] {validation_line(item)}")
        return ServerConfig()


def _from_variable(key: str, value: str) -> Any:
    """An environment variable's text as the ``[server]`` key ``key`` takes it.

    Numbers and booleans stay text for pydantic to read (``8080``, ``true``); a list
    (``allowed_hosts``) is a JSON list (``["a", "b"]``) or comma-separated (``a,b``).
    """
    field_info = ServerConfig.model_fields.get(key)
    if field_info is None or get_origin(field_info.annotation) is not list:
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return value  # pydantic then says it is not a valid list
    return [part.strip() for part in text.split(",") if part.strip()]


def read_table(
    document: Mapping[str, Any],
    name: str,
    model: type[BaseModel],
    where: str,
    environ: Mapping[str, str],
    context: dict[str, Any],
    problems: list[str],
) -> Any:
    """One table validated by its model; its problems are added with their location.

    Returns:
        The validated model, or ``None`` when the table is absent or invalid.
    """
    if name not in document:
        return None
    missing: list[str] = []
    values = _interpolate(document[name], environ, missing)
    problems.extend(
        f"{where}: [{name}] the environment variable {variable} is not set"
        for variable in dict.fromkeys(missing)
    )
    try:
        return model.model_validate(values, context=context)
    except ValidationError as error:
        problems.extend(f"{where}: [{name}] {line}" for line in validation_messages(error))
        return None


def _read_instances(
    tables: Any, where: str, environ: Mapping[str, str], problems: list[str]
) -> list[InstanceConfig]:
    if not isinstance(tables, dict):
        problems.append(f"{where}: [connectors] must be a table of [connectors.<name>] tables")
        return []
    instances = []
    for name, table in tables.items():
        location = f"{where}: [connectors.{name}]"
        if not INSTANCE_NAME.match(name):
            problems.append(
                f"{location}: instance names start with a letter and use only letters, "
                "digits, '_' and '-' (at most 40 characters)"
            )
            continue
        if setting_variable(name, "") == SERVER_PREFIX:
            problems.append(
                f"{location}: the name {name!r} is reserved (PLUGBAY_SERVER__<KEY> "
                "variables set [server]); call the instance something else"
            )
            continue
        if not isinstance(table, dict):
            problems.append(f"{location} must be a table")
            continue
        values = dict(table)
        plugin = values.pop("plugin", name)
        if not isinstance(plugin, str):
            problems.append(f"{location}: 'plugin' must be a connector name")
            continue
        call_timeout = values.pop("call_timeout", None)
        if call_timeout is not None and (
            isinstance(call_timeout, bool)
            or not isinstance(call_timeout, int | float)
            or call_timeout <= 0
        ):
            problems.append(f"{location}: 'call_timeout' must be a number of seconds above 0")
            continue
        sync_workers = values.pop("sync_workers", None)
        if sync_workers is not None and (
            isinstance(sync_workers, bool) or not isinstance(sync_workers, int) or sync_workers < 1
        ):
            problems.append(f"{location}: 'sync_workers' must be a whole number of at least 1")
            continue
        # A setting given by PLUGBAY_<INSTANCE>__<SETTING> replaces the file's value, so
        # the ${VAR}s in that value need not be set.
        prefix = setting_variable(name, "")
        overridden = {key[len(prefix) :].lower() for key in environ if key.startswith(prefix)}
        missing: list[str] = []
        values = {
            key: _interpolate(value, environ, [] if key.lower() in overridden else missing)
            for key, value in values.items()
        }
        instances.append(
            InstanceConfig(
                name,
                plugin,
                values,
                tuple(dict.fromkeys(missing)),
                float(call_timeout) if call_timeout is not None else None,
                sync_workers,
            )
        )
    return instances


def _interpolate(value: Any, environ: Mapping[str, str], missing: list[str]) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string of ``value``."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            missing.append(name)
            return ""

        return _VARIABLE.sub(replace, value)
    if isinstance(value, dict):
        return {key: _interpolate(item, environ, missing) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, environ, missing) for item in value]
    return value


def validation_messages(error: ValidationError) -> list[str]:
    """One readable line per pydantic error, with its location and without the input value.

    Input values are left out on purpose: they may be secrets.
    """
    return [validation_line(item) for item in error.errors(include_input=False, include_url=False)]


def validation_line(item: Mapping[str, Any]) -> str:
    """``location: message`` for one pydantic error; a model-wide error has no location."""
    message = str(item["msg"]).removeprefix("Value error, ")
    location = ".".join(str(part) for part in item["loc"])
    return f"{location}: {message}" if location else message
