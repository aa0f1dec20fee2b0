"""What a connector's settings model says about each setting, for people to read.

``plugbay connectors``, ``plugbay init`` and ``docs/connectors.md`` all describe the
settings from the model itself (type hints, defaults, ``Field(description=...)``), so
what they print cannot drift from what the host validates.
"""

from __future__ import annotations

import json
import os
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretBytes, SecretStr

from plugbay.assembly import installed_connectors
from plugbay.config import Config, setting_variable
from plugbay.connector import Connector
from plugbay.plugins import PluginRegistry

_SCALARS: Mapping[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    SecretStr: "secret string",
    SecretBytes: "secret bytes",
}


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """One setting of a connector, as the documentation and ``plugbay init`` show it."""

    name: str
    type: str
    """A readable type: ``string``, ``list of path``, ``"xmlrpc" | "jsonrpc"``."""
    default: str | None
    """The default written as a TOML value, or ``None`` when there is none (or it is unset)."""
    required: bool
    secret: bool
    description: str
    example: str
    """A TOML value to put in a commented-out line when there is no default."""

    def variable(self, instance: str) -> str:
        """The environment variable that sets this setting of ``instance``."""
        return setting_variable(instance, self.name)


@dataclass(frozen=True, slots=True)
class ConnectorInfo:
    """One installed connector: its name, plugin, one-line description and settings."""

    name: str
    plugin: str
    distribution: str | None
    description: str
    settings: tuple[SettingInfo, ...]


def describe_connectors(registry: PluginRegistry, config: Config) -> list[ConnectorInfo]:
    """Every connector the loaded plugins register, sorted by name."""
    found = installed_connectors(registry, config)
    infos = []
    for name in sorted(found):
        plugin, cls = found[name]
        info = registry.plugins.get(plugin)
        infos.append(
            ConnectorInfo(
                name=name,
                plugin=plugin,
                distribution=info.distribution if info is not None else None,
                description=summary(cls),
                settings=tuple(describe_settings(cls.settings_model)),
            )
        )
    return infos


def summary(cls: type[Connector[Any]]) -> str:
    """The first line of the connector's docstring (empty when it has none)."""
    return cls.describe().split("\n", 1)[0].strip()


def describe_settings(model: type[BaseModel]) -> list[SettingInfo]:
    """Each field of ``model``, in declaration order."""
    settings = []
    for name, field in model.model_fields.items():
        default = None
        if not field.is_required():
            value = field.get_default(call_default_factory=True)
            default = None if value is None else toml_value(value)
        settings.append(
            SettingInfo(
                name=field.alias or name,
                type=type_label(field.annotation),
                default=default,
                required=field.is_required(),
                secret=_is_secret(field.annotation),
                description=" ".join((field.description or "").split()),
                example=default if default is not None else _example(field.annotation),
            )
        )
    return settings


def type_label(annotation: Any) -> str:
    """A readable name for a setting's type hint."""
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_label(arguments[0])
    if origin is Literal:
        return " | ".join(json.dumps(value) for value in arguments)
    if origin in (Union, types.UnionType):
        labels = [type_label(a) for a in arguments if a is not type(None)]
        return " | ".join(labels) + (" (optional)" if type(None) in arguments else "")
    if origin in (list, tuple, set, frozenset):
        return f"list of {type_label(arguments[0])}" if arguments else "list"
    if origin is dict:
        return f"table of {type_label(arguments[1])}" if len(arguments) == 2 else "table"
    if isinstance(annotation, type) and issubclass(annotation, os.PathLike):
        return "path"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    return getattr(annotation, "__name__", str(annotation))


def _is_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(_is_secret(argument) for argument in get_args(annotation))


def _example(annotation: Any) -> str:
    """A placeholder value of the right TOML type for a setting without a default."""
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _example(arguments[0])
    if origin is Literal:
        return toml_value(arguments[0])
    if origin in (Union, types.UnionType):
        return _example(next(a for a in arguments if a is not type(None)))
    if origin in (list, tuple, set, frozenset):
        return "[]"
    if origin is dict:
        return "{}"
    return {bool: "false", int: "0", float: "0.0"}.get(annotation, '""')


def toml_value(value: Any) -> str:
    """``value`` written as a TOML value (inline tables and arrays for containers)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | os.PathLike):
        # A JSON string with every non-ASCII character escaped is a valid TOML basic string.
        return json.dumps(os.fspath(value))
    if isinstance(value, SecretStr | SecretBytes):
        return '"**********"'
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, BaseModel):
        return toml_value(value.model_dump(mode="json"))
    return json.dumps(str(value))
