"""plugbay-guard: who may call what, how often, how many at once, and a record of it all.

Install it next to ``plugbay`` and it reads three tables of ``plugbay.toml``::

    [policy]                      # access rules, per-principal lists, client networks
    ip_allow = ["10.0.0.0/8"]

    [[policy.rules]]
    scopes = ["crm:read"]
    tools = ["crm_search_*"]

    [limits]                      # rate limits and a cap on calls running at once
    per_principal = "600/minute"
    max_concurrent_calls = 32

    [audit]                       # one JSON line per call
    output = "audit/calls.jsonl"

Everything goes through public plugbay hooks (see :mod:`plugbay_guard.plugin`); each
layer is on only when its table asks for it.
"""

from __future__ import annotations

from plugbay_guard.audit import AuditConfig, AuditLog, Redactor
from plugbay_guard.concurrency import ConcurrencyCap
from plugbay_guard.ip_allow import ClientAddressFilter, ClientAllowList
from plugbay_guard.limits_config import LimitsConfig
from plugbay_guard.plugin import (
    register_asgi_wrappers,
    register_config_tables,
    register_middleware,
    register_visibility,
)
from plugbay_guard.policy import Policy, PolicyConfig, PolicyRule
from plugbay_guard.rate_limits import RateLimits

__all__ = [
    "AuditConfig",
    "AuditLog",
    "ClientAddressFilter",
    "ClientAllowList",
    "ConcurrencyCap",
    "LimitsConfig",
    "Policy",
    "PolicyConfig",
    "PolicyRule",
    "RateLimits",
    "Redactor",
    "register_asgi_wrappers",
    "register_config_tables",
    "register_middleware",
    "register_visibility",
]
