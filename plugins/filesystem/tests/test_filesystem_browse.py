"""Browsing: listings, trees, glob searches, file info and the allowed directories."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from plugbay_filesystem.deny import DEFAULT_DENY

if TYPE_CHECKING:
    from conftest import ServeFs

pytestmark = pytest.mark.anyio


async def test_list_directory_marks_files_dirs_and_links(
    serve_fs: ServeFs, workspace: Path
) -> None:
    (workspace / "link").symlink_to(workspace / "src")
    async with serve_fs(workspace) as fs:
        listing = await fs.text("list_directory")
        assert listing.splitlines() == [
            "[DIR] docs",
            "[DIR] empty",
            "[LINK] link",
            "[FILE] notes.txt",
            "[DIR] src",
        ]
        assert await fs.text("list_directory", path="empty") == "(empty directory)"
        assert "[FILE] app.py" in await fs.text("list_directory", path="link")
        assert "not a directory" in await fs.error("list_directory", path="notes.txt")
        assert "does not exist" in await fs.error("list_directory", path="nowhere")


async def test_list_directory_with_sizes_sorts_and_totals(
    serve_fs: ServeFs, tmp_path: Path
) -> None:
    (tmp_path / "small.txt").write_text("x" * 10)
    (tmp_path / "large.bin").write_bytes(b"x" * 3000)
    (tmp_path / "folder").mkdir()
    async with serve_fs(tmp_path) as fs:
        by_name = (await fs.text("list_directory_with_sizes")).splitlines()
        assert by_name[0].startswith("[DIR]")
        assert "folder" in by_name[0]
        assert by_name[1].split() == ["[FILE]", "large.bin", "2.9", "KB"]
        assert by_name[2].split() == ["[FILE]", "small.txt", "10", "B"]
        assert by_name[-2:] == ["Total: 2 files, 1 directories", "Combined size: 2.9 KB"]
        by_size = (await fs.text("list_directory_with_sizes", sortBy="size")).splitlines()
        assert [line.split()[1] for line in by_size[:3]] == ["large.bin", "small.txt", "folder"]
        assert "Invalid arguments" in await fs.error("list_directory_with_sizes", sortBy="date")


async def test_listing_is_cut_at_max_entries(serve_fs: ServeFs, tmp_path: Path) -> None:
    for number in range(5):
        (tmp_path / f"f{number}.txt").write_text("")
    async with serve_fs(tmp_path, max_entries=3) as fs:
        lines = (await fs.text("list_directory")).splitlines()
        assert lines == [
            "[FILE] f0.txt",
            "[FILE] f1.txt",
            "[FILE] f2.txt",
            "... 2 more entries not shown (max_entries is 3)",
        ]
        tree = await fs.data("directory_tree")
        assert tree["truncated"] is True
        assert len(tree["tree"]) == 3
        search = await fs.data("search_files", pattern="*.txt")
        assert search["truncated"] is True
        assert len(search["matches"]) == 3


async def test_directory_tree_with_excludes(serve_fs: ServeFs, workspace: Path) -> None:
    (workspace / "src" / "pkg" / "__pycache__").mkdir()
    (workspace / "src" / "pkg" / "__pycache__" / "mod.pyc").write_bytes(b"\x00")
    (workspace / "loop").symlink_to(workspace)
    async with serve_fs(workspace) as fs:
        full = await fs.data("directory_tree", path="src")
        assert full == {
            "tree": [
                {"name": "app.py", "type": "file"},
                {
                    "name": "pkg",
                    "type": "directory",
                    "children": [
                        {
                            "name": "__pycache__",
                            "type": "directory",
                            "children": [{"name": "mod.pyc", "type": "file"}],
                        },
                        {"name": "mod.py", "type": "file"},
                    ],
                },
                {"name": "util.py", "type": "file"},
            ],
            "truncated": False,
        }
        trimmed = await fs.data(
            "directory_tree", path="src", excludePatterns=["__pycache__", "util.*"]
        )
        assert trimmed["tree"] == [
            {"name": "app.py", "type": "file"},
            {"name": "pkg", "type": "directory", "children": [{"name": "mod.py", "type": "file"}]},
        ]
        top = await fs.data("directory_tree", excludePatterns=["src/**", "docs", "*.txt"])
        # A symlink to the root is listed but not entered, so there is no loop.
        assert top["tree"] == [
            {"name": "empty", "type": "directory", "children": []},
            {"name": "loop", "type": "symlink"},
            {"name": "src", "type": "directory", "children": []},
        ]


@pytest.mark.parametrize(
    ("pattern", "excludes", "expected"),
    [
        ("*.py", [], ["src/app.py", "src/pkg/mod.py", "src/util.py"]),
        ("src/*.py", [], ["src/app.py", "src/util.py"]),
        ("src/**/*.py", [], ["src/app.py", "src/pkg/mod.py", "src/util.py"]),
        ("**/mod.py", [], ["src/pkg/mod.py"]),
        ("*.{md,txt}", [], ["docs/guide.md", "notes.txt"]),
        ("[an]*", [], ["notes.txt", "src/app.py"]),
        ("[!a-m]*.py", [], ["src/util.py"]),
        ("pkg", [], ["src/pkg"]),
        ("*.py", ["pkg"], ["src/app.py", "src/util.py"]),
        ("*.py", ["src/util.py"], ["src/app.py", "src/pkg/mod.py"]),
        ("*.rs", [], []),
    ],
)
async def test_search_files_globs(
    serve_fs: ServeFs, workspace: Path, pattern: str, excludes: list[str], expected: list[str]
) -> None:
    async with serve_fs(workspace) as fs:
        result = await fs.data("search_files", pattern=pattern, excludePatterns=excludes)
    real = workspace.resolve()
    assert sorted(result["matches"]) == [str(real / relative) for relative in expected]
    assert result["truncated"] is False


async def test_search_files_from_a_subdirectory_and_bad_patterns(
    serve_fs: ServeFs, workspace: Path
) -> None:
    async with serve_fs(workspace) as fs:
        found = await fs.data("search_files", path="src", pattern="pkg/*.py")
        assert found["matches"] == [str(workspace.resolve() / "src" / "pkg" / "mod.py")]
        assert "empty" in await fs.error("search_files", pattern="")
        assert "not a valid glob" in await fs.error("search_files", pattern="{a,{b}")


async def test_get_file_info(serve_fs: ServeFs, workspace: Path) -> None:
    (workspace / "notes.txt").chmod(0o640)
    async with serve_fs(workspace) as fs:
        info = await fs.data("get_file_info", path="notes.txt")
        assert info["path"] == str(workspace.resolve() / "notes.txt")
        assert info["type"] == "file"
        assert info["size"] == len("line 1\nline 2\nline 3\nline 4\nline 5\n")
        assert info["permissions"] == "640"
        assert info["mode"] == "-rw-r-----"
        for key in ("modified", "accessed"):
            assert datetime.fromisoformat(info[key]).tzinfo is not None
        directory = await fs.data("get_file_info", path="src")
        assert directory["type"] == "directory"
        assert "does not exist" in await fs.error("get_file_info", path="ghost")


async def test_several_roots(serve_fs: ServeFs, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.txt").write_text("from first")
    (second / "a.txt").write_text("from second")
    async with serve_fs(first, second) as fs:
        allowed = await fs.data("list_allowed_directories")
        assert allowed == {
            "directories": [str(first.resolve()), str(second.resolve())],
            "writable": False,
            "denied": list(DEFAULT_DENY),
        }
        # Relative paths start from the first root; absolute ones may use any root.
        assert await fs.text("read_text_file", path="a.txt") == "from first"
        assert await fs.text("read_text_file", path=str(second / "a.txt")) == "from second"
        # A root is not a prefix match: a sibling with a longer name stays outside.
        (tmp_path / "first-sibling").mkdir()
        (tmp_path / "first-sibling" / "a.txt").write_text("sibling")
        assert "access denied" in await fs.error(
            "read_text_file", path=str(tmp_path / "first-sibling" / "a.txt")
        )


async def test_root_behind_a_symlink_is_resolved(serve_fs: ServeFs, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "file.txt").write_text("content")
    (tmp_path / "alias").symlink_to(real)
    async with serve_fs(tmp_path / "alias") as fs:
        assert (await fs.data("list_allowed_directories"))["directories"] == [str(real.resolve())]
        assert (
            await fs.text("read_text_file", path=str(tmp_path / "alias" / "file.txt")) == "content"
        )


async def test_works_on_the_legacy_protocol_too(serve_fs: ServeFs, workspace: Path) -> None:
    async with serve_fs(workspace, mode="legacy") as fs:
        assert "[FILE] notes.txt" in await fs.text("list_directory")
        assert "access denied" in await fs.error("read_text_file", path="../outside/secret.txt")
        (contents,) = await fs.read(fs.uri(workspace.resolve() / "notes.txt"))
        assert getattr(contents, "text", "").startswith("line 1")
