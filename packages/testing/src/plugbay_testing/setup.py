"""What the conformance suite's tests share: the author's inputs and the assembly's outcome."""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass(slots=True)
class AssemblyGate:
    """Whether the connector assembled, as ``test_assembles`` found (one per test class).

    The tests that serve the connector skip with :attr:`failure` as their reason once it
    is set, so one assembly mistake is one failed test rather than one per check.
    """

    failure: str | None = None

    def skip_if_failed(self) -> None:
        """Skip the calling test if the connector could not be assembled."""
        if self.failure is not None:
            pytest.skip(f"the connector does not assemble (see test_assembles): {self.failure}")


@dataclass(slots=True)
class ConformanceSetup:
    """The author's inputs for one test, with any methods already called."""

    config: Mapping[str, Any] | str | None
    environ: Mapping[str, str] | None
    sample_calls: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sample_prompts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    resource_uris: Sequence[str] = ()

    def settings(self) -> dict[str, Any]:
        """The instance's settings as a table (TOML text parsed)."""
        if isinstance(self.config, str):
            return tomllib.loads(self.config)
        return dict(self.config or {})


def resolve(owner: object, name: str, request: pytest.FixtureRequest) -> Any:
    """An attribute's value, or the result of calling it with the fixtures it names."""
    value = getattr(owner, name)
    if not callable(value) or isinstance(value, type):
        return value
    parameters = inspect.signature(value).parameters
    return value(**{parameter: request.getfixturevalue(parameter) for parameter in parameters})
