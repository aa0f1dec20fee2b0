"""The ASGI wrapper that runs each request with its MCP session's keys."""

from __future__ import annotations

import gc
from typing import Any

import anyio
import pytest
from starlette.types import Receive, Scope, Send

from plugbay_redis import SessionKeys, bound_session, current_session, session_scoped
from plugbay_redis.sessions import open_sessions

pytestmark = pytest.mark.anyio


class Endpoint:
    """An ASGI app that notes the keys each request runs with and answers as told."""

    def __init__(self, session_id: str | None = None) -> None:
        self.session_id = session_id
        self.seen: list[SessionKeys | None] = []
        self.started: list[SessionKeys | None] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append(current_session())
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"text/plain")]
        if self.session_id is not None:
            headers.append((b"Mcp-Session-Id", self.session_id.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


async def _request(app: Any, session_id: str | None = None) -> list[dict[str, Any]]:
    headers = [(b"accept", b"text/event-stream")]
    if session_id is not None:
        headers.append((b"mcp-session-id", session_id.encode()))
    scope = {"type": "http", "method": "POST", "path": "/mcp", "headers": headers}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_an_opening_request_gets_fresh_keys_that_its_session_keeps() -> None:
    opening = Endpoint(session_id="s-opened-1")
    sent = await _request(session_scoped(opening))
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    (keys,) = opening.seen
    assert isinstance(keys, SessionKeys)

    later = Endpoint()
    await _request(session_scoped(later), "s-opened-1")
    assert later.seen == [keys]
    assert current_session() is None  # nothing leaks out of the request


async def test_each_opening_request_gets_keys_of_its_own() -> None:
    first, second = Endpoint("s-a"), Endpoint("s-b")
    await _request(session_scoped(first))
    await _request(session_scoped(second))
    assert first.seen[0] is not second.seen[0]
    a, b = Endpoint(), Endpoint()
    await _request(session_scoped(a), "s-a")
    await _request(session_scoped(b), "s-b")
    assert a.seen == first.seen
    assert b.seen == second.seen


async def test_an_unknown_session_runs_with_no_keys_whatever_the_context_had() -> None:
    endpoint = Endpoint()
    with bound_session(SessionKeys()):  # as a reused connection's callbacks may carry
        await _request(session_scoped(endpoint), "never-opened-here")
    assert endpoint.seen == [None]


async def test_a_response_without_a_session_registers_nothing() -> None:
    gc.collect()
    before = open_sessions()
    endpoint = Endpoint(session_id=None)
    await _request(session_scoped(endpoint))
    # endpoint.seen holds the keys: registered, they would be counted.
    assert isinstance(endpoint.seen[0], SessionKeys)
    assert open_sessions() == before


async def test_other_scopes_pass_through_untouched() -> None:
    endpoint = Endpoint()
    wrapped = session_scoped(endpoint)
    outer = SessionKeys()
    with bound_session(outer):
        await wrapped({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert endpoint.seen == [outer]


async def test_keys_live_as_long_as_the_sessions_tasks_and_no_longer() -> None:
    """The registry holds keys weakly: a session's tasks (their context) keep them."""
    release = anyio.Event()

    class Opening(Endpoint):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            # As the SDK's session manager does: the session's task starts from here.
            group.start_soon(self.session_task)
            await super().__call__(scope, receive, send)

        async def session_task(self) -> None:
            self.started.append(current_session())
            await release.wait()

    opening = Opening(session_id="s-weak")
    async with anyio.create_task_group() as group:
        await _request(session_scoped(opening))
        await anyio.sleep(0)
        gc.collect()
        later = Endpoint()
        await _request(session_scoped(later), "s-weak")
        assert later.seen == opening.started != [None]
        release.set()
    opening.seen.clear()
    opening.started.clear()
    later.seen.clear()
    gc.collect()
    after = Endpoint()
    await _request(session_scoped(after), "s-weak")
    assert after.seen == [None]
