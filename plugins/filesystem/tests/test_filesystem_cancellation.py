"""The walking and multi-file tools stop once the call's Context is cancelled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from plugbay import CallCancelled, Context
from plugbay_filesystem import FilesystemConnector, FilesystemSettings

pytestmark = pytest.mark.anyio


class CancelledAt(Context):
    """A context the host cancels at its ``at``-th check (what a timeout would do)."""

    __slots__ = ("at", "checks")

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at
        self.checks = 0

    @property
    def cancelled(self) -> bool:
        self.checks += 1
        if self.checks >= self.at:
            self.cancel()
        return super().cancelled

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            super().raise_if_cancelled()


@pytest.fixture
async def fs(tmp_path: Path) -> AsyncIterator[FilesystemConnector]:
    for folder in ("a", "b", "c"):
        (tmp_path / folder).mkdir()
        for index in range(3):
            (tmp_path / folder / f"note{index}.txt").write_text("needle\n")
    connector = FilesystemConnector("fs", FilesystemSettings(roots=[str(tmp_path)]))
    await connector.start()
    try:
        yield connector
    finally:
        await connector.stop()


TOOLS: dict[str, Callable[[FilesystemConnector, Context], Any]] = {
    "directory_tree": lambda fs, ctx: fs.directory_tree(ctx=ctx),
    "search_files": lambda fs, ctx: fs.search_files("*.txt", ctx=ctx),
    "search_text": lambda fs, ctx: fs.search_text("needle", ctx=ctx),
    "read_multiple_files": lambda fs, ctx: fs.read_multiple_files(
        ["a/note0.txt", "b/note1.txt", "c/note2.txt"], ctx=ctx
    ),
}


@pytest.mark.parametrize("name", list(TOOLS))
async def test_a_tool_stops_at_its_first_check_after_the_call_is_cancelled(
    fs: FilesystemConnector, name: str
) -> None:
    # Called directly, outside any worker thread: only the Context can stop it.
    uncancelled = CancelledAt(at=10**9)
    assert TOOLS[name](fs, uncancelled)  # it works, and checks as it goes
    assert uncancelled.checks >= 2
    for at in range(1, uncancelled.checks + 1):
        ctx = CancelledAt(at=at)
        with pytest.raises(CallCancelled):
            TOOLS[name](fs, ctx)
        assert ctx.checks == at  # not one check more: the work stopped there


async def test_without_a_context_the_tools_run_to_the_end(fs: FilesystemConnector) -> None:
    assert len(fs.search_files("*.txt")["matches"]) == 9
    assert len(fs.read_multiple_files(["a/note0.txt", "b/note1.txt"])) == 2
