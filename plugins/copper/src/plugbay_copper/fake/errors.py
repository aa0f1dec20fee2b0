"""Copper's error answers, raised by the fake's handlers."""

from __future__ import annotations

from plugbay_copper.fake.vocabulary import (
    SINGULAR,
)


class CopperError(Exception):
    """An error answer: raised by handlers, turned into Copper's error body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def invalid(message: str) -> CopperError:
    """A 422 answer for input Copper refuses, naming the field."""
    return CopperError(422, f"Validation Error: {message}")


def not_found(kind: str, record_id: object) -> CopperError:
    """A 404 answer for a record that does not exist."""
    return CopperError(404, f"{SINGULAR.get(kind, kind).capitalize()} {record_id} not found")
