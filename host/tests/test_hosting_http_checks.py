"""Exact Host and Origin checks, one credential per request, forwarded addresses only
from trusted proxies (in process; the real-socket side is in test_hosting_connections)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from plugbay import Context
from plugbay.auth import HttpRequestInfo, Principal
from plugbay.config import parse_config
from plugbay.errors import ConfigError
from plugbay.network import split_authority
from plugbay.transports import http_app

BASE = "http://127.0.0.1:8000"
JSON_RPC = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
KEY = "pbk_" + "k" * 43
OTHER_KEY = "pbk_" + "o" * 43


async def whoami(ctx: Context) -> str:
    """Who is calling."""
    return ctx.principal.name


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("LocalHost", ("localhost", None)),
        ("[::1]:8000", ("::1", 8000)),
        ("[0:0:0:0:0:0:0:1]", ("::1", None)),
        ("mcp.example.com:443", ("mcp.example.com", 443)),
        ("127.0.0.1:8000.evil.example", None),
        ("127.0.0.1:8000@evil.example", None),
        ("127.0.0.1:+80", None),
        ("127.0.0.1: 80", None),
        ("127.0.0.1:80_00", None),
        ("127.0.0.1:65536", None),
        ("127.0.0.1:", None),
        ("::1", None),
        ("[::1]x", None),
        ("[evil.example]:80", None),
        (":8000", None),
    ],
)
def test_authorities_are_parsed_whole(value: str, parsed: tuple[str, int | None] | None) -> None:
    assert split_authority(value) == parsed


HOSTS = [
    ("127.0.0.1:8000", 200),
    ("localhost:8000", 200),
    ("LOCALHOST:8123", 200),
    ("[::1]:8000", 200),
    ("127.0.0.1", 200),
    ("127.0.0.1:8000.evil.example", 421),
    ("localhost:8000.evil.example", 421),
    ("127.0.0.1:8000@evil.example", 421),
    ("[::1]:8000.evil.example", 421),
    ("localhost.evil.example:8000", 421),
    ("127.0.0.2:8000", 421),
    ("evil.example", 421),
]
ORIGINS = [
    ("http://localhost:6274", 200),
    ("http://127.0.0.1:8000", 200),
    ("http://[::1]:3000", 200),
    ("http://127.0.0.1:8000.evil.example", 403),
    ("http://localhost:6274.evil.example", 403),
    ("http://localhost.evil.example:6274", 403),
    ("http://127.0.0.1:8000/", 403),
    ("https://evil.example", 403),
    ("null", 403),
]


def test_loopback_hosts_and_origins_are_compared_exactly(build, bundle) -> None:
    app = http_app(build(bundle(tools=[whoami])), stateless=True, json_response=True)
    answers: dict[str, int] = {}
    with TestClient(app, base_url=BASE) as http:
        for host, _ in HOSTS:
            answer = http.post("/mcp", json=LIST_TOOLS, headers={**JSON_RPC, "host": host})
            answers[host] = answer.status_code
        for origin, _ in ORIGINS:
            answer = http.post("/mcp", json=LIST_TOOLS, headers={**JSON_RPC, "origin": origin})
            answers[origin] = answer.status_code
        # The legacy SSE endpoints are behind the same check.
        sse = http.get("/sse", headers={"host": "127.0.0.1:8000.evil.example"})
        messages = http.post(
            "/messages/?session_id=00", json=LIST_TOOLS, headers={"origin": "null"}
        )
    assert answers == dict(HOSTS + ORIGINS)
    assert (sse.status_code, messages.status_code) == (421, 403)


def test_configured_hosts_must_be_host_names_with_an_optional_port() -> None:
    for entry in ("https://mcp.example.com", "mcp.example.com:port", "*", "a b"):
        with pytest.raises(ConfigError, match="allowed_hosts"):
            parse_config({"server": {"allowed_hosts": [entry]}}, environ={})
    good = ["mcp.example.com", "mcp.example.com:8443", "mcp.example.com:*", "[::1]:*"]
    assert parse_config({"server": {"allowed_hosts": good}}, environ={}).server.allowed_hosts


def test_configured_hosts_match_whole_names_and_ports(build, bundle) -> None:
    toml = '[server]\nallowed_hosts = ["mcp.example.com:*", "api.example.com:8443"]\n'
    app = http_app(build(bundle(tools=[whoami]), toml=toml), host="0.0.0.0", stateless=True)
    expected = {
        "mcp.example.com": 200,
        "mcp.example.com:443": 200,
        "api.example.com:8443": 200,
        "api.example.com": 421,
        "api.example.com:8443.evil.example": 421,
        "mcp.example.com.evil.example:443": 421,
        "mcp.example.com:443.evil.example": 421,
        "127.0.0.1:8000": 421,
    }
    with TestClient(app, base_url=BASE) as http:
        answers = {
            host: http.post("/mcp", json=LIST_TOOLS, headers={**JSON_RPC, "host": host}).status_code
            for host in expected
        }
    assert answers == expected


class KeyBackend:
    """Knows ``KEY`` and ``OTHER_KEY``, as a bearer token or in ``x-api-key``."""

    name = "keys"
    holders = {KEY: "alice", OTHER_KEY: "mallory"}

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        holder = self.holders.get(presented or request.headers.get("x-api-key", ""))
        return None if holder is None else Principal(name=holder)

    def challenge(self) -> str | None:
        return 'Bearer realm="test"'


def test_a_credential_header_sent_twice_is_refused(build, bundle) -> None:
    plugin = bundle(tools=[whoami], auth=[KeyBackend()])
    app = http_app(build(plugin), stateless=True, json_response=True)
    twice = [
        [("authorization", f"Bearer {KEY}"), ("authorization", f"Bearer {OTHER_KEY}")],
        [("authorization", f"Bearer {KEY}"), ("authorization", f"Bearer {KEY}")],
        [("x-api-key", KEY), ("x-api-key", OTHER_KEY)],
        [("Authorization", f"Bearer {KEY}"), ("AUTHORIZATION", "Bearer nonsense")],
    ]
    with TestClient(app, base_url=BASE) as http:
        refused = [
            http.post("/mcp", json=LIST_TOOLS, headers=[*JSON_RPC.items(), *pair]) for pair in twice
        ]
        once = http.post("/mcp", json=LIST_TOOLS, headers={**JSON_RPC, "x-api-key": KEY})
    for answer in refused:
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_request"
        assert KEY not in answer.text
    assert once.status_code == 200


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ("", "127.0.0.1"),  # nobody trusted: the forged header changes nothing
        ('trusted_proxies = ["10.9.9.9"]\n', "127.0.0.1"),  # this proxy is not the client
        ('trusted_proxies = ["127.0.0.0/8"]\n', "10.1.2.3"),
    ],
)
def test_forwarded_addresses_are_believed_only_from_trusted_proxies(
    build, bundle, trusted: str, expected: str
) -> None:
    seen: list[str] = []

    def record_client(app: Any) -> Any:
        # What every ASGI wrapper and authentication backend sees as the client.
        async def wrapped(scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope["client"][0])
            await app(scope, receive, send)

        return wrapped

    plugin = bundle(tools=[whoami], wrappers=[record_client])
    app = http_app(build(plugin, toml=f"[server]\n{trusted}"), stateless=True, json_response=True)
    with TestClient(app, base_url=BASE, client=("127.0.0.1", 50000)) as http:
        answer = http.post(
            "/mcp", json=LIST_TOOLS, headers={**JSON_RPC, "x-forwarded-for": "10.1.2.3"}
        )
    assert answer.status_code == 200
    assert seen == [expected]
