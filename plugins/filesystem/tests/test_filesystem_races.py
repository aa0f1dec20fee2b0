"""Races: a directory swapped for a link to the outside while calls go through it.

A helper swaps ``root/swap`` back and forth between a real directory and a symbolic
link to ``outside``, either as a local process would (``os.rename`` in a thread) or
as a client can (``move_file`` from a second session), while the tools read, write,
edit, list and move through ``swap/``. Whatever the interleaving, no call may return
the outside content and nothing may appear or change outside. The counts of calls are
fixed; nothing here depends on timing.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import pytest
from mcp.shared.exceptions import MCPError

if TYPE_CHECKING:
    from conftest import FsClient, ServeFs

pytestmark = pytest.mark.anyio

OUTSIDE = "OUTSIDE: must never be read"
ONLY_OUTSIDE = "only-beyond.txt"
"""A name that exists only outside: no listing may show it."""
OUTSIDE_BASE64 = base64.b64encode(OUTSIDE.encode()).decode()
INSIDE = "inside"
ROUNDS = 150
SWAP_STEPS = (("swap", "parked"), ("link", "swap"), ("swap", "link"), ("parked", "swap"))


@pytest.fixture
def arena(tmp_path: Path) -> Path:
    """``root/swap`` (a directory) and ``root/link`` (-> beyond), with ``data.txt`` in both."""
    root = tmp_path / "root"
    outside = tmp_path / "beyond"
    (root / "swap" / "sub").mkdir(parents=True)
    (outside / "sub").mkdir(parents=True)
    for place in (root / "swap", root / "swap" / "sub"):
        (place / "data.txt").write_text(INSIDE)
    for place in (outside, outside / "sub"):
        (place / "data.txt").write_text(OUTSIDE)
        (place / ONLY_OUTSIDE).write_text(OUTSIDE)
    (root / "link").symlink_to(outside)
    return root


def outside_state(root: Path) -> dict[str, str]:
    outside = root.parent / "beyond"
    return {
        str(path.relative_to(outside)): path.read_text() if path.is_file() else "<dir>"
        for path in sorted(outside.rglob("*"))
    }


@contextmanager
def swapping_locally(root: Path) -> Iterator[list[int]]:
    """Swap ``swap`` and ``link`` with renames in a thread until the block ends."""
    stop = threading.Event()
    swaps = [0]
    failures: list[BaseException] = []
    strays = itertools.count()

    def move(source: str, target: str) -> None:
        for _attempt in range(100):
            try:
                os.rename(root / source, root / target)
                return
            except OSError:
                if target != "swap":
                    raise
            # A call made a new ``swap`` while it was away: move that aside.
            with contextlib.suppress(OSError):
                os.rename(root / "swap", root / f"stray-{next(strays)}")
        raise AssertionError("the swap could not be put back")

    def swap() -> None:
        try:
            while not stop.is_set():
                for source, target in SWAP_STEPS:
                    move(source, target)
                swaps[0] += 1
        except BaseException as error:  # reported by the test, not lost in the thread
            failures.append(error)

    thread = threading.Thread(target=swap, daemon=True)
    thread.start()
    try:
        yield swaps
    finally:
        stop.set()
        thread.join()
    assert not failures, failures


async def hammer(fs: FsClient, root: Path, rounds: int) -> dict[str, int]:
    """Read, write, edit, list and move through ``swap/``; check every answer."""
    served = {"read": 0, "written": 0}
    for number in range(rounds):
        for path in ("swap/data.txt", "swap/sub/data.txt", "swap/sub/../data.txt"):
            result = await fs.call("read_text_file", path=path)
            text = str(result.content)
            assert OUTSIDE not in text, (path, text)
            if not result.is_error:
                served["read"] += 1
        several = await fs.call("read_multiple_files", paths=["swap/data.txt"])
        assert OUTSIDE not in str(several.content)
        media = str((await fs.call("read_media_file", path="swap/sub/data.txt")).content)
        assert OUTSIDE not in media
        assert OUTSIDE_BASE64 not in media
        try:
            contents = str(await fs.read(fs.uri(root / "swap" / "data.txt")))
        except MCPError as error:
            contents = error.message
        assert OUTSIDE not in contents
        assert OUTSIDE_BASE64 not in contents
        written = await fs.call("write_file", path=f"swap/new-{number}.txt", content="x")
        served["written"] += not written.is_error
        await fs.call("write_file", path="swap/data.txt", content=INSIDE)
        await fs.call("create_directory", path=f"swap/made-{number}/deeper")
        edited = await fs.call(
            "edit_file", path="swap/sub/data.txt", edits=[{"oldText": "e", "newText": "e"}]
        )
        assert OUTSIDE not in str(edited.content)
        listing = await fs.call("list_directory", path="swap/sub")
        info = await fs.call("get_file_info", path="swap/data.txt")
        found = await fs.call("search_files", path="swap", pattern="*.txt")
        for answer in (listing, info, found):
            assert ONLY_OUTSIDE not in str(answer.content), answer.content
            assert "beyond" not in str(answer.content), answer.content
        moved = await fs.call("move_file", source="swap/sub/data.txt", destination="taken.txt")
        if not moved.is_error:
            await fs.call("move_file", source="taken.txt", destination="swap/sub/data.txt")
    return served


async def test_a_local_swap_never_leads_outside(serve_fs: ServeFs, arena: Path) -> None:
    before = outside_state(arena)
    async with serve_fs(arena, allow_writes=True) as fs:
        with swapping_locally(arena) as swaps:
            served = await hammer(fs, arena.resolve(), ROUNDS)
    assert outside_state(arena) == before
    # The swaps really interleaved with the calls: some went through, some were refused.
    assert swaps[0] > 0
    assert served["read"] > 0


async def test_a_client_swapping_with_move_file_never_leads_outside(
    serve_fs: ServeFs, arena: Path
) -> None:
    before = outside_state(arena)
    async with (
        serve_fs(arena, allow_writes=True) as fs,
        serve_fs(arena, allow_writes=True, instance="other") as mover,
    ):
        done = anyio.Event()

        async def swap() -> None:
            rounds = 0
            while not done.is_set():
                rounds += 1
                for source, target in SWAP_STEPS:
                    moved = await mover.call("move_file", source=source, destination=target)
                    if moved.is_error and target == "swap":
                        # A call made a new ``swap`` while it was away: move that aside.
                        await mover.call("move_file", source="swap", destination=f"stray-{rounds}")
                        await mover.call("move_file", source=source, destination=target)

        async with anyio.create_task_group() as group:
            group.start_soon(swap)
            await hammer(fs, arena.resolve(), ROUNDS // 3)
            done.set()
    assert outside_state(arena) == before


async def test_walks_skip_a_directory_swapped_for_a_link(serve_fs: ServeFs, arena: Path) -> None:
    before = outside_state(arena)
    async with serve_fs(arena) as fs:
        with swapping_locally(arena):
            for _ in range(ROUNDS):
                tree = await fs.call("directory_tree")
                found = await fs.call("search_files", pattern="data.txt")
                for answer in (tree, found):
                    assert ONLY_OUTSIDE not in str(answer.content)
                    assert "beyond" not in str(answer.content)
                if not found.is_error:
                    matches = (found.structured_content or {})["matches"]
                    assert all(match.startswith(f"{arena.resolve()}/") for match in matches)
    assert outside_state(arena) == before
