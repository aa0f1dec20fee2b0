"""Freestanding tools, resources and prompts: what ``register_tools`` and its siblings give."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from plugbay.components import resource

if TYPE_CHECKING:
    from plugbay.config import Config
    from plugbay.plugins import PluginRegistry


def freestanding(
    registry: PluginRegistry,
    config: Config,
    hook: str,
    mark: Callable[..., Any],
    spec_of: Callable[[Any], Any],
) -> list[tuple[str, Callable[..., Any], Any]]:
    """What plugins registered through ``hook`` (tools, resources or prompts), marked.

    Returns:
        ``(plugin, function, spec)`` for each; a plugin whose item cannot be marked is
        reported as failed and its item left out.
    """
    found = []
    for registration in registry.collect(hook, config=config):
        function = registration.item
        if not callable(function):
            registry.fail(registration.plugin, f"{hook}: {function!r} is not callable")
            continue
        try:
            if registration.options or spec_of(function) is None:
                function = (
                    mark(**registration.options)(function)
                    if registration.options
                    else mark(function)
                )
        except TypeError as error:
            registry.fail(registration.plugin, f"{hook}: {error}")
            continue
        found.append((registration.plugin, function, spec_of(function)))
    return found


def resource_mark(function: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """``register(fn, uri=...)`` for resources: the URI is required."""
    if function is not None:
        raise TypeError(
            f"{getattr(function, '__name__', function)!r}: register resources decorated with "
            "@resource(uri) or as register(fn, uri=...)"
        )
    return resource(**options)
