"""The checks ``plugbay serve`` makes before serving (plugbay.startup) and its banner."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from plugbay.banner import banner_lines, endpoint_url
from plugbay.startup import (
    StartupRefused,
    bind_socket,
    exposure_problem,
    port_in_use,
    strict_problems,
)


class AnyBackend:
    """An authentication backend (which one does not matter to the exposure rule)."""

    name = "any"

    async def authenticate(self, request: Any) -> None:
        return None

    def challenge(self) -> str | None:
        return None


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000/mcp"),
        ("::", "http://[::]:8000/mcp"),
        ("example.com", "http://example.com:8000/mcp"),
    ],
)
def test_endpoint_url(host: str, url: str) -> None:
    assert endpoint_url(host, 8000, "/mcp") == url


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_needs_no_authentication(build: Any, bundle: Any, host: str) -> None:
    assert exposure_problem(build(bundle()), host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "example.com", "localhost.evil"])
def test_other_addresses_need_authentication_or_consent(build: Any, bundle: Any, host: str) -> None:
    problem = exposure_problem(build(bundle()), host)
    assert problem is not None
    assert problem.startswith(f"refusing to serve on {host} without authentication")
    assert exposure_problem(build(bundle()), host, allowed=True) is None
    assert exposure_problem(build(bundle(auth=[AnyBackend()])), host) is None


def test_a_port_in_use_is_refused_with_its_number() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StartupRefused) as refused:
            bind_socket("127.0.0.1", port)
    assert refused.value.problems == [port_in_use(port)]
    assert "--port" in port_in_use(port)


def test_a_free_port_is_bound_for_uvicorn() -> None:
    with bind_socket("127.0.0.1", 0) as bound:
        host, port = bound.getsockname()
        assert host == "127.0.0.1"
        assert port > 0
        assert bound.get_inheritable()


def test_strict_problems_name_each_unusable_instance(build: Any, bundle: Any) -> None:
    assembly = build(bundle(), toml='[connectors.desk]\nplugin = "nowhere"\n')
    assert strict_problems(assembly) == [
        "desk (nowhere) not configured: no installed plugin provides the connector 'nowhere' "
        "(is its package installed? see `plugbay plugins`)"
    ]
    assert "warning: desk (nowhere) not configured: no installed plugin" in "\n".join(
        banner_lines(assembly, "stdio")
    )
