"""Connectors: configurable backends that contribute tools, resources and prompts."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict

from plugbay.components import prompt_spec, resource_spec, tool_spec
from plugbay.describing import tool_name
from plugbay.uris import canonical_uri

if TYPE_CHECKING:
    from plugbay.dynamic import Components


class Settings(BaseModel):
    """Base class for connector settings.

    Declare every setting with a type and, where sensible, a default. Secrets are
    ``pydantic.SecretStr`` so they never print. Unknown keys are rejected so that a
    misspelled setting in ``plugbay.toml`` is reported instead of ignored.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoSettings(Settings):
    """Settings of a connector that needs none."""


SettingsT = TypeVar("SettingsT", bound=Settings)


class Connector(Generic[SettingsT]):
    """A backend that users configure as one or more named instances.

    Subclass it with your settings model as the type argument, give it a ``name``,
    and mark methods with :func:`plugbay.tool`, :func:`plugbay.resource` and
    :func:`plugbay.prompt`::

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
            ``plugbay.toml`` and as the default instance name.
        settings_model: The pydantic model of the settings; taken from the type
            argument when not set.
        uri_scheme: The scheme of the connector's resource URIs; defaults to ``name``.
        announces_updates: ``True`` when the connector calls :meth:`resource_updated`;
            the server then lets clients subscribe to resources.
        instance: This instance's name; tools are exposed as ``<instance>_<tool>``.
        settings: This instance's validated settings.
    """

    name: ClassVar[str]
    settings_model: ClassVar[type[Settings]] = NoSettings
    uri_scheme: ClassVar[str | None] = None
    announces_updates: ClassVar[bool] = False
    _plugbay_updates_listener: Callable[[str], Awaitable[None]] | None = None
    """Set by the server that announces this instance's updates; the host's business."""

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
        """Close what :meth:`start` opened. Called at shutdown, even after errors.

        Also called before the host starts a failed instance again (see
        :mod:`plugbay.retrying`): it must cope with a :meth:`start` that failed half-way
        and with being called more than once.
        """

    async def check_health(self) -> None:
        """Raise if the backend is unreachable. Used by readiness checks."""

    async def components(self) -> Components | None:
        """Components known only at run time, in addition to the decorated methods.

        Called once after :meth:`start` succeeds and again after each
        :meth:`components_changed`. Answer from memory: what the backend offers as of
        the last time the connector looked. ``None`` (the default) means none. See
        :mod:`plugbay.dynamic`.
        """
        return None

    async def components_changed(self) -> None:
        """Tell the host that :meth:`components` would answer differently now.

        The host asks again, swaps the instance's dynamic components in the catalog
        and, when the lists changed, notifies connected clients. Safe to call at any
        time; before the instance is serving (or when nothing listens) it does nothing.
        """
        listener = getattr(self, "_plugbay_components_listener", None)
        if listener is not None:
            await listener()

    async def resource_updated(self, uri: str) -> None:
        """Tell the clients subscribed to the resource ``uri`` that it changed.

        ``uri`` is the URI clients read (``notes://docs/todo.md``), or a path beneath
        this instance's ``<scheme>://<instance>/`` (``todo.md``). Subscribers then get
        ``notifications/resources/updated`` (2025-11-25) or an event on their
        ``subscriptions/listen`` stream (2026-07-28) and read it again. Set
        ``announces_updates = True`` on the class, or the server offers no
        subscriptions and this does nothing. Cheap when nobody subscribed; safe to call
        at any time, from the event loop (not from a worker thread).
        """
        listener = self._plugbay_updates_listener
        if listener is None or not self.announces_updates:
            return
        if "://" not in uri:
            uri = f"{self.uri_scheme or self.name}://{self.instance}/{uri.lstrip('/')}"
        await listener(uri)

    async def resource_subscribed(self, uri: str) -> None:
        """The resource ``uri`` got its first subscriber (of any session or era): watch it.

        Awaited before the subscription is answered, in order per URI; failures are logged.
        """

    async def resource_unsubscribed(self, uri: str) -> None:
        """The last subscriber of ``uri`` left (or its session or listen stream ended)."""

    async def canonical_uri(self, uri: str) -> str:
        """The one spelling of the resource ``uri`` names, which a policy decides on.

        Called before a ``resources/read`` of this instance's URIs when a policy
        applies. Return what the read will actually open, written the way operators
        write rules: two URIs that reach the same thing must give the same answer. The
        default applies the generic rules of :func:`plugbay.uris.canonical_uri`
        (percent-decoding, dot segments, repeated slashes, case of scheme and host);
        override it when the backend resolves names further (links, case-insensitive
        names). Raise (:class:`plugbay.uris.UriError`) for a URI that is malformed or
        ambiguous: the call is then refused, never let through. Avoid blocking: run
        I/O in a worker thread.
        """
        return canonical_uri(uri)

    async def canonical_paths(self, tool: str, paths: Sequence[str]) -> Sequence[str]:
        """The canonical URIs of the resources that a tool's path arguments name.

        Called before a call of a tool declared with ``@tool(paths=...)`` when a policy
        applies, with the values of those arguments in order; return one URI for each,
        as :meth:`canonical_uri` would give for reading that resource. By default a
        URI of this instance (``<scheme>://<instance>/...``) is taken as it is and any
        other value as a path beneath ``<scheme>://<instance>/``; override it when the
        tool reads its paths otherwise. Raise to refuse the call.

        Args:
            tool: The exposed tool name (``docs_read_text_file``).
            paths: The path values, after validation (defaults filled in).
        """
        base = f"{self.uri_scheme or self.name}://{self.instance}/"
        return [
            await self.canonical_uri(path if path.startswith(base) else base + path.lstrip("/"))
            for path in paths
        ]

    def instance_facts(self) -> str | None:
        """One line that tells this instance apart from others of its connector, or ``None``.

        What a model needs to know before its first call: which database and dialect,
        which directories and whether it may write (``"PostgreSQL database 'shop';
        read-only."``). The host ends each of the instance's tool descriptions with it.
        Called at assembly, before :meth:`start`: answer from the settings, without I/O,
        and never include secrets (no passwords, tokens or full URLs with credentials).
        """
        return None

    def tool_name(self, name: str) -> str:
        """The catalog name of this instance's tool ``name``: ``<instance>_<name>``.

        Use it wherever a message names a sibling tool (``f"call
        {self.tool_name('list_tables')} first"``), so the model reads a name it can
        call. In descriptions, write ``{tool:list_tables}`` instead: the host expands it.
        """
        return tool_name(self.instance, name)

    def describe_state(self) -> Mapping[str, Any] | None:
        """What operators should see about the backend right now, or ``None``.

        A small JSON-ready mapping (``{"upstream": "down", "reason": ..., "retry_in": 4.2}``)
        shown beside the instance's status by ``plugbay plugins --check`` and
        ``/readyz``. Answer from memory, without I/O, and never include secrets.
        """
        return None

    def _plugbay_listen(self, listener: Callable[[], Awaitable[None]] | None) -> None:
        """Set (or clear) what :meth:`components_changed` calls; the host's business."""
        self._plugbay_components_listener = listener

    @classmethod
    def demo(cls) -> AbstractAsyncContextManager[Mapping[str, Any]] | None:
        """A way to try this connector with no account, for ``plugbay serve --demo``.

        Return an async context manager that starts a fake of the backend on a loopback
        address, with sample data, yields the settings (as ``plugbay.toml`` would give
        them) that reach it, and stops the fake on exit; :func:`plugbay.demo.serve_on_loopback`
        serves an ASGI fake. The host names the instance after the connector and says
        in the banner and in each tool description that it is a demo. ``None`` (the
        default) means the connector has no demo.
        """
        return None

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
