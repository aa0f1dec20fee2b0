"""Instances that fail to start are started again in the background until they serve.

The server here starts before its SQLite database file exists: the client first sees
the other instance's tools only and ``/readyz`` says 503; once the file appears the
instance starts without a restart, its tools appear, the client hears
``tools/list_changed`` and ``/readyz`` turns 200. Every wait is for a state, with a
generous bound; nothing asserts how long anything took.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx2
import mcp_types as types
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr

from plugbay import Connector, Settings, tool
from plugbay.retrying import Backoff, retryable
from plugbay.transports import http_app, uvicorn_options

WAIT_LIMIT = 30.0
"""The most any wait for a state may take before the test fails."""
FAST_RETRIES = "[server]\nretry_initial = 0.05\nretry_max = 0.2\n"


class LedgerSettings(Settings):
    database: str


class Ledger(Connector[LedgerSettings]):
    """Reads a SQLite ledger that must already exist (it is opened read-only)."""

    name = "ledger"

    def __init__(self, instance: str, settings: LedgerSettings) -> None:
        super().__init__(instance, settings)
        self._db: sqlite3.Connection | None = None

    async def start(self) -> None:
        uri = f"file:{self.settings.database}?mode=ro"
        self._db = await anyio.to_thread.run_sync(
            partial(sqlite3.connect, uri, uri=True, check_same_thread=False)
        )

    async def stop(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()

    async def check_health(self) -> None:
        assert self._db is not None
        self._db.execute("SELECT 1")

    @tool(read_only=True)
    def entries(self) -> int:
        """How many entries the ledger holds."""
        assert self._db is not None
        return int(self._db.execute("SELECT count(*) FROM entries").fetchone()[0])


class Clock(Connector):
    """Tells the time; always starts."""

    name = "clock"

    @tool(read_only=True)
    def now(self) -> str:
        """The time."""
        return "noon"


def _write_ledger(path: Path) -> None:
    """Create the database beside its final name, then move it in whole."""
    draft = path.with_suffix(".draft")
    with sqlite3.connect(draft) as db:
        db.execute("CREATE TABLE entries (amount INTEGER)")
        db.executemany("INSERT INTO entries VALUES (?)", [(5,), (7,)])
    db.close()
    os.replace(draft, path)


@contextmanager
def serving(app: Any, assembly: Any) -> Iterator[int]:
    """``app`` served by uvicorn on a free loopback port, as ``plugbay serve`` runs it."""
    options = {**uvicorn_options(assembly), "log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_LIMIT
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(WAIT_LIMIT)
        assert not thread.is_alive(), "uvicorn did not stop"


async def _readyz(port: int) -> tuple[int, dict[str, Any]]:
    async with httpx2.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/readyz")
    return response.status_code, response.json()


def test_an_instance_comes_up_when_its_database_appears_without_a_restart(
    build, bundle, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "ledger.db"
    toml = (
        f"{FAST_RETRIES}[connectors.ledger]\nplugin = \"ledger\"\ndatabase = '{database}'\n"
        '[connectors.clock]\nplugin = "clock"\n'
    )
    assembly = build(bundle(connectors=[Ledger, Clock]), toml=toml)
    caplog.set_level(logging.WARNING, logger="plugbay")

    async def scenario(port: int) -> None:
        heard = anyio.Event()

        async def on_message(message: object) -> None:
            if isinstance(message, types.ToolListChangedNotification):
                heard.set()

        url = f"http://127.0.0.1:{port}/mcp"
        async with Client(
            streamable_http_client(url), mode="legacy", message_handler=on_message
        ) as client:
            assert {t.name for t in (await client.list_tools()).tools} == {"clock_now"}
            status, document = await _readyz(port)
            assert status == 503
            assert document["instances"]["ledger"]["status"] == "failed"
            assert document["instances"]["ledger"]["reason"] == (
                "failed to start (OperationalError)"
            )
            with pytest.raises(Exception, match="Unknown tool"):
                await client.call_tool("ledger_entries", {})

            _write_ledger(database)

            with anyio.fail_after(WAIT_LIMIT):
                await heard.wait()
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == {"clock_now", "ledger_entries"}
            result = await client.call_tool("ledger_entries", {})
            assert result.structured_content == {"result": 2}
            with anyio.fail_after(WAIT_LIMIT):
                while (await _readyz(port))[0] != 200:
                    await anyio.sleep(0.1)
        status, document = await _readyz(port)
        assert document["instances"]["ledger"] == {
            "connector": "ledger",
            "status": "ready",
            "ready": True,
        }

    with serving(http_app(assembly), assembly) as port:
        anyio.run(scenario, port)
    retries = [r for r in caplog.records if "attempt" in r.getMessage()]
    assert retries, "each failed attempt is logged"
    assert all(r.levelno == logging.WARNING for r in retries if "failed" in r.getMessage())
    assert any("OperationalError" in r.getMessage() for r in retries)
    assert assembly.instances["ledger"].status == "stopped"


def test_modern_clients_hear_it_on_their_listen_stream(build, bundle, tmp_path: Path) -> None:
    database = tmp_path / "ledger.db"
    toml = f"{FAST_RETRIES}[connectors.ledger]\nplugin = \"ledger\"\ndatabase = '{database}'\n"
    assembly = build(bundle(connectors=[Ledger]), toml=toml)

    async def scenario(port: int) -> None:
        async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp")) as client:
            assert client.protocol_version == "2026-07-28"
            async with client.listen(tools_list_changed=True) as events:
                assert (await client.list_tools()).tools == []
                _write_ledger(database)
                with anyio.fail_after(WAIT_LIMIT):
                    event = await events.__anext__()
            assert type(event).__name__ == "ToolsListChanged"
            assert [t.name for t in (await client.list_tools()).tools] == ["ledger_entries"]

    with serving(http_app(assembly), assembly) as port:
        anyio.run(scenario, port)


class Flaky(Connector):
    """Refuses at first start; later attempts hang until cancelled, holding a resource."""

    name = "flaky"
    attempts = 0
    held = 0

    async def start(self) -> None:
        type(self).attempts += 1
        if type(self).attempts == 1:
            raise ConnectionError("connection refused")
        type(self).held += 1
        await anyio.sleep_forever()

    async def stop(self) -> None:
        type(self).held = 0


async def test_shutdown_during_a_retry_stops_it_cleanly(build, bundle) -> None:
    Flaky.attempts = Flaky.held = 0
    toml = f'{FAST_RETRIES}[connectors.flaky]\nplugin = "flaky"\n'
    assembly = build(bundle(connectors=[Flaky]), toml=toml)
    app = http_app(assembly)
    async with app.router.lifespan_context(app):
        with anyio.fail_after(WAIT_LIMIT):
            while Flaky.held == 0:  # a retry is in the middle of start()
                await anyio.sleep(0.01)
        assert assembly.instances["flaky"].status == "failed"
    # The lifespan ended: the attempt was cancelled and what it opened released.
    assert Flaky.held == 0
    attempts = Flaky.attempts
    await anyio.sleep(0.5)  # longer than several retry waits: none comes any more
    assert Flaky.attempts == attempts == 2


class KeySettings(Settings):
    api_key: SecretStr


class Keyed(Connector[KeySettings]):
    """Needs an API key; its backend names the key when it refuses."""

    name = "keyed"
    attempts = 0

    async def start(self) -> None:
        type(self).attempts += 1
        raise PermissionError(f"key {self.settings.api_key.get_secret_value()} was refused")


async def test_failures_are_logged_per_attempt_without_secrets(
    build, bundle, caplog: pytest.LogCaptureFixture
) -> None:
    Keyed.attempts = 0
    toml = f'{FAST_RETRIES}[connectors.keyed]\nplugin = "keyed"\napi_key = "sk_live_abcdef123"\n'
    assembly = build(bundle(connectors=[Keyed]), toml=toml)
    app = http_app(assembly)
    caplog.set_level(logging.WARNING, logger="plugbay")
    async with app.router.lifespan_context(app):
        with anyio.fail_after(WAIT_LIMIT):
            while Keyed.attempts < 4:
                await anyio.sleep(0.01)
    text = caplog.text
    assert "sk_live_abcdef123" not in text
    assert "PermissionError" in text
    retried = [r for r in caplog.records if "(attempt " in r.getMessage()]
    assert len(retried) >= 2
    assert all(r.levelno == logging.WARNING for r in retried)
    # One line per attempt: attempt numbers are not repeated.
    numbers = [r.getMessage().split("(attempt ")[1].split(")")[0] for r in retried]
    assert len(numbers) == len(set(numbers))


def test_only_instances_that_failed_to_start_are_retried(build, bundle) -> None:
    toml = (
        '[connectors.keyed]\nplugin = "keyed"\n'  # no api_key: not configured
        '[connectors.clock]\nplugin = "clock"\n'
    )
    assembly = build(bundle(connectors=[Keyed, Clock]), toml=toml)
    assembly.instances["clock"].status = "failed"
    assert assembly.instances["keyed"].status == "not configured"
    assert retryable(assembly) == ["clock"]


def test_backoff_doubles_with_jitter_up_to_its_maximum() -> None:
    delays = Backoff(initial=1.0, maximum=60.0).delays()
    steps = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    for step in steps:
        delay = next(delays)
        assert step / 2 <= delay <= step
    assert all(0.5 <= next(Backoff(2.0, 1.0).delays()) <= 1.0 for _ in range(20))


async def test_readiness_says_when_the_next_attempt_is_due(build, bundle) -> None:
    Keyed.attempts = 0
    toml = (
        "[server]\nretry_initial = 30\nretry_max = 30\n"
        '[connectors.keyed]\nplugin = "keyed"\napi_key = "sk_live_abcdef123"\n'
    )
    assembly = build(bundle(connectors=[Keyed]), toml=toml)
    app = http_app(assembly)
    async with app.router.lifespan_context(app):
        with anyio.fail_after(WAIT_LIMIT):
            while assembly.instances["keyed"].retry_at is None:
                await anyio.sleep(0.01)
        ready, document = await app.state.readiness.report()
    assert not ready
    entry = document["instances"]["keyed"]
    assert entry["reason"] == "failed to start (PermissionError)"
    assert 0 < entry["next_attempt_in"] <= 30
    assert Keyed.attempts == 1
    assert assembly.instances["keyed"].retry_at is None  # the server stopped retrying


async def test_an_unexpected_error_while_retrying_does_not_stop_the_retries(
    build, bundle, caplog: pytest.LogCaptureFixture
) -> None:
    Keyed.attempts = 0
    toml = f'{FAST_RETRIES}[connectors.keyed]\nplugin = "keyed"\napi_key = "sk_live_abcdef123"\n'
    assembly = build(bundle(connectors=[Keyed]), toml=toml)
    app = http_app(assembly)

    async def broken_listener(previous: object, current: object) -> None:
        raise RuntimeError("listener bug")

    async with app.router.lifespan_context(app):
        assembly.listeners.append(broken_listener)
        with anyio.fail_after(WAIT_LIMIT):
            while Keyed.attempts < 4:
                await anyio.sleep(0.01)
    assert "retrying connector instance keyed failed" in caplog.text
