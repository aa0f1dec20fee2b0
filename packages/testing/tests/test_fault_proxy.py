"""`FaultProxy`: every request reaches the server behind it; armed answers are spoiled."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from plugbay_testing.fakes import FaultProxy, LocalServer


class Counter:
    """A server that counts what it receives and answers with the count."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        self.app = Starlette(
            routes=[Route("/{path:path}", self._serve, methods=["GET", "POST", "DELETE"])]
        )

    async def _serve(self, request: Request) -> JSONResponse:
        self.received.append((request.method, request.url.path, await request.body()))
        return JSONResponse({"count": len(self.received), "padding": "x" * 40}, status_code=201)


@pytest.fixture
def counter() -> Iterator[tuple[Counter, FaultProxy]]:
    server = Counter()
    with LocalServer(server.app) as running, FaultProxy(running.url) as proxy:
        yield server, proxy


def test_requests_pass_through_untouched(
    counter: tuple[Counter, FaultProxy],
) -> None:
    server, proxy = counter
    with httpx.Client(base_url=proxy.url) as client:
        first = client.post("/things", content=b'{"name": "a"}')
        second = client.get("/things?x=1")
    assert (first.status_code, first.json()["count"]) == (201, 1)
    assert second.json()["count"] == 2
    assert server.received[0] == ("POST", "/things", b'{"name": "a"}')
    assert [(item.method, item.path, item.fault) for item in proxy.requests] == [
        ("POST", "/things", None),
        ("GET", "/things", None),
    ]


def test_a_spoiled_status_comes_after_the_server_acted(
    counter: tuple[Counter, FaultProxy],
) -> None:
    server, proxy = counter
    proxy.spoil(502, method="POST", path="/things")
    with httpx.Client(base_url=proxy.url) as client:
        spoiled = client.post("/things", json={})
        after = client.post("/things", json={})
    assert spoiled.status_code == 502
    assert "502 Bad Gateway" in spoiled.text
    assert after.status_code == 201
    assert len(server.received) == 2
    assert proxy.count("POST", "/things") == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("reset", httpx.ReadError),
        ("close", httpx.RemoteProtocolError),
        ("truncated", httpx.RemoteProtocolError),
        ("hang", httpx.ReadTimeout),
    ],
)
def test_a_lost_answer_follows_a_request_the_server_received(
    counter: tuple[Counter, FaultProxy], fault: str, error: type[Exception]
) -> None:
    server, proxy = counter
    proxy.spoil(fault, method="POST")  # type: ignore[arg-type]
    with httpx.Client(base_url=proxy.url, timeout=0.5) as client, pytest.raises(error):
        client.post("/things", json={})
    assert len(server.received) == 1


def test_garbage_is_half_the_answer_as_a_whole_message(
    counter: tuple[Counter, FaultProxy],
) -> None:
    server, proxy = counter
    proxy.spoil("garbage")
    with httpx.Client(base_url=proxy.url) as client:
        answer = client.post("/things", json={})
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        answer.json()
    assert len(server.received) == 1


def test_only_matching_requests_are_spoiled_and_only_so_often(
    counter: tuple[Counter, FaultProxy],
) -> None:
    _server, proxy = counter
    proxy.spoil(500, times=2, method="POST", path="/rpc", body_contains=b'"create"')
    with httpx.Client(base_url=proxy.url) as client:
        statuses = [
            client.post("/rpc", json={"method": "read"}).status_code,
            client.get("/rpc").status_code,
            client.post("/other", json={"method": "create"}).status_code,
            client.post("/rpc", json={"method": "create"}).status_code,
            client.post("/rpc", json={"method": "create"}).status_code,
            client.post("/rpc", json={"method": "create"}).status_code,
        ]
    assert statuses == [201, 201, 201, 500, 500, 201]
