"""Connectors hear which resources are subscribed: the first subscriber and the last to leave.

Subscribers are counted per exact URI across every session and both eras: a
2025-11-25 session's ``resources/subscribe`` and a 2026-07-28 ``subscriptions/listen``
stream each count once; unsubscribing, a session ending and a stream closing each
count as leaving. The connector's calls never fail a subscription.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client

from plugbay import Connector, hookimpl, resource
from plugbay.server import PlugbayServer
from plugbay.sessions import Subscribers

pytestmark = [
    pytest.mark.anyio,
    # resources/subscribe is deprecated by 2026-07-28, and the SDK client says so.
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

TOML = '[connectors.n]\nplugin = "notes"\n'
NOTE_A = "notes://n/notes/a"
NOTE_B = "notes://n/notes/b"
SECRET_URL = "https://admin:hunter2-secret@backend.example/"


class Watched(Connector[Any]):
    """Notes whose watching is recorded, as ``("+", uri)`` and ``("-", uri)``."""

    name = "notes"
    announces_updates = True
    fail = False

    def __init__(self, instance: str, settings: Any) -> None:
        super().__init__(instance, settings)
        self.calls: list[tuple[str, str]] = []

    @resource("notes/{name}")
    def note(self, name: str) -> str:
        """One note."""
        return f"note {name}"

    async def resource_subscribed(self, uri: str) -> None:
        self.calls.append(("+", uri))
        if self.fail:
            raise RuntimeError(f"cannot reach {SECRET_URL}")

    async def resource_unsubscribed(self, uri: str) -> None:
        self.calls.append(("-", uri))
        if self.fail:
            raise RuntimeError(f"cannot reach {SECRET_URL}")


class WatchedPlugin:
    @hookimpl
    def register_connectors(self, register: Callable[..., None]) -> None:
        register(Watched)


def serve(build: Callable[..., Any]) -> tuple[PlugbayServer, Watched]:
    server = PlugbayServer(build({"watched": WatchedPlugin()}, toml=TOML))
    connector = server.assembly.instances["n"].obj
    assert isinstance(connector, Watched)
    return server, connector


async def wait_for(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(5):
        while not condition():
            await anyio.sleep(0.01)


async def test_handshake_sessions_are_counted_per_uri(build: Callable[..., Any]) -> None:
    server, notes = serve(build)
    async with Client(server.sdk, mode="legacy") as a:
        async with Client(server.sdk, mode="legacy") as b:
            await a.subscribe_resource(NOTE_A)
            assert notes.calls == [("+", NOTE_A)]  # before the subscribe was answered
            await b.subscribe_resource(NOTE_A)
            await b.subscribe_resource(NOTE_A)  # the same session again: still one
            await b.subscribe_resource(NOTE_B)
            assert notes.calls == [("+", NOTE_A), ("+", NOTE_B)]

            await a.unsubscribe_resource(NOTE_A)
            await a.unsubscribe_resource(NOTE_B)  # a never subscribed to it
            assert notes.calls == [("+", NOTE_A), ("+", NOTE_B)]
        # b's session ended: it left both.
        await wait_for(lambda: len(notes.calls) == 4)
        assert set(notes.calls[2:]) == {("-", NOTE_A), ("-", NOTE_B)}

        await a.subscribe_resource(NOTE_A)  # subscribed again: the first again
        await a.unsubscribe_resource(NOTE_A)
        assert notes.calls[4:] == [("+", NOTE_A), ("-", NOTE_A)]


async def test_listen_streams_count_and_closing_one_leaves(build: Callable[..., Any]) -> None:
    server, notes = serve(build)
    async with Client(server.sdk) as client:
        assert client.protocol_version == "2026-07-28"
        async with client.listen(resource_subscriptions=[NOTE_A, NOTE_A]) as first:
            assert first.honored.resource_subscriptions == [NOTE_A]
            assert notes.calls == [("+", NOTE_A)]  # before the stream was acknowledged
            async with client.listen(resource_subscriptions=[NOTE_A]):
                pass
            await anyio.sleep(0.05)
            assert notes.calls == [("+", NOTE_A)]  # one stream still listens
        await wait_for(lambda: len(notes.calls) == 2)
        assert notes.calls == [("+", NOTE_A), ("-", NOTE_A)]


async def test_both_eras_count_together(build: Callable[..., Any]) -> None:
    server, notes = serve(build)
    async with Client(server.sdk) as modern:
        async with Client(server.sdk, mode="legacy") as legacy:
            await legacy.subscribe_resource(NOTE_A)
            async with modern.listen(resource_subscriptions=[NOTE_A]):
                await legacy.unsubscribe_resource(NOTE_A)
                assert notes.calls == [("+", NOTE_A)]
            await wait_for(lambda: len(notes.calls) == 2)
            assert notes.calls[1] == ("-", NOTE_A)

            async with modern.listen(resource_subscriptions=[NOTE_A]):
                await legacy.subscribe_resource(NOTE_A)
            await anyio.sleep(0.05)
            assert notes.calls[2:] == [("+", NOTE_A)]  # the legacy session still holds it
        await wait_for(lambda: len(notes.calls) == 4)
        assert notes.calls[3] == ("-", NOTE_A)


async def test_a_failing_connector_is_logged_and_the_subscription_stands(
    build: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    server, notes = serve(build)
    notes.fail = True
    caplog.set_level(logging.WARNING, logger="plugbay")
    async with Client(server.sdk, mode="legacy") as client:
        await client.subscribe_resource(NOTE_A)
        assert (await client.read_resource(NOTE_A)).contents
        await client.unsubscribe_resource(NOTE_A)
    async with (
        Client(server.sdk) as client,
        client.listen(resource_subscriptions=[NOTE_B]) as events,
    ):
        assert events.honored.resource_subscriptions == [NOTE_B]
    await wait_for(lambda: len(notes.calls) == 4)
    failures = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 4
    assert all("resource_" in line and "[redacted]" in line for line in failures)
    assert not any("hunter2" in record.getMessage() for record in caplog.records)


async def test_calls_for_one_uri_never_overlap_or_reorder() -> None:
    release = anyio.Event()
    log: list[str] = []

    class Slow:
        instance = "slow"

        async def resource_subscribed(self, uri: str) -> None:
            log.append("+ begins")
            await release.wait()
            log.append("+ ends")

        async def resource_unsubscribed(self, uri: str) -> None:
            log.append("-")

    subscribers = Subscribers()
    async with anyio.create_task_group() as group:
        group.start_soon(subscribers.add, {NOTE_A: Slow()})
        await wait_for(lambda: log == ["+ begins"])
        group.start_soon(subscribers.remove, [NOTE_A])
        await anyio.sleep(0.05)
        assert log == ["+ begins"]  # the unsubscribe waits for the subscribe to finish
        release.set()
    assert log == ["+ begins", "+ ends", "-"]

    # A subscriber that comes and goes while nothing is told yet: nothing to tell.
    await subscribers.add({NOTE_B: None})
    await subscribers.remove([NOTE_B, NOTE_B, "never://subscribed"])
    await subscribers.add({NOTE_B: Slow()})  # the first again, after the last left
    assert log[-1] == "+ ends"
