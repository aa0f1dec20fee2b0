"""Fail closed: a server whose security plugins are broken or missing refuses to serve.

Most plugin failures are isolated: the plugin is reported (``plugbay plugins``) and the
rest of the server runs. A failure in a security hook is different: skipping a broken
authentication backend would serve everyone as the local principal, and skipping a
broken middleware could drop the layer that refuses calls. So the server refuses to
start on every transport (HTTP and stdio alike: stdio skips authentication, but its
calls go through the same middleware), as does ``plugbay call``, and says which plugin
failed and why. The
operator fixes the plugin, or uninstalls or blocks it (``PLUGBAY_BLOCK_PLUGINS``) to
serve knowingly without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from plugbay.errors import AssemblyError
from plugbay.plugins import BLOCK_ENV

if TYPE_CHECKING:
    from plugbay.config import Config
    from plugbay.plugins import PluginRegistry

REMEDY = (
    f"fix the plugin, or uninstall it or block it ({BLOCK_ENV}=<name>) to serve without it; "
    "`plugbay plugins` shows every plugin and its errors"
)


_USABLE: dict[str, tuple[Callable[[Any], bool], str]] = {
    "register_middleware": (callable, "a middleware callable"),
    "register_auth": (
        lambda item: callable(getattr(item, "authenticate", None)),
        "an AuthBackend (it has no authenticate method)",
    ),
    "register_visibility": (callable, "a visibility check (principal, kind, name, instance)"),
    "register_asgi_wrappers": (callable, "an ASGI wrapper, (app) -> app"),
    "register_message_middleware": (callable, "a message middleware callable"),
}


def security_registrations(
    registry: PluginRegistry, hook: str, config: Config, *, with_options: bool = False
) -> list[Any]:
    """What the plugins register through a security hook, in pluggy's call order.

    Something unusable (a middleware that is not callable, a backend without
    ``authenticate``) is recorded as a security failure of its plugin, not dropped.
    With ``with_options``, each item comes as ``(plugin, item, options)``.
    """
    usable, expected = _USABLE[hook]
    items: list[Any] = []
    for registration in registry.collect(hook, config=config):
        if not usable(registration.item):
            message = f"{hook}: {registration.item!r} is not {expected}"
            registry.fail(registration.plugin, message, security=True)
        elif with_options:
            options: Mapping[str, Any] = registration.options
            items.append((registration.plugin, registration.item, options))
        else:
            items.append(registration.item)
    return items


class SecurityHookFailed(AssemblyError):
    """The server would serve without a security measure it was configured with.

    Attributes:
        problems: One line per failure, each naming the plugin (or table) and why.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("refusing to serve: " + "; ".join(problems))


def security_problems(registry: PluginRegistry) -> list[str]:
    """Why an assembly must not be served; empty when nothing stands in the way.

    These are: a plugin whose security hook (:data:`plugbay.plugins.SECURITY_HOOKS`)
    raised or registered something unusable, or that implements one and could not be
    registered. (A table such as ``[auth]`` whose plugin is missing, blocked or
    broken never gets this far: nobody claims it, and the configuration is refused,
    :mod:`plugbay.tables`.)
    """
    return list(registry.security_failures)


def refuse_if_insecure(registry: PluginRegistry) -> None:
    """Raise :class:`SecurityHookFailed` when :func:`security_problems` finds any.

    Raises:
        SecurityHookFailed: With every problem, each naming its plugin or table.
    """
    problems = security_problems(registry)
    if problems:
        raise SecurityHookFailed([*problems, REMEDY])
