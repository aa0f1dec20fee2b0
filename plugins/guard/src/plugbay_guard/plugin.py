"""The guard's hook implementations: what it adds to a server, from its three tables.

Each layer is on only when its table asks for it, so a server without ``[policy]``,
``[limits]`` or ``[audit]`` pays nothing for the guard per call or per request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from plugbay import hookimpl
from plugbay_guard.audit import AuditConfig, AuditLog
from plugbay_guard.concurrency import ConcurrencyCap
from plugbay_guard.ip_allow import ClientAddressFilter, ClientAllowList
from plugbay_guard.limits_config import LimitsConfig
from plugbay_guard.policy import Policy, PolicyConfig
from plugbay_guard.rate_limits import RateLimits

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from plugbay.config import Config

logger = logging.getLogger(__name__)

TABLES: dict[str, type[BaseModel]] = {
    "policy": PolicyConfig,
    "limits": LimitsConfig,
    "audit": AuditConfig,
}
"""The ``plugbay.toml`` tables the guard owns, and the model that validates each."""

_Table = TypeVar("_Table", bound=BaseModel)


def _table(config: Config, name: str, model: type[_Table]) -> _Table | None:
    """The validated ``[name]`` table, or ``None`` when the file has none."""
    table = config.table(name)
    if table is None:
        return None
    if not isinstance(table, model):  # pragma: no cover - the host validated it with ours
        raise TypeError(f"[{name}] is a {type(table).__name__}, not the guard's {model.__name__}")
    return table


class _Policies:
    """One compiled :class:`Policy` per ``[policy]`` table, for the middleware and the lists.

    The two hooks are called separately; sharing the object shares its memory of
    decisions. Keyed by the table's identity, and holding the table so that identity
    stays its own; a few are kept, for processes that assemble more than once.
    """

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._compiled: dict[int, tuple[PolicyConfig, Policy]] = {}

    def of(self, table: PolicyConfig) -> Policy:
        kept = self._compiled.get(id(table))
        if kept is not None and kept[0] is table:
            return kept[1]
        if len(self._compiled) >= self._size:
            self._compiled.pop(next(iter(self._compiled)))
        policy = Policy(table)
        self._compiled[id(table)] = (table, policy)
        return policy


_policies = _Policies()


def memory_workers_warning(limits: LimitsConfig, workers: int) -> str | None:
    """The warning for rates counted in memory by several workers, or ``None``."""
    if workers < 2 or not limits.rate_limited or limits.storage != "memory":
        return None
    return (
        f"{workers} workers each count [limits] rates in their own memory, so up to "
        f"{workers} times the rate gets through; set [limits] storage to a redis:// URL "
        "to share them"
    )


@hookimpl
def register_config_tables(register: Callable[..., None]) -> None:
    """Claim ``[policy]``, ``[limits]`` and ``[audit]``."""
    for name, model in TABLES.items():
        register(model, table=name)


@hookimpl
def register_middleware(register: Callable[..., None], config: Config) -> None:
    """The audit log (``observe``), then the policy, rate limits and concurrency cap (``admit``).

    The audit log is in the outer stage so it records every refusal of the inner one.
    Within ``admit`` the order is the one that wastes nothing: the policy refuses before
    a call counts against a rate, and the concurrency cap holds a slot only for calls
    that will run.
    """
    audit = _table(config, "audit", AuditConfig)
    if audit is not None and audit.enabled:
        register(AuditLog(audit), stage="observe")
    policy = _table(config, "policy", PolicyConfig)
    if policy is not None and policy.enabled:
        register(_policies.of(policy), stage="admit")
    limits = _table(config, "limits", LimitsConfig)
    if limits is None:
        return
    if limits.rate_limited:
        warning = memory_workers_warning(limits, config.server.workers)
        if warning is not None:
            logger.warning("%s", warning)
        register(RateLimits(limits), stage="admit")
    if limits.max_concurrent_calls is not None:
        register(ConcurrencyCap(limits.max_concurrent_calls, limits.queue_timeout), stage="admit")


@hookimpl
def register_visibility(register: Callable[..., None], config: Config) -> None:
    """The policy's list filter: a principal sees exactly what it may call."""
    policy = _table(config, "policy", PolicyConfig)
    if policy is not None and policy.enabled:
        register(_policies.of(policy).visible)


@hookimpl
def register_asgi_wrappers(register: Callable[..., None], config: Config) -> None:
    """The ``[policy] ip_allow`` client-address allow-list, asked before authentication."""
    policy = _table(config, "policy", PolicyConfig)
    if policy is None or not policy.ip_allow:
        return
    allow_list = ClientAllowList(policy.ip_allow)

    def only_allowed_clients(app: ASGIApp) -> ASGIApp:
        return ClientAddressFilter(app, allow_list)

    register(only_allowed_clients)
