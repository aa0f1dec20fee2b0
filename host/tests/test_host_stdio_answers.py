"""Over a real stdio pipe: unreadable lines, reused request ids, sync tools that hang.

A subprocess runs ``stdio_child.py`` (a plugbay server on stdio with tools that
hold their worker threads until released); the test writes lines and reads answers.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

CHILD = Path(__file__).with_name("stdio_child.py")
WAIT_LIMIT = 30.0
"""Seconds to wait for an answer before the test fails (a safety net, not a measure)."""


class StdioChild:
    """The child server, answers collected by id as they arrive."""

    def __init__(self, log: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGBAY_")}
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._early: list[dict[str, Any]] = []
        self._ids = iter(range(10_000, 100_000))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)

    def write(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.write(json.dumps(message))

    def next_answer(self) -> dict[str, Any]:
        """The next message the server writes."""
        if self._early:
            return self._early.pop(0)
        answer: dict[str, Any] = json.loads(self._lines.get(timeout=WAIT_LIMIT))
        return answer

    def answer_to(self, request_id: Any) -> dict[str, Any]:
        """The answer with this id; answers to other ids are kept for later."""
        for index, early in enumerate(self._early):
            if early.get("id") == request_id:
                return self._early.pop(index)
        while True:
            answer: dict[str, Any] = json.loads(self._lines.get(timeout=WAIT_LIMIT))
            if answer.get("id") == request_id:
                return answer
            self._early.append(answer)

    def call(self, tool: str, request_id: Any = None, **arguments: Any) -> Any:
        """Send ``tools/call`` and return the request's id."""
        request_id = next(self._ids) if request_id is None else request_id
        self.send(
            {
                "jsonrpc": "2.0",
                "id": request_id,
                "method": "tools/call",
                "params": {"name": tool, "arguments": arguments},
            }
        )
        return request_id

    def result_of(self, tool: str, **arguments: Any) -> Any:
        """Call a tool and return its result (a text's text)."""
        result = self.answer_to(self.call(tool, **arguments))["result"]
        assert result["isError"] is False, result
        if "structuredContent" in result:
            return result["structuredContent"]["result"]
        return result["content"][0]["text"]

    def open(self) -> StdioChild:
        self.send(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "stdio-answers", "version": "0"},
                },
            }
        )
        assert "result" in self.answer_to(0)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return self

    def held_until(self, count: int) -> None:
        """Wait until ``count`` hold calls have entered their threads."""
        for _ in range(int(WAIT_LIMIT * 20)):
            started = self.result_of("held")
            if started >= count:
                return
            threading.Event().wait(0.05)
        raise AssertionError(f"{count} hold calls did not start")

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.close()
                self.process.wait(WAIT_LIMIT)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def child(tmp_path: Path) -> Any:
    children: list[StdioChild] = []

    def start(*args: str) -> StdioChild:
        started = StdioChild(tmp_path / f"child-{len(children)}.log", *args)
        children.append(started)
        return started.open()

    yield start
    for started in children:
        try:
            if started.process.poll() is None:
                started.send(
                    {
                        "jsonrpc": "2.0",
                        "id": "cleanup",
                        "method": "tools/call",
                        "params": {"name": "release", "arguments": {}},
                    }
                )
        except OSError:
            pass
        started.close()


def test_an_unreadable_line_gets_a_parse_error_and_the_session_goes_on(child: Any) -> None:
    server = child()
    server.write("this is not JSON {")
    parse_error = server.next_answer()
    assert parse_error["id"] is None
    assert parse_error["error"]["code"] == -32700
    assert parse_error["error"]["message"].startswith("Parse error")

    server.write('{"jsonrpc": "2.0", "id": 7, "method": 5}')
    invalid = server.next_answer()
    assert invalid["id"] == 7
    assert invalid["error"]["code"] == -32600

    server.write("[1, 2]")
    batch = server.next_answer()
    assert (batch["id"], batch["error"]["code"]) == (None, -32600)

    # A blank line is no message: the next answer is the ping's.
    server.write("")
    server.send({"jsonrpc": "2.0", "id": 8, "method": "ping"})
    assert server.next_answer() == {"jsonrpc": "2.0", "id": 8, "result": {}}
    assert server.result_of("quick") == "quick"
    assert server.process.poll() is None


def test_a_reused_id_is_refused_while_the_first_request_is_in_progress(child: Any) -> None:
    server = child()
    server.call("hold", request_id=5, n=1)
    server.held_until(1)
    server.call("hold", request_id=5, n=2)
    server.call("hold", request_id="5", n=3)  # the SDK correlates "5" with 5
    refusals = [server.next_answer(), server.next_answer()]
    assert [answer["id"] for answer in refusals] == [5, "5"]
    for answer in refusals:
        assert answer["error"]["code"] == -32600
        assert "already used by a request in progress" in answer["error"]["message"]
    assert server.result_of("held") == 1  # neither reached its tool

    assert server.result_of("release") == "released"
    first = server.answer_to(5)
    assert first["result"]["structuredContent"] == {"result": 1}
    # Answered, the id is free again.
    assert server.answer_to(server.call("quick", request_id=5))["result"]["isError"] is False


def test_twelve_requests_with_one_id_get_twelve_answers(child: Any) -> None:
    server = child()
    for n in range(12):
        server.call("hold", request_id=77, n=n)
    refusals = [server.next_answer() for _ in range(11)]
    assert all(answer["id"] == 77 and answer["error"]["code"] == -32600 for answer in refusals)
    server.result_of("release")
    assert server.answer_to(77)["result"]["structuredContent"] == {"result": 0}


def test_an_async_tool_answers_while_200_sync_calls_hold_every_worker(child: Any) -> None:
    server = child("4")
    held = [server.call("hold", n=n) for n in range(200)]
    server.held_until(4)
    assert server.result_of("quick") == "quick"
    # The sync calls are still blocked, and no more than the pool's 4 ever started.
    assert server.result_of("held") == 4
    server.result_of("release")
    results = [server.answer_to(request_id) for request_id in held]
    assert [r["result"]["structuredContent"]["result"] for r in results] == list(range(200))
