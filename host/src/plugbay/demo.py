"""``plugbay serve --demo``: try the SaaS connectors against their bundled fakes.

A connector offers a demo by overriding :meth:`plugbay.Connector.demo`: an async
context manager that starts a fake of its backend on a loopback address, with sample
data, and yields the settings that reach it. :func:`serve_on_loopback` serves an ASGI
fake for it in a few lines::

    @classmethod
    def demo(cls):
        return _demo()

    @asynccontextmanager
    async def _demo():
        fake = WeatherFake()
        async with serve_on_loopback(fake.app) as url:
            yield {"base_url": url, "api_key": fake.api_key}

``serve --demo`` enters every installed connector's demo in a background thread (the
fakes answer while the server serves, whatever its transport), configures one instance
per connector, named after it, and says in the banner and in every tool description
that it is a demo.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.from_thread import start_blocking_portal

from plugbay.assembly import Assembly
from plugbay.config import Config, parse_config
from plugbay.connector import Connector
from plugbay.plugins import PluginRegistry
from plugbay.redaction import redact_text

DEMO_NOTE = (
    "Demo: this instance talks to a fake {connector} on this machine, with sample data; "
    "nothing reaches a real account."
)
STARTUP_TIMEOUT = 20.0
"""Seconds a fake may take to start answering."""


@asynccontextmanager
async def serve_on_loopback(app: Any) -> AsyncIterator[str]:
    """Serve the ASGI ``app`` on ``127.0.0.1`` at a free port until the block ends.

    Yields:
        The base URL, ``http://127.0.0.1:<port>``.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None: the fake logs through plugbay's handlers, in plugbay's format. No
    # log_level or access_log: they would change the loggers the server's uvicorn shares.
    config = uvicorn.Config(app, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve, [sock])
            with anyio.fail_after(STARTUP_TIMEOUT):
                # uvicorn's Server has a flag, not an event, for "accepting connections".
                while not server.started:  # noqa: ASYNC110
                    await anyio.sleep(0.02)
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                server.should_exit = True
    finally:
        sock.close()


@dataclass(slots=True)
class Demos:
    """The demos that run: each instance's settings, and the connectors that have none."""

    settings: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    """Instance (the connector's name) -> the settings its demo yielded."""
    plugins: dict[str, str] = field(default_factory=dict)
    """Instance -> the plugin of its connector."""
    failed: dict[str, str] = field(default_factory=dict)
    """Connector -> why its demo did not start."""


def demo_connectors(registry: PluginRegistry, config: Config) -> dict[str, type[Connector[Any]]]:
    """The installed connectors that offer a demo, by connector name, in name order."""
    found: dict[str, type[Connector[Any]]] = {}
    for registration in registry.collect("register_connectors", config=config):
        cls = registration.item
        if isinstance(cls, type) and issubclass(cls, Connector) and cls.demo() is not None:
            found.setdefault(cls.name, cls)
    return dict(sorted(found.items()))


@contextlib.contextmanager
def running_demos(connectors: Mapping[str, type[Connector[Any]]]) -> Iterator[Demos]:
    """Start every connector's demo in a background thread; stop them when the block ends.

    A demo that fails to start is reported in :attr:`Demos.failed`; the others run.
    """
    demos = Demos()
    with start_blocking_portal() as portal, contextlib.ExitStack() as stack:
        for name, cls in connectors.items():
            manager = cls.demo()
            if manager is None:
                continue
            try:
                settings = stack.enter_context(portal.wrap_async_context_manager(manager))
            except Exception as error:
                demos.failed[name] = redact_text(f"{type(error).__name__}: {error}")
                continue
            demos.settings[name] = dict(settings)
        yield demos


def demo_base_config() -> Config:
    """The configuration a demo starts from: the defaults and ``PLUGBAY_SERVER__*``, no file."""
    return parse_config({}, environ=dict(os.environ))


def demo_config(
    demos: Demos, connectors: Mapping[str, type[Connector[Any]]], base: Config
) -> Config:
    """A configuration with one instance per running demo, and ``base``'s ``[server]``."""
    document: dict[str, Any] = {
        "connectors": {
            name: {"plugin": connectors[name].name, **settings}
            for name, settings in demos.settings.items()
        }
    }
    return dataclasses.replace(parse_config(document, environ=base.environ), server=base.server)


def mark_demo_tools(assembly: Assembly, instances: Mapping[str, str]) -> None:
    """End each demo instance's tool descriptions with :data:`DEMO_NOTE`.

    Args:
        assembly: The assembled demo server.
        instances: Demo instance name -> its connector's name.
    """
    catalogs = [assembly.catalog, *assembly.declared.values()]
    seen: set[int] = set()
    for catalog in catalogs:
        for entry in catalog.tools.values():
            definition = entry.definition
            connector = instances.get(entry.owner.instance or "")
            if connector is None or id(definition) in seen:
                continue
            seen.add(id(definition))
            note = DEMO_NOTE.format(connector=connector.capitalize())
            description = definition.description or ""
            definition.description = f"{description}\n\n{note}" if description else note


def banner_note(demos: Demos) -> list[str]:
    """The banner's demo lines: what runs against a fake, and what could not."""
    lines = []
    if demos.settings:
        lines.append(
            f"plugbay: DEMO: {', '.join(demos.settings)} run against fakes on this machine "
            "with sample data; nothing reaches a real account"
        )
    else:
        lines.append("plugbay: DEMO: no installed connector offers a demo")
    lines.extend(
        f"warning: the {name} demo did not start: {reason}" for name, reason in demos.failed.items()
    )
    return lines
