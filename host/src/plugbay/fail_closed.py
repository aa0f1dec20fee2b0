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

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from plugbay.errors import AssemblyError
from plugbay.hosting.authentication import AUTH_OFF
from plugbay.plugins import BLOCK_ENV, BUILTIN

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
}


def security_registrations(registry: PluginRegistry, hook: str, config: Config) -> list[Any]:
    """What the plugins register through a security hook, in pluggy's call order.

    Something unusable (a middleware that is not callable, a backend without
    ``authenticate``) is recorded as a security failure of its plugin, not dropped.
    """
    usable, expected = _USABLE[hook]
    items = []
    for registration in registry.collect(hook, config=config):
        if usable(registration.item):
            items.append(registration.item)
        else:
            message = f"{hook}: {registration.item!r} is not {expected}"
            registry.fail(registration.plugin, message, security=True)
    return items


class SecurityHookFailed(AssemblyError):
    """The server would serve without a security measure it was configured with.

    Attributes:
        problems: One line per failure, each naming the plugin (or table) and why.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("refusing to serve: " + "; ".join(problems))


def security_problems(
    registry: PluginRegistry, config: Config, auth_backends: Sequence[object]
) -> list[str]:
    """Why an assembly must not be served; empty when nothing stands in the way.

    These are: a plugin whose security hook (``register_auth``, ``register_middleware``)
    raised or registered something unusable, or that implements one and could not be
    registered; an ``[auth]`` table while no plugin registered an authentication
    backend; ``[policy]``, ``[limits]`` or ``[audit]`` while the built-in plugin that
    enforces them is blocked.
    """
    problems = list(registry.security_failures)
    if config.auth != AUTH_OFF and not auth_backends:
        problems.append(
            "[auth] is configured but no plugin registered an authentication backend: the "
            "plugin that provides it is missing, blocked or broken, or the table names no "
            "backend ([[auth.api_keys]], [auth.jwt] or [auth.introspection])"
        )
    if registry.manager.get_plugin(BUILTIN) is None:
        enforced = {
            "policy": config.policy.enabled,
            "limits": config.limits.rate_limited or config.limits.max_concurrent_calls is not None,
            "audit": config.audit.enabled,
        }
        problems.extend(
            f"[{table}] is configured but the plugin {BUILTIN!r} that enforces it is not loaded"
            for table, on in enforced.items()
            if on
        )
    return problems


def refuse_if_insecure(
    registry: PluginRegistry, config: Config, auth_backends: Sequence[object]
) -> None:
    """Raise :class:`SecurityHookFailed` when :func:`security_problems` finds any.

    Raises:
        SecurityHookFailed: With every problem, each naming its plugin or table.
    """
    problems = security_problems(registry, config, auth_backends)
    if problems:
        raise SecurityHookFailed([*problems, REMEDY])
