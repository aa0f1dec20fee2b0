"""The walk from a root: links followed by the walk itself, odd names, hard links.

Layout (under ``tmp_path``)::

    root/dir/file.txt  root/dir/nested/  root/inner -> dir  root/relative -> ./dir/nested/..
    root/chain -> inner   root/loop_a -> loop_b -> loop_a   root/up -> ..
    root/hard.txt  (a hard link to outside/secret.txt)
    outside/secret.txt
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from plugbay import ToolError
from plugbay_filesystem.directories import rename_no_replace
from plugbay_filesystem.paths import Roots

if TYPE_CHECKING:
    from conftest import ServeFs

SECRET = "TOP SECRET: outside the roots"
EMOJI_NAME = "\N{GRINNING FACE}" * 1000  # 4,000 bytes in one name


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "dir" / "nested").mkdir(parents=True)
    (root / "dir" / "file.txt").write_text("inside")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (root / "inner").symlink_to("dir")
    (root / "relative").symlink_to("./dir/nested/..")
    (root / "chain").symlink_to("inner")
    (root / "loop_a").symlink_to("loop_b")
    (root / "loop_b").symlink_to("loop_a")
    (root / "up").symlink_to("..")
    os.link(outside / "secret.txt", root / "hard.txt")
    return root.resolve()


def test_links_inside_are_followed_by_the_walk(root: Path) -> None:
    roots = Roots.from_settings([str(root)])
    for spelling in (
        "inner/file.txt",
        "chain/file.txt",
        "relative/file.txt",
        "dir/../dir/file.txt",
    ):
        assert roots.resolve(spelling) == root / "dir" / "file.txt", spelling
    # Through the root's own parent and back in again.
    assert roots.resolve(f"../{root.name}/dir/file.txt") == root / "dir" / "file.txt"
    assert roots.resolve(f"up/{root.name}/inner") == root / "dir"
    # The last name is kept when it is not to be followed.
    assert roots.resolve("chain", follow_final=False) == root / "chain"
    assert roots.resolve("inner/", follow_final=False) == root / "inner"
    assert roots.resolve("inner/.", follow_final=False) == root / "dir"
    assert roots.resolve("inner/nested/..", follow_final=False) == root / "dir"
    with roots.locate("chain/file.txt") as place:
        assert (place.name, place.missing, place.root) == ("file.txt", (), root)
        assert os.stat(place.directory).st_ino == os.stat(root / "dir").st_ino


def test_missing_parts_are_reported_not_guessed(root: Path) -> None:
    roots = Roots.from_settings([str(root)])
    with roots.locate("dir/a/b/c.txt") as place:
        assert place.missing == ("a", "b")
        assert place.name == "c.txt"
        assert place.path == root / "dir" / "a" / "b" / "c.txt"
    with roots.locate("dir/file.txt/x") as place:
        assert place.missing == ("file.txt",)
        with pytest.raises(ToolError, match="not a directory"):
            place.require_parent("'dir/file.txt/x'")
    # As realpath would: a missing name followed by '..' cancels out.
    assert roots.resolve("dir/ghost/../file.txt") == root / "dir" / "file.txt"


def test_loops_and_escapes_are_refused(root: Path) -> None:
    roots = Roots.from_settings([str(root)])
    with pytest.raises(ToolError, match="too many levels of symbolic links"):
        roots.resolve("loop_a/x")
    for spelling in ("up", "up/outside/secret.txt", "..", "/"):
        with pytest.raises(ToolError, match="access denied"):
            roots.resolve(spelling)
    # Clients cannot send it over JSON, but a lone surrogate is refused clearly too.
    with pytest.raises(ToolError, match="cannot be encoded"):
        roots.resolve("bad\ud800name")


@pytest.mark.anyio
async def test_long_and_unencodable_names_get_clear_errors(
    serve_fs: ServeFs, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serve_fs(root, allow_writes=True) as fs:
        for tool, arguments in [
            ("read_text_file", {"path": EMOJI_NAME}),
            ("write_file", {"path": EMOJI_NAME, "content": "x"}),
            ("write_file", {"path": f"dir/{EMOJI_NAME}/x.txt", "content": "x"}),
            ("create_directory", {"path": EMOJI_NAME}),
            ("move_file", {"source": "dir/file.txt", "destination": EMOJI_NAME}),
            ("list_directory", {"path": EMOJI_NAME}),
            ("search_files", {"path": EMOJI_NAME, "pattern": "*"}),
            ("get_file_info", {"path": "\N{GRINNING FACE}" * 64}),
        ]:
            message = await fs.error(tool, **arguments)
            assert "too long" in message, (tool, message)
            assert len(message) < 1200
        assert "bytes long" in await fs.error("read_text_file", path="\N{GRINNING FACE}" * 1100)
    assert not [record for record in caplog.records if record.exc_info], caplog.records
    assert (root / "dir" / "file.txt").read_text() == "inside"


@pytest.mark.anyio
async def test_hard_links_are_served_unless_refused(serve_fs: ServeFs, root: Path) -> None:
    async with serve_fs(root) as fs:
        # Documented: a hard link is the file itself; nothing tells it apart.
        assert await fs.text("read_text_file", path="hard.txt") == SECRET
    async with serve_fs(root, allow_writes=True, refuse_hard_links=True) as fs:
        for tool, arguments in [
            ("read_text_file", {"path": "hard.txt"}),
            ("read_media_file", {"path": "hard.txt"}),
            ("get_file_info", {"path": "hard.txt"}),
            ("edit_file", {"path": "hard.txt", "edits": [{"oldText": "TOP", "newText": "x"}]}),
        ]:
            message = await fs.error(tool, **arguments)
            assert "2 hard links" in message
            assert "refuse_hard_links" in message
            assert SECRET not in message
        results = (await fs.data("read_multiple_files", paths=["hard.txt"]))["result"]
        assert "hard links" in results[0]["error"]
        # Files with one name are read as usual.
        assert await fs.text("read_text_file", path="dir/file.txt") == "inside"
    assert (root.parent / "outside" / "secret.txt").read_text() == SECRET


def test_a_rename_never_replaces_what_appeared_at_the_target(root: Path) -> None:
    # move_file checks that the destination is free; the rename itself refuses too,
    # so an entry created there in between is not replaced.
    (root / "taken.txt").write_text("appeared meanwhile")
    roots = Roots.from_settings([str(root)])
    with (
        roots.locate("dir/file.txt", follow_final=False) as origin,
        roots.locate("taken.txt", follow_final=False) as target,
        pytest.raises(FileExistsError),
    ):
        rename_no_replace(origin, target)
    assert (root / "taken.txt").read_text() == "appeared meanwhile"
    with (
        roots.locate("dir/file.txt", follow_final=False) as origin,
        roots.locate("free.txt", follow_final=False) as target,
    ):
        rename_no_replace(origin, target)
    assert (root / "free.txt").read_text() == "inside"


def test_a_platform_without_openat_fails_closed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("plugbay_filesystem.paths.supported", lambda: False)
    with pytest.raises(ValueError, match="O_NOFOLLOW"):
        Roots.from_settings([str(root)])


@pytest.mark.anyio
async def test_moves_across_file_systems_copy_through_descriptors(
    serve_fs: ServeFs, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def other_device(*_places: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr("plugbay_filesystem.directories.rename_no_replace", other_device)
    (root / "dir" / "file.txt").chmod(0o640)
    async with serve_fs(root, allow_writes=True) as fs:
        await fs.ok("move_file", source="dir/file.txt", destination="copied.txt")
        await fs.ok("move_file", source="inner", destination="inner_moved")
        refused = await fs.error("move_file", source="dir/nested", destination="nested_moved")
        assert "only files and links can be moved across file systems" in refused
    assert (root / "copied.txt").read_text() == "inside"
    assert (root / "copied.txt").stat().st_mode & 0o777 == 0o640
    assert not (root / "dir" / "file.txt").exists()
    assert os.readlink(root / "inner_moved") == "dir"
    assert not (root / "inner").is_symlink()
    assert (root / "dir" / "nested").is_dir()
