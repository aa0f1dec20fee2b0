"""/readyz: every connector instance started and healthy, or which one is not and why."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from plugbay import Connector, Settings, tool
from plugbay.auth import AuthenticationFailed, Principal
from plugbay.hosting.readiness import Readiness
from plugbay.transports import http_app

pytestmark = pytest.mark.anyio

BASE = "http://127.0.0.1:8000"
LOCAL = ("127.0.0.1", 50000)
"""A client on this machine, which sees the details (others get the status alone)."""


class Overlap:
    """How many health checks were running at once, at most."""

    inside = 0
    most = 0


@contextmanager
def _checking() -> Iterator[None]:
    Overlap.inside += 1
    Overlap.most = max(Overlap.most, Overlap.inside)
    try:
        yield
    finally:
        Overlap.inside -= 1


class Healthy(Connector):
    """Always fine."""

    name = "healthy"
    checks = 0

    async def check_health(self) -> None:
        type(self).checks += 1
        with _checking():
            await anyio.sleep(0.2)

    @tool(read_only=True)
    def ping(self) -> str:
        """Answer."""
        return "pong"


class Sick(Connector):
    """Its backend refuses, with a message that must not leave the server."""

    name = "sick"

    async def check_health(self) -> None:
        raise RuntimeError("login with password=hunter2 was refused")


class Hanging(Connector):
    """Its backend never answers."""

    name = "hanging"

    async def check_health(self) -> None:
        with _checking():
            await anyio.sleep(30)


class Unstartable(Connector):
    """Cannot connect at start."""

    name = "unstartable"

    async def start(self) -> None:
        raise ConnectionError("token tok_live_123 rejected")


class KeySettings(Settings):
    api_key: SecretStr


class Keyed(Connector[KeySettings]):
    """Needs an API key."""

    name = "keyed"


CONNECTORS = [Healthy, Sick, Hanging, Unstartable, Keyed]


def _toml(*instances: str) -> str:
    return "".join(f'[connectors.{name}]\nplugin = "{name}"\n' for name in instances)


def test_ready_when_every_instance_is_started_and_healthy(build, bundle) -> None:
    Healthy.checks = 0
    app = http_app(build(bundle(connectors=CONNECTORS), toml=_toml("healthy")))
    with TestClient(app, base_url=BASE, client=LOCAL) as http:
        response = http.get("/readyz")
        again = http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "instances": {"healthy": {"connector": "healthy", "status": "ready", "ready": True}},
    }
    assert again.json() == response.json()
    assert Healthy.checks == 1  # the second probe within a second got the cached answer


def test_not_ready_says_which_instance_and_why_without_secrets(build, bundle) -> None:
    toml = _toml("healthy", "sick", "hanging", "unstartable", "keyed")
    app = http_app(build(bundle(connectors=CONNECTORS), toml=toml))
    app.state.readiness.timeout = 0.3
    with TestClient(app, base_url=BASE, client=LOCAL) as http:
        Overlap.most = 0
        response = http.get("/readyz")
    assert response.status_code == 503
    document = response.json()
    assert document["status"] == "not ready"
    assert document["not_ready"] == ["hanging", "keyed", "sick", "unstartable"]
    instances = document["instances"]
    assert instances["healthy"]["ready"] is True
    assert instances["sick"] == {
        "connector": "sick",
        "status": "ready",
        "ready": False,
        "reason": "health check failed (RuntimeError)",
    }
    assert instances["hanging"]["reason"] == "health check did not answer within 0.3 s"
    assert instances["unstartable"]["status"] == "failed"
    assert instances["unstartable"]["reason"] == "failed to start (ConnectionError)"
    assert instances["keyed"]["status"] == "not configured"
    assert instances["keyed"]["reason"].startswith("not configured: api_key is required")
    assert "PLUGBAY_KEYED__API_KEY" in instances["keyed"]["reason"]
    assert "hunter2" not in response.text
    assert "tok_live_123" not in response.text
    # The checks ran side by side: the healthy one and the hanging one were in at once.
    assert Overlap.most >= 2


def test_without_a_connectors_table_unconfigured_connectors_do_not_block(build, bundle) -> None:
    app = http_app(build(bundle(connectors=[Healthy, Keyed])))
    with TestClient(app, base_url=BASE, client=LOCAL) as http:
        response = http.get("/readyz")
    assert response.status_code == 200
    assert response.json()["instances"]["keyed"] == {
        "connector": "keyed",
        "status": "not configured",
        "ready": True,
        "reason": "not configured (no [connectors] table names it)",
    }


async def test_not_ready_before_start_and_after_stop_and_the_cache_expires(build, bundle) -> None:
    Healthy.checks = 0
    assembly = build(bundle(connectors=[Healthy]), toml=_toml("healthy"))
    readiness = Readiness(assembly, cache_seconds=0.05)
    ready, document = await readiness.report()
    assert not ready
    assert document["instances"]["healthy"]["reason"] == "not started yet"
    await anyio.sleep(0.06)
    await assembly.start()
    ready, _ = await readiness.report()
    assert ready
    assert Healthy.checks == 1
    await anyio.sleep(0.06)
    await assembly.stop()
    ready, document = await readiness.report()
    assert not ready
    assert document["instances"]["healthy"]["reason"] == "stopped"


async def test_concurrent_probes_share_one_round_of_checks(build, bundle) -> None:
    Healthy.checks = 0
    assembly = build(bundle(connectors=[Healthy]), toml=_toml("healthy"))
    await assembly.start()
    readiness = Readiness(assembly)
    results: list[bool] = []

    async def probe() -> None:
        results.append((await readiness.report())[0])

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(probe)
    await assembly.stop()
    assert results == [True] * 5
    assert Healthy.checks == 1


async def test_extra_checks_are_reported_beside_the_instances(build, bundle) -> None:
    async def redis_down() -> None:
        raise ConnectionRefusedError("redis://:secret@cache:6379 refused")

    async def fine() -> None:
        return None

    assembly = build(bundle(connectors=[Healthy]), toml=_toml("healthy"))
    await assembly.start()
    try:
        ready, document = await Readiness(
            assembly, checks={"event_store": redis_down, "other": fine}
        ).report()
    finally:
        await assembly.stop()
    assert not ready
    assert document["checks"] == {
        "event_store": {"ready": False, "reason": "health check failed (ConnectionRefusedError)"},
        "other": {"ready": True},
    }
    assert document["not_ready"] == ["event_store"]


def test_a_failing_plugin_readiness_check_makes_the_server_not_ready(build, bundle) -> None:
    async def unreachable() -> None:
        raise ConnectionError("the queue is unreachable")

    async def fine() -> None:
        return None

    checks = [(unreachable, {"name": "queue"}), (fine, {"name": "cache"})]
    app = http_app(build(bundle(connectors=[Healthy], readiness=checks), toml=_toml("healthy")))
    with TestClient(app, base_url=BASE, client=LOCAL) as http:
        response = http.get("/readyz")
    assert response.status_code == 503
    document = response.json()
    assert document["checks"]["queue"]["ready"] is False
    assert document["checks"]["queue"]["reason"].startswith("health check failed (")
    assert document["checks"]["cache"]["ready"] is True


def test_readiness_needs_no_authentication(build, bundle) -> None:
    class Refuse:
        name = "refuse"

        async def authenticate(self, request: object) -> None:
            return None

        def challenge(self) -> str | None:
            return None

    app = http_app(build(bundle(connectors=[Healthy], auth=[Refuse()]), toml=_toml("healthy")))
    with TestClient(app, base_url=BASE, client=LOCAL) as http:
        assert http.get("/readyz").status_code == 200
        assert http.post("/mcp", json={}).status_code == 401


def test_anonymous_probes_get_the_status_alone(build, bundle) -> None:
    toml = _toml("healthy", "sick")
    app = http_app(build(bundle(connectors=CONNECTORS), toml=toml))
    elsewhere = ("10.1.2.3", 40000)
    with TestClient(app, base_url=BASE, client=elsewhere) as http:
        remote = http.get("/readyz")
    app = http_app(build(bundle(connectors=CONNECTORS), toml=toml))
    with TestClient(app, base_url=BASE, client=LOCAL) as http:
        # A proxy on this machine passes others' requests on from loopback.
        forwarded = http.get("/readyz", headers={"x-forwarded-for": "203.0.113.9"})
        # A web page reaching 127.0.0.1 under its own name (DNS rebinding).
        rebound = http.get("/readyz", headers={"host": "evil.example:8000"})
        local = http.get("/readyz")
    for answer in (remote, forwarded, rebound):
        assert answer.status_code == 503
        assert answer.json() == {"status": "not ready"}
    assert local.status_code == 503
    assert local.json()["not_ready"] == ["sick"]


def test_authenticated_callers_see_the_details_from_anywhere(build, bundle) -> None:
    class OneKey:
        name = "one-key"

        async def authenticate(self, request: Any) -> Principal | None:
            if request.headers.get("authorization") == "Bearer let-me-in":
                return Principal(name="ops")
            if "authorization" in request.headers:
                raise AuthenticationFailed("wrong key")
            return None

        def challenge(self) -> str | None:
            return None

    app = http_app(build(bundle(connectors=[Healthy], auth=[OneKey()]), toml=_toml("healthy")))
    with TestClient(app, base_url=BASE, client=("10.1.2.3", 40000)) as http:
        known = http.get("/readyz", headers={"authorization": "Bearer let-me-in"})
        wrong = http.get("/readyz", headers={"authorization": "Bearer guess"})
        twice = http.get(
            "/readyz",
            headers=[("authorization", "Bearer let-me-in"), ("authorization", "Bearer x")],
        )
    assert known.json()["instances"]["healthy"]["ready"] is True
    assert wrong.status_code == twice.status_code == 200
    assert wrong.json() == twice.json() == {"status": "ready"}
