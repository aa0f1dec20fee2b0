"""The error hosted middleware raises to refuse a call; public as ``plugbay.CallRefused``."""

from __future__ import annotations

from plugbay.errors import CallRefused, Outcome

__all__ = ["CallRefused", "Outcome"]
