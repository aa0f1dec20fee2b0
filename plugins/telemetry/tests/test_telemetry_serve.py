"""``plugbay serve`` with plugbay-telemetry: ``/metrics`` scraped over HTTP, OTLP flushed at stop.

The servers run as subprocesses on 127.0.0.1 (OpenTelemetry's providers are set once per
process, so a real server is the only place the whole install can run), with a small
test plugin written into a temporary directory only they see: tools, and an API-key
backend so that the route's authentication can be told apart from its absence.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from plugbay_testing.fakes import OtlpCollector, free_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
KEY = "metrics-test-key"

PLUGIN = f'''
"""Tools to measure, and an API-key backend."""

import anyio

from plugbay import Principal, ToolError, hookimpl


async def quick() -> str:
    """Answer at once."""
    return "done"


def broken() -> str:
    """Refuse, as a tool may."""
    raise ToolError("not today")


async def slow(release: str) -> str:
    """Wait until the file ``release`` exists (at most 30 seconds)."""
    with anyio.fail_after(30):
        while not await anyio.Path(release).exists():
            await anyio.sleep(0.05)
    return "late"


class TestKey:
    name = "test-key"

    async def authenticate(self, request):
        if request.headers.get("x-test-key") == "{KEY}":
            return Principal(name="scraper")
        return None

    def challenge(self):
        return None


@hookimpl
def register_tools(register):
    register(quick)
    register(broken)
    register(slow)


@hookimpl
def register_auth(register):
    register(TestKey())
'''


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that makes ``plugbay-metricstest`` installed for processes that use it."""
    site = tmp_path_factory.mktemp("metricstest-site")
    (site / "plugbay_metricstest.py").write_text(PLUGIN)
    info = site / "plugbay_metricstest-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: plugbay-metricstest\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text("[plugbay]\nmetricstest = plugbay_metricstest\n")
    return site


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    with OtlpCollector() as running:
        yield running


@dataclass
class Served:
    """A ``plugbay serve`` subprocess on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, then the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(STOP_TIMEOUT)


def _env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLUGBAY_", "OTEL_"))}
    env["PYTHONPATH"] = str(site)
    env["PLUGBAY_PLUGINS"] = "telemetry,metricstest"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _write_config(workdir: Path, telemetry: str) -> Path:
    path = workdir / "plugbay.toml"
    path.write_text(textwrap.dedent(telemetry))
    return path


@contextmanager
def serving(workdir: Path, site: Path, *args: str) -> Iterator[Served]:
    """Run ``plugbay serve`` until the block ends; wait for ``/healthz`` first."""
    port = free_port()
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "plugbay.cli", "serve", "--port", str(port), *args],
            cwd=workdir,
            env=_env(site),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Served(process, port, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"plugbay serve exited with {process.returncode}:\n{served.output()}")
            try:
                if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"plugbay serve did not start:\n{served.output()}")
            time.sleep(0.05)
        yield served
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT)


def _spans(collector: OtlpCollector) -> list[Span]:
    """Every span the collector received."""
    return [
        span
        for body in collector.bodies("/v1/traces")
        for resource in ExportTraceServiceRequest.FromString(body).resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


def _samples(text: str) -> list[Sample]:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [
        s
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (name, labels, [s for s in samples if s.name == name])
    return found[0].value


async def _scrape(http: httpx.AsyncClient, served: Served) -> list[Sample]:
    answer = await http.get(f"{served.base}/metrics", headers={"x-test-key": KEY})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return _samples(answer.text)


async def test_metrics_are_scraped_from_a_served_app_and_spans_are_flushed_at_stop(
    tmp_path: Path, plugin_site: Path, collector: OtlpCollector
) -> None:
    config = _write_config(
        tmp_path,
        f"""
        [telemetry]
        service_name = "metrics-e2e"
        otlp_endpoint = "{collector.endpoint}"
        metric_interval = 3600
        """,
    )
    headers = {"x-test-key": KEY}
    with serving(tmp_path, plugin_site, "--config", str(config)) as served:
        async with httpx.AsyncClient(timeout=10) as http:
            # Authenticated like the MCP endpoint.
            refused = await http.get(f"{served.base}/metrics")
            assert refused.status_code == 401
            async with (
                httpx2.AsyncClient(headers=headers, timeout=30) as mcp_http,
                Client(
                    streamable_http_client(f"{served.base}/mcp", http_client=mcp_http),
                    mode="legacy",
                ) as client,
            ):
                for _ in range(2):
                    assert not (await client.call_tool("quick", {})).is_error
                assert (await client.call_tool("broken", {})).is_error
                release = tmp_path / "release"
                async with anyio.create_task_group() as group:
                    group.start_soon(client.call_tool, "slow", {"release": str(release)})
                    with anyio.fail_after(START_TIMEOUT):
                        while True:  # until the call has started
                            during = await _scrape(http, served)
                            active = [s for s in during if s.name == "plugbay_calls_active"]
                            if active and active[0].value:
                                break
                            await anyio.sleep(0.05)
                    release.touch()
            after = await _scrape(http, served)
        status = served.stop()
    output = served.output()
    assert status == 0, output

    tool = "gen_ai_tool_name"
    outcome = "plugbay_call_outcome"
    assert _value(during, "plugbay_calls_active", plugbay_call_kind="tool") == 1
    assert _value(during, "plugbay_sessions_active") == 1
    assert _value(after, "plugbay_calls_active", plugbay_call_kind="tool") == 0
    assert _value(after, "plugbay_calls_total", **{tool: "quick", outcome: "ok"}) == 2
    assert _value(after, "plugbay_calls_total", **{tool: "broken", outcome: "tool_error"}) == 1
    assert _value(after, "plugbay_calls_total", **{tool: "slow", outcome: "ok"}) == 1
    assert _value(after, "plugbay_call_duration_seconds_count", **{tool: "slow"}) == 1
    assert _value(after, "plugbay_call_duration_seconds_sum", **{tool: "slow"}) > 0
    served_calls = _value(
        after,
        "mcp_server_operation_duration_seconds_count",
        mcp_method_name="tools/call",
        **{tool: "quick"},
    )
    assert served_calls == 2
    assert _value(after, "process_cpu_seconds_total") > 0
    assert _value(after, "process_resident_memory_bytes") > 10_000_000
    assert _value(after, "target_info", service_name="metrics-e2e") == 1

    # Shut down at stop: what was buffered reached the collector.
    names = {span.name for span in _spans(collector)}
    assert {"tools/call quick", "execute_tool quick", "execute_tool slow"} <= names


async def test_a_public_metrics_route_needs_no_credentials(
    tmp_path: Path, plugin_site: Path
) -> None:
    config = _write_config(
        tmp_path,
        """
        [telemetry]
        prometheus_public = true
        prometheus_path = "/-/metrics"
        """,
    )
    with serving(tmp_path, plugin_site, "--config", str(config)) as served:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.get(f"{served.base}/-/metrics")
            moved = await http.get(f"{served.base}/metrics", headers={"x-test-key": KEY})
        assert served.stop() == 0
    assert answer.status_code == 200
    assert "process_resident_memory_bytes" in answer.text
    assert moved.status_code == 404


def test_serve_refuses_a_setup_the_workers_could_not_install(
    tmp_path: Path, plugin_site: Path
) -> None:
    try:
        import opentelemetry.exporter.otlp.proto.grpc  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the gRPC exporter is installed here")
    config = _write_config(
        tmp_path,
        """
        [telemetry]
        otlp_protocol = "grpc"
        otlp_endpoint = "http://127.0.0.1:4317"
        """,
    )
    command = [sys.executable, "-m", "plugbay.cli", "serve", "--port", str(free_port())]
    command += ["--workers", "2", "--config", str(config)]
    # A session of its own, so that workers it should not have started die with it.
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=_env(plugin_site),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    assert done.returncode != 0
    assert "opentelemetry-exporter-otlp-proto-grpc" in done.stderr
    assert "Started" not in done.stderr  # no worker was started


async def test_over_stdio_telemetry_is_installed_and_flushed_when_the_client_leaves(
    tmp_path: Path, plugin_site: Path, collector: OtlpCollector
) -> None:
    config = _write_config(
        tmp_path,
        f"""
        [telemetry]
        service_name = "stdio-e2e"
        otlp_endpoint = "{collector.endpoint}"
        metric_interval = 3600
        """,
    )
    parameters = StdioServerParameters(
        command=sys.executable,
        args=["-m", "plugbay.cli", "serve", "--stdio", "--config", str(config)],
        cwd=tmp_path,
        env=_env(plugin_site),
    )
    with anyio.fail_after(START_TIMEOUT):
        async with Client(parameters) as client:
            assert not (await client.call_tool("quick", {})).is_error
    # The client closed the pipe; the server's lifespan ended and exported what it had.
    deadline = time.monotonic() + STOP_TIMEOUT
    while not collector.bodies("/v1/traces") and time.monotonic() < deadline:
        await anyio.sleep(0.1)
    spans = {(span.name, span.kind) for span in _spans(collector)}
    assert ("tools/call quick", Span.SpanKind.SPAN_KIND_SERVER) in spans
    assert ("execute_tool quick", Span.SpanKind.SPAN_KIND_INTERNAL) in spans
    metric_names = {
        metric.name
        for body in collector.bodies("/v1/metrics")
        for resource in ExportMetricsServiceRequest.FromString(body).resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert {"plugbay.calls", "mcp.server.operation.duration"} <= metric_names


def test_plugbay_call_is_traced_and_exported_before_it_exits(
    tmp_path: Path, plugin_site: Path, collector: OtlpCollector
) -> None:
    config = _write_config(
        tmp_path,
        f"""
        [telemetry]
        service_name = "call-e2e"
        otlp_endpoint = "{collector.endpoint}"
        """,
    )
    done = subprocess.run(
        [sys.executable, "-m", "plugbay.cli", "call", "--config", str(config), "quick"],
        cwd=tmp_path,
        env=_env(plugin_site),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT * 2,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "done" in done.stdout
    names = {span.name for span in _spans(collector)}
    # No MCP message, so no SERVER span: the call itself.
    assert names == {"execute_tool quick"}
