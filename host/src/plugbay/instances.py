"""A configured connector instance and how it is doing (configured, ready, failed...)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from plugbay.connector import Connector
from plugbay.threads import WorkerThreads

logger = logging.getLogger(__name__)

InstanceStatus = Literal["configured", "ready", "not configured", "failed", "stopped"]


@dataclass(slots=True)
class InstanceState:
    """One configured connector instance and how it is doing."""

    name: str
    connector: str
    plugin: str
    status: InstanceStatus
    problems: list[str] = field(default_factory=list)
    obj: Connector[Any] | None = None
    call_timeout: float | None = None
    """Seconds a call of the instance may take: its own ``call_timeout``, else ``[server]``'s."""
    threads: WorkerThreads | None = None
    """The worker threads its sync tools, resources and prompts run in."""
    retry_at: float | None = None
    """While a failed instance is retried: when (``anyio.current_time()``) the next start
    attempt is due (see :mod:`plugbay.retrying`)."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form; a serving instance adds its ``describe_state()`` as ``state``."""
        document: dict[str, Any] = {
            "name": self.name,
            "connector": self.connector,
            "plugin": self.plugin,
            "status": self.status,
            "problems": self.problems,
        }
        if (detail := self.live_state()) is not None:
            document["state"] = detail
        if self.threads is not None and self.threads.abandoned:
            document["abandoned_threads"] = self.threads.abandoned
        return document

    def live_state(self) -> dict[str, Any] | None:
        """The serving connector's :meth:`~plugbay.Connector.describe_state`, if it has one."""
        if self.status != "ready" or self.obj is None:
            return None
        try:
            detail = self.obj.describe_state()
        except Exception:
            logger.exception("describe_state() of instance %s failed", self.name)
            return None
        return dict(detail) if detail is not None else None
