"""What the fake records of its traffic, and the failures tests inject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received, and how it answered."""

    method: str
    path: str
    """The path below ``/developer_api/v1`` (``/people/search``)."""
    status: int
    body: Any = None


@dataclass(slots=True)
class InjectedFault:
    """A failure to answer instead of serving, ``remaining`` more times."""

    status: int
    remaining: int
    method: str | None
    path: str | None
    retry_after: float | None
    message: str

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with this method and path gets the failure."""
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self.path == path
