"""Sync components' worker threads: a bounded pool per instance, abandoned threads capped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
import pytest

from plugbay import Call, Connector, Settings, tool
from plugbay.hosting.readiness import Readiness
from plugbay.threads import WorkerThreads

pytestmark = pytest.mark.anyio

WAIT_LIMIT = 10.0
"""Seconds a test waits for a state before it fails (a safety net, not a measure)."""


class Gate:
    """Holds sync calls in their threads until released; counts and names those threads."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self._lock = threading.Lock()
        self.started = 0
        self.threads: set[int] = set()

    def hold(self) -> str:
        with self._lock:
            self.started += 1
            self.threads.add(threading.get_ident())
        self.released.wait(WAIT_LIMIT * 3)
        return "done"


async def until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(WAIT_LIMIT):
        while not condition():
            await anyio.sleep(0.01)


async def _call(assembly: Any, name: str) -> Any:
    entry = assembly.catalog.tools[name]
    return await entry.handle(Call(kind="tool", name=name, arguments={}, timeout=entry.timeout))


def _text(result: Any) -> str:
    return "".join(block.text for block in result.content)


def _gated_connector(gate: Gate) -> type[Connector[Settings]]:
    class Gated(Connector[Settings]):
        name = "gated"

        @tool
        def stuck(self) -> str:
            """Wait at the gate."""
            return gate.hold()

        @tool
        async def quick(self) -> str:
            """Answer at once."""
            return "quick"

    return Gated


async def test_an_async_tool_using_threads_answers_while_sync_calls_fill_their_pool(
    build, bundle
) -> None:
    gate = Gate()

    def stuck() -> str:
        return gate.hold()

    async def quick() -> str:
        # anyio's default thread pool, as the SDK's stdio transport and many async
        # libraries use it: sync tools no longer take its threads.
        return await anyio.to_thread.run_sync(lambda: "quick")

    assembly = build(bundle(tools=[stuck, quick]), toml="[server]\nsync_workers = 5\n")
    results: list[str] = []

    async def one() -> None:
        results.append(_text(await _call(assembly, "stuck")))

    async with anyio.create_task_group() as group:
        for _ in range(200):
            group.start_soon(one)
        await until(lambda: gate.started == 5)
        with anyio.fail_after(WAIT_LIMIT):
            answer = _text(await _call(assembly, "quick"))
        assert answer == "quick"
        assert gate.started == 5  # the others wait for the plugin's pool, still blocked
        assert results == []
        gate.released.set()
    assert results == ["done"] * 200
    assert len(gate.threads) <= 5


async def test_each_instance_has_its_own_pool(build, bundle) -> None:
    gate = Gate()
    assembly = build(
        bundle(connectors=[_gated_connector(gate)]),
        toml=(
            "[server]\nsync_workers = 2\n"
            '[connectors.a]\nplugin = "gated"\n'
            '[connectors.b]\nplugin = "gated"\nsync_workers = 1\n'
        ),
    )
    pool_a = assembly.instances["a"].threads
    pool_b = assembly.instances["b"].threads
    assert (pool_a.workers, pool_b.workers) == (2, 1)
    assert pool_a is not pool_b
    try:
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(_call, assembly, "a_stuck")
            await until(lambda: gate.started == 2)
            # a's pool is full; b's is not, and serves at once.
            group.start_soon(_call, assembly, "b_stuck")
            await until(lambda: gate.started == 3)
            assert (pool_a.busy, pool_b.busy) == (2, 1)
            gate.released.set()
    finally:
        gate.released.set()


async def test_abandoned_threads_are_capped_and_counted_until_they_return(build, bundle) -> None:
    gate = Gate()
    assembly = build(
        bundle(connectors=[_gated_connector(gate)]),
        toml=(
            "[server]\nsync_workers = 2\nmax_abandoned_threads = 3\n"
            '[connectors.g]\nplugin = "gated"\n'
        ),
    )
    await assembly.start()
    state = assembly.instances["g"]
    pool = state.threads
    assert pool is not None
    try:
        # Three calls cancelled (what a timeout does) while their threads run.
        for count in range(1, 4):
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as group:
                    group.start_soon(_call, assembly, "g_stuck")
                    await until(lambda count=count: gate.started == count)
                    scope.cancel()
            assert pool.abandoned == count
        assert pool.busy == 0  # abandoned threads gave their slots back

        # At the cap, sync calls are refused at once and start no thread.
        for _ in range(50):
            refused = await _call(assembly, "g_stuck")
            assert refused.is_error
            assert _text(refused) == (
                "g_stuck was not started: 3 earlier calls to instance 'g' timed out and are "
                "still running, the most this server allows; try again once they finish, and "
                "if this persists its backend may be hanging (tell the server's operator)"
            )
        assert gate.started == 3
        assert len(gate.threads) == 3
        # Async tools of the instance are not affected.
        assert _text(await _call(assembly, "g_quick")) == "quick"
        # Operators see the count.
        assert state.as_dict()["abandoned_threads"] == 3
        _, document = await Readiness(assembly).report()
        assert document["instances"]["g"]["abandoned_threads"] == 3

        gate.released.set()
        await until(lambda: pool.abandoned == 0)
        assert _text(await _call(assembly, "g_stuck")) == "done"
        assert "abandoned_threads" not in state.as_dict()
    finally:
        gate.released.set()
        await assembly.stop()


async def test_a_call_cancelled_while_it_waits_for_a_thread_is_not_counted() -> None:
    gate = Gate()
    pool = WorkerThreads("instance 'x'", workers=1, max_abandoned=1)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(pool.run, "first", gate.hold)
            await until(lambda: gate.started == 1)
            with anyio.CancelScope() as scope:
                scope.cancel()
                await pool.run("second", gate.hold)  # waits for the one thread: cancelled
            assert pool.abandoned == 0
            gate.released.set()
    finally:
        gate.released.set()
    assert gate.started == 1  # the second never ran


@pytest.mark.parametrize("value", ["0", "true", "2.5", '"4"'])
def test_an_instance_sync_workers_must_be_a_whole_number(build, bundle, value: str) -> None:
    from plugbay.config import parse_config
    from plugbay.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        parse_config(
            {"connectors": {"a": {"plugin": "gated", "sync_workers": _toml_value(value)}}},
            environ={},
        )
    assert "'sync_workers' must be a whole number of at least 1" in str(raised.value)


def _toml_value(text: str) -> Any:
    import tomllib

    return tomllib.loads(f"v = {text}")["v"]
