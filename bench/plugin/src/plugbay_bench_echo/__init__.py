"""A trivial ``echo`` tool, so benchmarks measure plugbay's per-call cost and nothing else."""

from __future__ import annotations

from collections.abc import Callable

from plugbay import hookimpl


async def echo(text: str) -> str:
    """Return the text unchanged.

    Args:
        text: The text to send back.
    """
    return text


@hookimpl
def register_tools(register: Callable[..., None]) -> None:
    """Register ``echo`` as a freestanding tool, named ``echo`` like the bare SDK server's."""
    register(echo, read_only=True, idempotent=True, open_world=False)
