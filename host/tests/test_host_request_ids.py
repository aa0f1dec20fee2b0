"""Streamable HTTP: a POST reusing a request id still in progress gets an answer, at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from plugbay.transports import http_app
from plugbay_testing import RawSession, answer_of
from plugbay_testing.fakes import LocalServer

WAIT_LIMIT = 30.0
"""Seconds to wait for an answer or a state before the test fails (a safety net)."""


class Gate:
    """A sync tool's calls wait here until released; counts those that arrived."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.arrived = threading.Semaphore(0)

    def hold(self, n: int) -> int:
        """Wait until released, then return n."""
        self.arrived.release()
        self.released.wait(WAIT_LIMIT)
        return n

    def wait_for_arrivals(self, count: int) -> None:
        for _ in range(count):
            assert self.arrived.acquire(timeout=WAIT_LIMIT), "a held call did not arrive"


@pytest.fixture
def gate() -> Iterator[Gate]:
    made = Gate()
    yield made
    made.released.set()


@contextmanager
def serving(build: Any, bundle: Any, gate: Gate, *, json_response: bool) -> Iterator[str]:
    def hold(n: int) -> int:
        """Wait at the gate."""
        return gate.hold(n)

    async def quick() -> str:
        """Answer at once."""
        return "quick"

    app = http_app(build(bundle(tools=[hold, quick])), json_response=json_response)
    with LocalServer(app, lifespan="on") as server:
        yield f"{server.url}/mcp"


def _is_refusal(response: httpx.Response, request_id: Any) -> bool:
    answer = answer_of(response)
    return (
        response.status_code == 400
        and answer["id"] == request_id
        and answer["error"]["code"] == -32600
        and "already used by a request in progress" in answer["error"]["message"]
    )


@pytest.mark.parametrize("json_response", [False, True], ids=["sse", "json"])
def test_twelve_posts_with_one_id_get_twelve_answers(
    build: Any, bundle: Any, gate: Gate, json_response: bool
) -> None:
    with (
        serving(build, bundle, gate, json_response=json_response) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
        ThreadPoolExecutor(12) as pool,
    ):
        session = RawSession(http, url).open()
        first = pool.submit(session.call, "hold", 77, arguments={"n": 0})
        gate.wait_for_arrivals(1)
        reused: list[Any] = [77] * 10 + ["77"]  # the SDK correlates "77" with 77
        others = [
            pool.submit(session.call, "hold", request_id, arguments={"n": n})
            for n, request_id in enumerate(reused, start=1)
        ]
        # Every other POST is answered while the first is still held in its tool.
        wait(others, timeout=WAIT_LIMIT)
        assert all(future.done() for future in others)
        assert not first.done()
        refusals = [_is_refusal(f.result(), r) for f, r in zip(others, reused, strict=True)]
        assert refusals == [True] * 11

        gate.released.set()
        answer = answer_of(first.result(timeout=WAIT_LIMIT))
        assert (answer["id"], answer["result"]["structuredContent"]) == (77, {"result": 0})
        # Answered, the id may be used again.
        again = session.call("quick", 77)
        assert answer_of(again)["result"]["isError"] is False


def test_sessions_do_not_share_ids(build: Any, bundle: Any, gate: Gate) -> None:
    with (
        serving(build, bundle, gate, json_response=False) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
        ThreadPoolExecutor(2) as pool,
    ):
        sessions = [RawSession(http, url).open() for _ in range(2)]
        calls: list[Future[httpx.Response]] = [
            pool.submit(session.call, "hold", 5, arguments={"n": n})
            for n, session in enumerate(sessions)
        ]
        gate.wait_for_arrivals(2)  # both reached the tool: neither was refused
        gate.released.set()
        answers = [answer_of(call.result(timeout=WAIT_LIMIT)) for call in calls]
    assert [a["result"]["structuredContent"]["result"] for a in answers] == [0, 1]


def test_the_id_of_the_standalone_stream_is_refused(build: Any, bundle: Any, gate: Gate) -> None:
    from mcp.server.streamable_http import GET_STREAM_KEY

    with (
        serving(build, bundle, gate, json_response=False) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
    ):
        session = RawSession(http, url).open()
        refused = session.call("quick", GET_STREAM_KEY)
        answer = refused.json()
        assert refused.status_code == 400
        assert (answer["id"], answer["error"]["code"]) == (GET_STREAM_KEY, -32600)
        assert "reserved" in answer["error"]["message"]
        assert answer_of(session.call("quick"))["result"]["isError"] is False


@pytest.mark.parametrize("json_response", [False, True], ids=["sse", "json"])
def test_an_id_reused_after_its_answer_is_served(
    build: Any, bundle: Any, gate: Gate, json_response: bool
) -> None:
    # MCP asks clients never to reuse an id in a session; JSON-RPC allows it once answered.
    with (
        serving(build, bundle, gate, json_response=json_response) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
    ):
        session = RawSession(http, url).open()
        answers = [answer_of(session.call("quick", 9)) for _ in range(30)]
    assert all(answer["result"]["isError"] is False for answer in answers)


def test_legacy_sse_refuses_a_reused_id_on_its_stream(build: Any, bundle: Any, gate: Gate) -> None:
    import json
    import queue

    events: queue.Queue[tuple[str, str]] = queue.Queue()

    def listen(http: httpx.Client, url: str, count: int) -> None:
        """Put the first ``count`` events of the stream in ``events``, then hang up."""
        with http.stream("GET", url) as stream:
            kind = "message"
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    events.put((kind, line[5:].strip()))
                    count -= 1
                    if not count:
                        return

    def next_message() -> dict[str, Any]:
        kind, data = events.get(timeout=WAIT_LIMIT)
        assert kind == "message"
        message: dict[str, Any] = json.loads(data)
        return message

    with (
        serving(build, bundle, gate, json_response=False) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
    ):
        base = url.removesuffix("/mcp")
        # The endpoint, then three answers: initialize's, the refusal, the first call's.
        listener = threading.Thread(target=listen, args=(http, f"{base}/sse", 4), daemon=True)
        listener.start()
        kind, endpoint = events.get(timeout=WAIT_LIMIT)
        assert kind == "endpoint"

        def post(message: dict[str, Any]) -> None:
            assert http.post(f"{base}{endpoint}", json=message).status_code == 202

        post(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "sse", "version": "0"},
                },
            }
        )
        assert next_message()["id"] == 1
        post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        call = {"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "hold"}}
        post({**call, "id": 5, "params": {"name": "hold", "arguments": {"n": 1}}})
        gate.wait_for_arrivals(1)
        post({**call, "id": 5, "params": {"name": "hold", "arguments": {"n": 2}}})
        refusal = next_message()
        assert (refusal["id"], refusal["error"]["code"]) == (5, -32600)
        gate.released.set()
        answer = next_message()
        assert (answer["id"], answer["result"]["structuredContent"]) == (5, {"result": 1})
        listener.join(WAIT_LIMIT)
