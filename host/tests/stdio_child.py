"""A stdio server for the host's tests, run as ``python stdio_child.py [sync_workers]``.

Its tools let a test hold sync calls in their worker threads and let them go:

- ``hold(n)`` (sync) waits until released, then returns ``n``;
- ``held()`` says how many ``hold`` calls have started (entered their thread);
- ``release()`` lets every ``hold`` call return;
- ``quick()`` (async) answers at once.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import anyio

from plugbay import hookimpl
from plugbay.assembly import assemble
from plugbay.config import parse_config
from plugbay.plugins import load_plugins
from plugbay.transports import serve_stdio

SAFETY_WAIT = 60.0
"""Seconds a held call waits at most, so a failed test cannot leave the process behind."""

_released = threading.Event()
_lock = threading.Lock()
_started = 0


def hold(n: int) -> int:
    """Wait until released; return n."""
    global _started
    with _lock:
        _started += 1
    _released.wait(SAFETY_WAIT)
    return n


async def held() -> int:
    """How many hold calls have started."""
    return _started


async def release() -> str:
    """Let every hold call return."""
    _released.set()
    return "released"


async def quick() -> str:
    """Answer at once."""
    return "quick"


class ChildTools:
    @hookimpl
    def register_tools(self, register: Callable[..., None]) -> None:
        for function in (hold, held, release, quick):
            register(function)


def main() -> None:
    server: dict[str, Any] = {"call_timeout": SAFETY_WAIT * 2}
    if len(sys.argv) > 1:
        server["sync_workers"] = int(sys.argv[1])
    registry = load_plugins({}, extra={"child": ChildTools()}, entry_points=False)
    assembly = assemble(registry, parse_config({"server": server}, environ={}))
    anyio.run(serve_stdio, assembly)


if __name__ == "__main__":
    main()
