"""The ``[limits]`` table: rate limits and the concurrent-call cap."""

from __future__ import annotations

import importlib.util
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Strategy = Literal["fixed-window", "moving-window", "sliding-window-counter"]


def _check_rate(value: str) -> str:
    from limits import parse

    try:
        parse(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a rate; write it like '60/minute', '1000 per hour' or '5/second'"
        ) from None
    return value


class LimitsConfig(BaseModel):
    """The ``[limits]`` table.

    Attributes:
        per_principal: Calls one principal may make, all tools, resources and prompts
            together (``"600/minute"``).
        per_tool: Calls one principal may make to each tool (``"60/minute"``).
        principals: Principal-name pattern to its own ``per_principal`` rate; the
            first pattern that matches applies.
        tools: Tool-name pattern to its own ``per_tool`` rate; first match applies.
        storage: ``memory`` (one process) or a ``redis://`` / ``rediss://`` URL, which
            every worker and replica sharing the limits points at.
        key_prefix: Prefix of the Redis keys.
        strategy: How a rate is counted (see the ``limits`` library).
        fail_open: When the storage cannot be reached, let calls through (and log a
            warning) rather than refuse them.
        max_concurrent_calls: Calls running at once, across all principals; more
            wait up to ``queue_timeout`` seconds, then are refused.
        queue_timeout: Seconds a call may wait for a free slot.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_principal: str | None = None
    per_tool: str | None = None
    principals: dict[str, str] = Field(default_factory=dict)
    tools: dict[str, str] = Field(default_factory=dict)
    storage: str = "memory"
    key_prefix: str = Field(default="plugbay", min_length=1)
    strategy: Strategy = "sliding-window-counter"
    fail_open: bool = True
    max_concurrent_calls: int | None = Field(default=None, ge=1)
    queue_timeout: float = Field(default=5.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _moved_settings(cls, data: Any) -> Any:
        # The grace belongs to the host's shutdown, not to the guard: say where it went
        # rather than "extra inputs are not permitted".
        if isinstance(data, dict) and "shutdown_grace" in data:
            raise ValueError(
                "shutdown_grace is no longer a [limits] setting: set it as [server] shutdown_grace"
            )
        return data

    @field_validator("per_principal", "per_tool")
    @classmethod
    def _rate(cls, value: str | None) -> str | None:
        return None if value is None else _check_rate(value)

    @field_validator("principals", "tools")
    @classmethod
    def _rates(cls, value: dict[str, str]) -> dict[str, str]:
        for rate in value.values():
            _check_rate(rate)
        return value

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        if value == "memory":
            return value
        if not value.startswith(("redis://", "rediss://")):
            raise ValueError("must be 'memory' or a redis:// or rediss:// URL")
        if importlib.util.find_spec("redis") is None:
            raise ValueError(
                "Redis storage needs the redis package: pip install 'plugbay-guard[redis]'"
            )
        return value

    @property
    def rate_limited(self) -> bool:
        """Whether any rate limit is configured."""
        return bool(self.per_principal or self.per_tool or self.principals or self.tools)
