"""Serving as deployed: ``plugbay serve --workers N`` and OTLP export from a real server.

The servers run as subprocesses on 127.0.0.1 with a tiny test plugin, installed into a
temporary directory (a module and its ``.dist-info``) that only they see.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from plugbay_testing.fakes import OtlpCollector

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PLUGIN = '''
"""A test plugin: which worker process answered?"""

import logging
import os

from plugbay import hookimpl


def worker_pid() -> int:
    """The process id of the worker serving this call."""
    logging.getLogger("plugbay_pidtest").info("worker %s answering", os.getpid())
    return os.getpid()


@hookimpl
def register_tools(register):
    register(worker_pid, read_only=True)
'''


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that makes ``plugbay-pidtest`` installed for processes that use it."""
    site = tmp_path_factory.mktemp("pidtest-site")
    (site / "plugbay_pidtest.py").write_text(PLUGIN)
    info = site / "plugbay_pidtest-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugbay-pidtest\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[plugbay]\npidtest = plugbay_pidtest\n")
    return site


@pytest.fixture(scope="module")
def env(e2e: Any, plugin_site: Path) -> dict[str, str]:
    return e2e.child_env(["pidtest", "telemetry"], [plugin_site])


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    with OtlpCollector() as running:
        yield running


def span_names(collector: OtlpCollector) -> list[str]:
    return [
        span.name
        for body in collector.bodies("/v1/traces")
        for resource in ExportTraceServiceRequest.FromString(body).resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


def service_names(collector: OtlpCollector) -> set[str]:
    return {
        attribute.value.string_value
        for body in collector.bodies("/v1/traces")
        for resource in ExportTraceServiceRequest.FromString(body).resource_spans
        for attribute in resource.resource.attributes
        if attribute.key == "service.name"
    }


def metric_names(collector: OtlpCollector) -> set[str]:
    return {
        metric.name
        for body in collector.bodies("/v1/metrics")
        for resource in ExportMetricsServiceRequest.FromString(body).resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }


def _telemetry_config(workdir: Path, collector: OtlpCollector, service: str) -> Path:
    path = workdir / "plugbay.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [telemetry]
            service_name = "{service}"
            otlp_endpoint = "{collector.endpoint}"
            metric_interval = 3600
            """
        )
    )
    return path


async def _pids(url: str, clients: int, calls: int, mode: str) -> list[int]:
    """Call ``worker_pid`` from ``clients`` concurrent clients, each on its own connection."""
    pids: list[int] = []

    async def one_client() -> None:
        async with Client(url, mode=mode) as client:
            for _ in range(calls):
                result = await client.call_tool("worker_pid", {})
                assert not result.is_error, result
                assert result.structured_content is not None
                pids.append(result.structured_content["result"])

    async with anyio.create_task_group() as group:
        for _ in range(clients):
            group.start_soon(one_client)
    return pids


async def test_several_workers_serve_statelessly_and_stop_cleanly(
    e2e: Any, tmp_path: Path, env: dict[str, str], collector: OtlpCollector
) -> None:
    config = _telemetry_config(tmp_path, collector, "scale-out-test")
    with e2e.http_server(tmp_path, env, "--workers", "2", "--config", str(config)) as served:
        seen: set[int] = set()
        calls = 0
        with anyio.fail_after(60):
            # Connections are spread over the workers by the kernel, not round robin:
            # open fresh ones until both workers have answered.
            for round_number in range(20):
                mode = "legacy" if round_number % 2 else "auto"
                pids = await _pids(served.url, clients=6, calls=5, mode=mode)
                calls += len(pids)
                seen.update(pids)
                if len(seen) >= 2 and round_number >= 1:
                    break
        assert len(seen) == 2, f"only {seen} answered {calls} calls:\n{served.output()}"
        assert served.process.pid not in seen  # the supervisor serves nothing itself
        ready = httpx.get(f"http://127.0.0.1:{served.port}/readyz", timeout=5)
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        status = served.stop()
    output = served.output()
    assert status == 0, output
    assert "Traceback" not in output
    # Each worker installed telemetry from the configuration and flushed it on its way out.
    assert service_names(collector) == {"scale-out-test"}
    assert "execute_tool worker_pid" in span_names(collector)


def test_workers_refuse_stateful_sessions_and_stdio(
    e2e: Any, tmp_path: Path, env: dict[str, str]
) -> None:
    for args, message in (
        (["--workers", "2", "--stateful"], "several workers cannot share stateful sessions"),
        (["--workers", "3", "--stdio"], "--workers applies to HTTP"),
    ):
        done = e2e.run_plugbay(["serve", *args], cwd=tmp_path, env=env)
        assert done.returncode == 2
        assert message in done.stderr


async def test_a_served_call_is_exported_with_trace_ids_in_the_log(
    e2e: Any, tmp_path: Path, env: dict[str, str], collector: OtlpCollector
) -> None:
    config = _telemetry_config(tmp_path, collector, "otlp-e2e")
    with e2e.http_server(tmp_path, env, "--config", str(config)) as served:
        async with Client(served.url, mode="legacy") as client:
            result = await client.call_tool("worker_pid", {})
        assert result.structured_content == {"result": served.process.pid}
        status = served.stop()
    output = served.output()
    assert status == 0, output
    names = span_names(collector)
    assert "tools/call worker_pid" in names
    assert "execute_tool worker_pid" in names
    assert service_names(collector) == {"otlp-e2e"}
    assert {"mcp.server.operation.duration", "plugbay.calls"} <= metric_names(collector)
    (line,) = [line for line in output.splitlines() if "answering" in line]
    assert "trace_id=" in line
    assert "trace_id=00000000000000000000000000000000" not in line
