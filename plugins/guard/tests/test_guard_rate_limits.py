"""Rate limits per principal and per tool, in memory and in the real Redis; the concurrency cap."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from pydantic import ValidationError

import plugbay_guard
from plugbay import Call, CallRefused, Principal
from plugbay_guard import ConcurrencyCap, LimitsConfig, RateLimits
from plugbay_guard.rate_limits import describe
from plugbay_testing.harness import result_text, serve

REDIS_URL = "redis://127.0.0.1:6379/0"
ALICE = Principal(name="alice")
BOB = Principal(name="bob/with/slashes")


def call(principal: Principal = ALICE, name: str = "crm_search", kind: str = "tool") -> Call:
    return Call(kind=kind, name=name, arguments={}, principal=principal)  # type: ignore[arg-type]


async def ok(call: Call) -> str:
    return "ok"


def limits(**table: Any) -> RateLimits:
    return RateLimits(LimitsConfig.model_validate(table))


async def allowed(middleware: Any, count: int, *args: Any) -> int:
    """How many of ``count`` calls get through."""
    passed = 0
    for _ in range(count):
        try:
            await middleware(call(*args), ok)
        except CallRefused:
            continue
        passed += 1
    return passed


async def test_each_principal_has_its_own_allowance() -> None:
    middleware = limits(per_principal="3/minute")
    assert await allowed(middleware, 5, ALICE) == 3
    assert await allowed(middleware, 5, BOB) == 3


async def test_each_tool_has_its_own_allowance_per_principal() -> None:
    middleware = limits(per_tool="2/minute")
    assert await allowed(middleware, 3, ALICE, "crm_search") == 2
    assert await allowed(middleware, 3, ALICE, "crm_get") == 2
    assert await allowed(middleware, 3, BOB, "crm_search") == 2
    # Resources and prompts count only against the per-principal rate.
    assert await allowed(middleware, 3, ALICE, "file://x", "resource") == 3


async def test_patterns_override_the_defaults_first_match_first() -> None:
    middleware = limits(
        per_principal="100/minute",
        per_tool="10/minute",
        tools={"*_delete_*": "1/minute", "crm_*": "2/minute"},
        principals={"ci-*": "1/minute"},
    )
    assert await allowed(middleware, 3, ALICE, "crm_delete_person") == 1
    assert await allowed(middleware, 3, ALICE, "crm_search") == 2
    assert await allowed(middleware, 3, Principal(name="ci-7"), "other") == 1


async def test_a_limited_caller_is_told_when_to_retry() -> None:
    middleware = limits(per_tool="1/hour", strategy="fixed-window")
    await middleware(call(), ok)
    with pytest.raises(CallRefused) as caught:
        await middleware(call(), ok)
    refusal = caught.value
    assert refusal.outcome == "rate_limited"
    assert refusal.retry_after is not None
    assert 1 <= refusal.retry_after <= 3600
    assert str(refusal) == (
        f"Rate limit reached: alice may call crm_search 1 time per hour; "
        f"retry in {refusal.retry_after:g} seconds"
    )


def test_rates_are_described_for_people() -> None:
    from limits import parse

    assert describe(parse("5/minute")) == "5 times per minute"
    assert describe(parse("10 per 2 hours")) == "10 times per 2 hours"


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window", "sliding-window-counter"])
async def test_every_strategy_limits(strategy: str) -> None:
    assert await allowed(limits(per_principal="2/minute", strategy=strategy), 4) == 2


def test_limits_tables_are_validated() -> None:
    with pytest.raises(ValidationError, match="not a rate"):
        LimitsConfig.model_validate({"per_tool": "lots"})
    with pytest.raises(ValidationError, match="not a rate"):
        LimitsConfig.model_validate({"tools": {"x": "often"}})
    with pytest.raises(ValidationError, match="redis://"):
        LimitsConfig.model_validate({"storage": "memcached://x"})
    assert not LimitsConfig().rate_limited


async def test_an_unreachable_store_lets_calls_through_or_refuses_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = "redis://:hunter2-secret@127.0.0.1:1/0"  # nothing listens on port 1
    with caplog.at_level(logging.WARNING):
        assert await allowed(limits(per_principal="1/minute", storage=dead), 3) == 3
    assert "rate-limit storage unreachable" in caplog.text
    assert caplog.text.count("unreachable") == 1  # warned once, not per call
    assert "hunter2-secret" not in caplog.text
    closed = limits(per_principal="1/minute", storage=dead, fail_open=False)
    with pytest.raises(CallRefused) as caught:
        await closed(call(), ok)
    assert caught.value.outcome == "busy"
    assert "hunter2" not in str(caught.value)


async def test_two_limiters_share_one_count_in_redis(redis_prefix: str) -> None:
    table = {"per_principal": "4/minute", "storage": REDIS_URL, "key_prefix": redis_prefix}
    first, second = limits(**table), limits(**table)  # as two workers would
    assert await allowed(first, 3) == 3
    assert await allowed(second, 3) == 1
    assert await allowed(first, 1) == 0
    with pytest.raises(CallRefused, match="retry in"):
        await second(call(), ok)
    assert await allowed(second, 1, BOB) == 1


async def test_the_concurrency_cap_queues_then_refuses() -> None:
    cap = ConcurrencyCap(limit=2, queue_timeout=0.2)
    release = anyio.Event()
    started: list[str] = []

    async def slow(call: Call) -> str:
        started.append(call.name)
        await release.wait()
        return call.name

    results: list[Any] = []

    async def run(name: str) -> None:
        try:
            results.append(await cap(call(name=name), slow))
        except CallRefused as refusal:
            results.append(refusal)

    async with anyio.create_task_group() as group:
        group.start_soon(run, "one")
        group.start_soon(run, "two")
        await anyio.sleep(0.05)
        assert cap.running == 2
        group.start_soon(run, "three")  # waits 0.2 s for a slot, then gives up
        await anyio.sleep(0.4)
        release.set()
    refusals = [r for r in results if isinstance(r, CallRefused)]
    assert len(refusals) == 1
    assert refusals[0].outcome == "busy"
    assert "limit of 2 calls at once" in str(refusals[0])
    assert sorted(r for r in results if isinstance(r, str)) == ["one", "two"]
    assert cap.running == 0


async def test_a_queued_call_runs_when_a_slot_frees() -> None:
    cap = ConcurrencyCap(limit=1, queue_timeout=5)
    order: list[str] = []

    async def work(call: Call) -> str:
        order.append(f"{call.name} in")
        await anyio.sleep(0.05)
        order.append(f"{call.name} out")
        return call.name

    async with anyio.create_task_group() as group:
        group.start_soon(cap, call(name="a"), work)
        await anyio.sleep(0.01)
        group.start_soon(cap, call(name="b"), work)
    assert order == ["a in", "a out", "b in", "b out"]


def test_memory_counts_with_several_workers_are_flagged(
    build, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        build(config='[server]\nworkers = 3\n[limits]\nper_tool = "5/minute"\n')
    assert "3 workers each count [limits] rates in their own memory" in caplog.text


async def test_a_served_call_over_its_rate_is_refused_with_when_to_retry(extras) -> None:
    def lookup(name: str) -> str:
        """Look a name up."""
        return f"found {name}"

    config = '[limits]\nper_tool = "2/hour"\n'
    async with serve(plugbay_guard, extras(tools=[lookup]), config=config) as harness:
        assert await harness.call_ok("lookup", name="a") == "found a"
        assert await harness.call_ok("lookup", name="b") == "found b"
        refused = await harness.call("lookup", name="c")
    assert refused.is_error
    assert result_text(refused).startswith(
        "Rate limit reached: local may call lookup 2 times per hour; retry in "
    )
