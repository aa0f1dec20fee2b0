"""What the fake records of the calls it answers, and the failures tests inject."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One call the fake answered."""

    protocol: str
    """``xmlrpc`` or ``jsonrpc``."""
    service: str
    """``common`` or ``object``."""
    method: str
    """``authenticate``, ``execute_kw``..."""
    model: str | None = None
    model_method: str | None = None
    """For ``execute_kw``: the model and its method (``res.partner``, ``search_read``)."""
    uid: int | None = None
    error: str | None = None
    """The exception's qualified name when the call failed."""


@dataclass(slots=True)
class InjectedFailure:
    """An HTTP error to answer instead of serving, ``remaining`` more times."""

    status: int
    remaining: int
    body: str
