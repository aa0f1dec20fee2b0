"""The hook implementations: everything the plugin adds, through public plugbay hooks only.

Nothing is registered when ``[telemetry]`` is absent or ``enabled = false``, so telemetry
that is off costs nothing per call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING

from plugbay import hookimpl
from plugbay_telemetry.config import TABLE, TelemetryConfig

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from plugbay.config import Config


def telemetry_settings(config: Config) -> TelemetryConfig | None:
    """The ``[telemetry]`` table when telemetry is on, else ``None``."""
    settings: TelemetryConfig | None = config.table(TABLE)
    if settings is None or not settings.enabled:
        return None
    return settings


@hookimpl
def register_config_tables(register: Callable[..., None]) -> None:
    """Claim ``[telemetry]``."""
    register(TelemetryConfig, table=TABLE)


@hookimpl
def register_lifespan(register: Callable[..., None], config: Config) -> None:
    """Install OpenTelemetry when serving starts (in each worker); flush it at stop.

    The check runs here, at assembly, so that a setup no worker could install (the
    gRPC exporter missing) stops the server before any worker starts.

    Raises:
        plugbay.ConfigError: The exporter the settings ask for is not installed.
    """
    settings = telemetry_settings(config)
    if settings is None:
        return
    # Imported only when telemetry is on: the SDK takes time to import.
    from plugbay_telemetry.setup import check_installed

    check_installed(settings, config.environ)
    register(partial(telemetry_running, settings, config.environ))


@asynccontextmanager
async def telemetry_running(
    settings: TelemetryConfig, environ: Mapping[str, str]
) -> AsyncIterator[None]:
    """Install the providers, exporters and log correlation; shut them down at the end.

    Shutting down exports what is still buffered (the last spans and metrics of a
    worker that stops).
    """
    from plugbay_telemetry.setup import install

    installed = install(settings, environ=environ)
    try:
        yield
    finally:
        installed.shutdown()


@hookimpl(tryfirst=True)
def register_middleware(register: Callable[..., None], config: Config) -> None:
    """Spans and metrics for every call, outermost (``observe``): it sees every outcome.

    ``tryfirst``, so it wraps the other ``observe`` layers too (the host's call log,
    plugbay-guard's audit log): their lines then carry the call's trace id.
    """
    if telemetry_settings(config) is None:
        return
    from plugbay_telemetry.calls import CallTelemetry

    register(CallTelemetry(), stage="observe")


@hookimpl
def register_message_middleware(register: Callable[..., None], config: Config) -> None:
    """The ``SERVER`` span and ``mcp.server.*`` metrics of every MCP message."""
    if telemetry_settings(config) is None:
        return
    from plugbay_telemetry.messages import ServerTelemetry

    register(ServerTelemetry())


@hookimpl
def register_routes(register: Callable[..., None], config: Config) -> None:
    """``/metrics`` in the Prometheus text format (authenticated unless made public)."""
    settings = telemetry_settings(config)
    if settings is None or not settings.prometheus:
        return
    from plugbay_telemetry.prometheus import metrics_endpoint

    register(
        metrics_endpoint(_installed_registry),
        path=settings.prometheus_path,
        methods=["GET"],
        public=settings.prometheus_public,
    )


def _installed_registry() -> CollectorRegistry | None:
    from plugbay_telemetry.setup import installed

    running = installed()
    return running.prometheus if running is not None else None


__all__ = [
    "register_config_tables",
    "register_lifespan",
    "register_message_middleware",
    "register_middleware",
    "register_routes",
    "telemetry_running",
    "telemetry_settings",
]
