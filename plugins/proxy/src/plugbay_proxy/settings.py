"""The settings of one proxy instance: how to reach its upstream and what of it to expose."""

from __future__ import annotations

import json
import os
import re
from typing import Any, Literal
from urllib.parse import urlsplit

from mcp_types import LoggingLevel
from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from plugbay import ConfigPath, Settings, resolve_setting_path

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ProxySettings(Settings):
    """One upstream MCP server, reached over stdio or streamable HTTP, and its filters."""

    command: str | None = Field(
        default=None,
        description=(
            "Run the upstream as this program and talk MCP over its standard input and "
            "output (stdio). Give either command or url. A bare name (npx, uvx) is looked "
            "up on PATH; a relative path (./bin/server) starts from the configuration "
            "file's folder."
        ),
    )
    args: list[str] = Field(
        default_factory=list, description="Arguments for command (stdio upstreams only)."
    )
    env: dict[str, SecretStr] = Field(
        default_factory=dict,
        description=(
            "Environment variables for command. The upstream inherits only a minimal safe "
            "set (HOME, PATH, ...) from plugbay; pass anything else here, e.g. "
            'GITHUB_TOKEN = "${GITHUB_TOKEN}".'
        ),
    )
    cwd: ConfigPath | None = Field(
        default=None,
        description=(
            "Working directory for command; plugbay's by default. A relative one starts "
            "from the configuration file's folder."
        ),
    )
    url: str | None = Field(
        default=None,
        description=(
            "Reach the upstream over streamable HTTP at this URL (http:// or https://). "
            "Give either command or url."
        ),
    )
    headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="HTTP headers sent with every request to url (values may use ${VAR}).",
    )
    bearer_token: SecretStr | None = Field(
        default=None,
        description=(
            'Sent as "Authorization: Bearer <token>" to url; usually "${SOME_VARIABLE}" '
            "so that the token stays in the environment."
        ),
    )
    protocol: Literal["auto", "legacy", "2026-07-28"] = Field(
        default="auto",
        description=(
            "The protocol era to speak upstream: auto (probe, then fall back to the "
            "handshake), legacy (the 2025-11-25 initialize handshake) or 2026-07-28."
        ),
    )
    allow: list[str] = Field(
        default_factory=list,
        description=(
            "Expose only what matches one of these patterns (fnmatch: *, ?, [abc]): tool and "
            "prompt names and resource URIs as the upstream names them. Empty: everything."
        ),
    )
    deny: list[str] = Field(
        default_factory=list,
        description="Never expose what matches one of these patterns (applied after allow).",
    )
    rename: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "New names for upstream tools and prompts, by upstream name; plugbay still "
            "adds the instance prefix."
        ),
    )
    descriptions: dict[str, str] = Field(
        default_factory=dict,
        description="Descriptions that replace the upstream's, by upstream tool or prompt name.",
    )
    paths: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            "The arguments of upstream tools that name resources, by upstream tool name "
            '(read_text_file = ["path"]): a [policy] decides on each as on reading '
            "<path_scheme>://<instance>/<absolute path>, or on the URI given. Relative "
            "paths are refused: the upstream's starting directory is not known."
        ),
    )
    trees: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            "As paths, for arguments naming a directory the tool walks (a search, a "
            "tree): allowed only when nothing beneath is denied."
        ),
    )
    path_scheme: str = Field(
        default="file",
        pattern=r"^[A-Za-z][A-Za-z0-9+.-]*$",
        description="The URI scheme that paths are decided under (see paths).",
    )
    connect_timeout: float = Field(
        default=15.0,
        gt=0,
        description=(
            "Seconds one connection attempt (start, handshake and listing) and each later "
            "listing or health probe may take."
        ),
    )
    start_wait: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Seconds plugbay's start-up waits for the first connection. After that it "
            "serves without this upstream's components; they appear once it connects."
        ),
    )
    reconnect_initial: float = Field(
        default=0.5, gt=0, description="Seconds before the first reconnection attempt."
    )
    reconnect_max: float = Field(
        default=30.0,
        gt=0,
        description="The longest wait between reconnection attempts (the backoff doubles to it).",
    )
    ping_interval: float = Field(
        default=15.0,
        ge=0,
        description=(
            "Seconds between health probes of an idle connection, so that an upstream that "
            "died quietly is noticed; 0 turns them off."
        ),
    )
    fast_calls: bool = Field(
        default=True,
        description=(
            "Send tool calls to a url upstream over plugbay's own lean HTTP path, which "
            "costs far less CPU than the MCP SDK client; false sends them through the SDK "
            "client like every other request."
        ),
    )
    forward_logs: bool = Field(
        default=True,
        description=(
            "Send the upstream's log messages on to the clients whose calls to it are in "
            "flight (they are always written to plugbay's own log)."
        ),
    )
    log_level: LoggingLevel = Field(
        default="info", description="The lowest level of upstream log messages to ask for."
    )

    @field_validator("args", "allow", "deny", mode="before")
    @classmethod
    def _list_from_text(cls, value: Any) -> Any:
        # PLUGBAY_<INSTANCE>__ARGS arrives as one string: a JSON list, else one item.
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [text]
        return value

    @field_validator("env", "headers", "rename", "descriptions", "paths", "trees", mode="before")
    @classmethod
    def _mapping_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value)
        return value

    @field_validator("command")
    @classmethod
    def _command_path(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A name without a separator is for PATH to find; only a path is resolved.
        if value is None or not any(sep in value for sep in {"/", os.sep}):
            return value
        return str(resolve_setting_path(value, info))

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, secret in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not an HTTP header name")
            if any(character in secret.get_secret_value() for character in "\r\n\0"):
                raise ValueError(f"the value of header {name!r} has a line break or NUL")
        return value

    @field_validator("env")
    @classmethod
    def _check_env(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name in value:
            if not _VARIABLE_NAME.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return value

    @field_validator("bearer_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and any(c in value.get_secret_value() for c in "\r\n\0 "):
            raise ValueError("may not contain spaces, line breaks or NUL")
        return value

    @model_validator(mode="after")
    def _one_transport(self) -> ProxySettings:
        if (self.command is None) == (self.url is None):
            raise ValueError(
                "give either command (a stdio upstream) or url (a streamable HTTP upstream)"
            )
        if self.url is None and (self.headers or self.bearer_token is not None):
            raise ValueError("headers and bearer_token apply to url upstreams only")
        if self.command is None and (self.args or self.env or self.cwd is not None):
            raise ValueError("args, env and cwd apply to command upstreams only")
        return self

    @property
    def target(self) -> str:
        """The upstream, for messages: the command or the URL (never a secret)."""
        if self.command is not None:
            return self.command
        assert self.url is not None
        return _without_userinfo(self.url)


def _without_userinfo(url: str) -> str:
    """The URL without credentials or query string, which may hold secrets."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
