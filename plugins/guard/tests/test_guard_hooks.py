"""The guard's hook implementations, called directly with a ``register`` callback and a
host ``Config`` carrying its tables: what each registers, in which stage and order."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

import plugbay_guard
from plugbay import STAGES, Principal
from plugbay.config import Config
from plugbay_guard import (
    AuditConfig,
    AuditLog,
    ConcurrencyCap,
    LimitsConfig,
    Policy,
    PolicyConfig,
    RateLimits,
)
from plugbay_guard.plugin import memory_workers_warning

ALICE = Principal(name="alice")
HOOKS = (
    plugbay_guard.register_middleware,
    plugbay_guard.register_visibility,
    plugbay_guard.register_asgi_wrappers,
)


def test_the_guard_claims_its_three_tables_with_its_models() -> None:
    claimed: list[tuple[type[Any], dict[str, Any]]] = []
    plugbay_guard.register_config_tables(lambda model, **options: claimed.append((model, options)))
    assert claimed == [
        (PolicyConfig, {"table": "policy"}),
        (LimitsConfig, {"table": "limits"}),
        (AuditConfig, {"table": "audit"}),
    ]


@pytest.mark.parametrize("hook", HOOKS, ids=lambda hook: hook.__name__)
def test_without_its_tables_the_guard_registers_nothing(hook: Any, registered: Any) -> None:
    assert registered(hook, Config()) == []


def test_tables_that_switch_nothing_on_register_nothing(guard_config: Any, registered) -> None:
    config = guard_config(
        policy={}, limits={"queue_timeout": 2}, audit={"enabled": False, "output": "stderr"}
    )
    for hook in HOOKS:
        assert registered(hook, config) == [], hook.__name__


def test_the_layers_come_in_todays_order_audit_observing_the_rest_admitting(
    guard_config: Any, registered: Any
) -> None:
    config = guard_config(
        audit={"output": "stderr"},
        policy={"rules": [{"principals": ["alice"]}]},
        limits={"per_principal": "10/minute", "max_concurrent_calls": 4, "queue_timeout": 1},
    )
    layers = registered(plugbay_guard.register_middleware, config)
    assert [(type(layer), options) for layer, options in layers] == [
        (AuditLog, {"stage": "observe"}),
        (Policy, {"stage": "admit"}),
        (RateLimits, {"stage": "admit"}),
        (ConcurrencyCap, {"stage": "admit"}),
    ]
    assert {options["stage"] for _, options in layers} <= set(STAGES)
    cap = layers[3][0]
    assert (cap.limit, cap.queue_timeout) == (4, 1)


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"per_tool": "5/minute"}, [RateLimits]),
        ({"tools": {"crm_*": "5/minute"}}, [RateLimits]),
        ({"max_concurrent_calls": 2}, [ConcurrencyCap]),
    ],
)
def test_each_limit_is_on_only_when_configured(
    guard_config: Any, registered: Any, limits: dict[str, Any], expected: list[type]
) -> None:
    layers = registered(plugbay_guard.register_middleware, guard_config(limits=limits))
    assert [type(layer) for layer, _ in layers] == expected


def test_a_deny_default_alone_switches_the_policy_on(guard_config: Any, registered) -> None:
    config = guard_config(policy={"default": "deny"})
    ((policy, options),) = registered(plugbay_guard.register_middleware, config)
    assert isinstance(policy, Policy)
    assert options == {"stage": "admit"}
    assert not policy.allows(ALICE, "tool", "anything", None)


def test_the_list_filter_is_the_policy_that_refuses_calls(guard_config: Any, registered) -> None:
    config = guard_config(policy={"rules": [{"principals": ["alice"], "tools": ["crm_*"]}]})
    ((visible, options),) = registered(plugbay_guard.register_visibility, config)
    assert options == {}
    assert visible(ALICE, "tool", "crm_search", "crm")
    assert not visible(ALICE, "tool", "erp_search", "erp")
    assert not visible(Principal(name="bob"), "tool", "crm_search", "crm")
    ((policy, _),) = registered(plugbay_guard.register_middleware, config)
    # One compiled policy for both: the decisions are remembered once.
    assert visible.__self__ is policy


def test_several_workers_counting_in_memory_are_warned_about(
    guard_config: Any, registered: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="plugbay_guard"):
        registered(plugbay_guard.register_middleware, guard_config(limits={"per_tool": "5/minute"}))
        assert caplog.records == []
        registered(
            plugbay_guard.register_middleware,
            guard_config(workers=3, limits={"per_tool": "5/minute"}),
        )
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "3 workers each count [limits] rates in their own memory, so up to 3 times the "
        "rate gets through; set [limits] storage to a redis:// URL to share them"
    )


@pytest.mark.parametrize(
    ("limits", "workers", "warned"),
    [
        ({"per_tool": "5/minute"}, 2, True),
        ({"principals": {"ci-*": "5/minute"}}, 3, True),
        ({"per_tool": "5/minute"}, 1, False),
        ({"per_tool": "5/minute", "storage": "redis://127.0.0.1:6379/0"}, 2, False),
        ({"max_concurrent_calls": 4}, 2, False),
    ],
)
def test_when_the_workers_warning_applies(
    limits: dict[str, Any], workers: int, warned: bool
) -> None:
    warning = memory_workers_warning(LimitsConfig.model_validate(limits), workers)
    assert (warning is not None) is warned


def test_the_shutdown_grace_is_no_longer_a_limit() -> None:
    with pytest.raises(ValidationError, match=r"set it as \[server\] shutdown_grace"):
        LimitsConfig.model_validate({"shutdown_grace": 20})
    assert "shutdown_grace" not in LimitsConfig.model_fields


async def hello(request: Any) -> PlainTextResponse:
    return PlainTextResponse("hello")


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


def wrapped(wrappers: list[tuple[Any, dict[str, Any]]]) -> Any:
    app: Any = Starlette(routes=[Route("/mcp", hello), WebSocketRoute("/ws", echo)])
    for wrapper, _ in reversed(wrappers):  # the first registered is outermost
        app = wrapper(app)
    return app


@pytest.mark.parametrize(
    ("client", "status"),
    [
        ("10.1.2.3", 200),
        ("::ffff:10.1.2.3", 200),
        ("192.0.2.7", 200),
        ("192.0.2.8", 403),
        ("2001:db8::1", 403),
        ("127.0.0.1", 403),
    ],
)
async def test_the_allow_list_wrapper_refuses_other_addresses_as_the_host_did(
    guard_config: Any, registered: Any, client: str, status: int
) -> None:
    config = guard_config(policy={"ip_allow": ["10.0.0.0/8", "192.0.2.7"]})
    wrappers = registered(plugbay_guard.register_asgi_wrappers, config)
    assert [options for _, options in wrappers] == [{}]
    transport = httpx2.ASGITransport(app=wrapped(wrappers), client=(client, 5000))
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        response = await http.get("/mcp")
    assert response.status_code == status
    if status == 403:
        assert response.json() == {
            "error": "forbidden",
            "error_description": "This address may not use this server",
        }
    else:
        assert response.text == "hello"


def test_a_websocket_from_elsewhere_is_closed_before_it_is_accepted(
    guard_config: Any, registered: Any
) -> None:
    # Starlette's test client connects from "testclient", which is no IP address.
    refused = registered(
        plugbay_guard.register_asgi_wrappers, guard_config(policy={"ip_allow": ["10.0.0.0/8"]})
    )
    with (
        TestClient(wrapped(refused)) as http,
        pytest.raises(WebSocketDisconnect) as closed,
        http.websocket_connect("/ws"),
    ):
        pass
    assert closed.value.code == 1008
    with TestClient(wrapped(refused)) as http:
        assert http.get("/mcp").status_code == 403


def test_the_allow_list_passes_the_lifespan_through(guard_config: Any, registered: Any) -> None:
    started: list[str] = []

    async def hello_lifespan(app: Any) -> Any:
        started.append("up")
        yield

    app: Any = Starlette(routes=[], lifespan=asynccontextmanager(hello_lifespan))
    ((wrapper, _),) = registered(
        plugbay_guard.register_asgi_wrappers, guard_config(policy={"ip_allow": ["10.0.0.0/8"]})
    )
    with TestClient(wrapper(app)):
        assert started == ["up"]


def test_the_compiled_policy_is_shared_per_table_and_a_few_are_kept() -> None:
    from plugbay_guard.plugin import _Policies

    policies = _Policies(size=2)
    first, second, third = (PolicyConfig.model_validate({"default": "deny"}) for _ in range(3))
    compiled = policies.of(first)
    assert policies.of(first) is compiled
    assert policies.of(second) is not compiled
    policies.of(third)  # the oldest, first's, is let go
    assert policies.of(first) is not compiled


def test_a_redis_storage_url_is_accepted_and_another_scheme_is_not() -> None:
    for url in ("redis://127.0.0.1:6379/0", "rediss://cache.internal:6380/1"):
        assert LimitsConfig.model_validate({"storage": url}).storage == url
    with pytest.raises(ValidationError, match="must be 'memory' or a redis://"):
        LimitsConfig.model_validate({"storage": "memcached://cache"})
