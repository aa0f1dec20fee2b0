"""Connectors: configurable backends that contribute tools, resources and prompts."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict

from plugboard.components import prompt_spec, resource_spec, tool_spec


class Settings(BaseModel):
    """Base class for connector settings.

    Declare every setting with a type and, where sensible, a default. Secrets are
    ``pydantic.SecretStr`` so they never print. Unknown keys are rejected so that a
    misspelled setting in ``plugboard.toml`` is reported instead of ignored.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoSettings(Settings):
    """Settings of a connector that needs none."""


SettingsT = TypeVar("SettingsT", bound=Settings)


class Connector(Generic[SettingsT]):
    """A backend that users configure as one or more named instances.

    Subclass it with your settings model as the type argument, give it a ``name``,
    and mark methods with :func:`plugboard.tool`, :func:`plugboard.resource` and
    :func:`plugboard.prompt`::

        class NotesConnector(Connector[NotesSettings]):
            \"\"\"Keep notes in a directory.\"\"\"

            name = "notes"

            @tool(read_only=True)
            async def list_notes(self) -> list[str]:
                \"\"\"List the notes.\"\"\"

    The host creates one object per configured instance, calls :meth:`start` before
    serving and :meth:`stop` at shutdown.

    Attributes:
        name: The connector's name, used as ``plugin = "<name>"`` in
            ``plugboard.toml`` and as the default instance name.
        settings_model: The pydantic model of the settings; taken from the type
            argument when not set.
        uri_scheme: The scheme of the connector's resource URIs; defaults to ``name``.
        instance: This instance's name; tools are exposed as ``<instance>_<tool>``.
        settings: This instance's validated settings.
    """

    name: ClassVar[str]
    settings_model: ClassVar[type[Settings]] = NoSettings
    uri_scheme: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "settings_model" in cls.__dict__:
            return
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is Connector:
                (argument,) = get_args(base)
                if isinstance(argument, type) and issubclass(argument, Settings):
                    cls.settings_model = argument

    def __init__(self, instance: str, settings: SettingsT) -> None:
        self.instance = instance
        self.settings = settings

    async def start(self) -> None:
        """Open pools and clients. Called once before the server accepts calls.

        Raise to report that this instance cannot start; the others still serve.
        """

    async def stop(self) -> None:
        """Close what :meth:`start` opened. Called once at shutdown, even after errors."""

    async def check_health(self) -> None:
        """Raise if the backend is unreachable. Used by readiness checks."""

    @classmethod
    def describe(cls) -> str:
        """The connector's description: the first paragraph of its docstring."""
        # Not inspect.getdoc: it would give an undocumented connector Connector's own docstring.
        doc = inspect.cleandoc(cls.__doc__ or "")
        return doc.split("\n\n", 1)[0].strip()

    @classmethod
    def members(cls) -> Iterator[tuple[str, Callable[..., Any]]]:
        """Yield ``(attribute name, function)`` for every marked method, in definition order."""
        seen: set[str] = set()
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                if attribute in seen or not callable(value):
                    continue
                if tool_spec(value) or resource_spec(value) or prompt_spec(value):
                    seen.add(attribute)
        for attribute in sorted(seen, key=_definition_order(cls)):
            yield attribute, getattr(cls, attribute)


def _definition_order(cls: type) -> Callable[[str], tuple[int, int]]:
    positions: dict[str, tuple[int, int]] = {}
    for depth, klass in enumerate(reversed(cls.__mro__)):
        for index, attribute in enumerate(vars(klass)):
            positions[attribute] = (depth, index)
    return lambda attribute: positions.get(attribute, (0, 0))
