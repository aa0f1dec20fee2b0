"""Writing: refused on read-only instances; write, edit, create and move when allowed."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import ServeFs

pytestmark = pytest.mark.anyio

WRITE_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("write_file", {"path": "new.txt", "content": "x"}),
    ("edit_file", {"path": "notes.txt", "edits": [{"oldText": "line 1", "newText": "first"}]}),
    ("create_directory", {"path": "made"}),
    ("move_file", {"source": "notes.txt", "destination": "moved.txt"}),
]


@pytest.mark.parametrize(("tool", "arguments"), WRITE_CALLS)
async def test_read_only_instance_refuses_every_write(
    serve_fs: ServeFs, workspace: Path, tool: str, arguments: dict[str, Any]
) -> None:
    before = sorted(path.name for path in workspace.rglob("*"))
    async with serve_fs(workspace, instance="docs") as fs:
        listed = {tool.name for tool in (await fs.client.list_tools()).tools}
    assert f"docs_{tool}" not in listed  # not listed where it cannot work
    async with serve_fs(workspace, instance="docs", list_unavailable=True) as fs:
        message = await fs.error(tool, **arguments)
    assert f"docs_{tool} is disabled" in message
    assert "allow_writes = true in [connectors.docs]" in message
    assert "PLUGBAY_DOCS__ALLOW_WRITES=true" in message
    assert sorted(path.name for path in workspace.rglob("*")) == before
    assert (workspace / "notes.txt").read_text().startswith("line 1\n")


async def test_edit_dry_run_works_on_a_read_only_instance(
    serve_fs: ServeFs, workspace: Path
) -> None:
    async with serve_fs(workspace, list_unavailable=True) as fs:
        preview = await fs.text(
            "edit_file",
            path="notes.txt",
            edits=[{"oldText": "line 2", "newText": "second"}],
            dryRun=True,
        )
    assert "-line 2\n+second\n" in preview
    assert (workspace / "notes.txt").read_text().count("line 2") == 1


async def test_tools_declare_their_annotations(serve_fs: ServeFs, workspace: Path) -> None:
    expected = {
        "read_text_file": (True, False, True),
        "read_media_file": (True, False, True),
        "read_multiple_files": (True, False, True),
        "list_directory": (True, False, True),
        "list_directory_with_sizes": (True, False, True),
        "directory_tree": (True, False, True),
        "search_files": (True, False, True),
        "search_text": (True, False, True),
        "get_file_info": (True, False, True),
        "list_allowed_directories": (True, False, True),
        "write_file": (False, True, True),
        "edit_file": (False, True, False),
        "create_directory": (False, False, True),
        "move_file": (False, True, False),
    }
    async with serve_fs(workspace, allow_writes=True) as fs:
        tools = {tool.name: tool for tool in (await fs.client.list_tools()).tools}
    assert set(tools) == {f"fs_{name}" for name in expected}
    for name, (read_only, destructive, idempotent) in expected.items():
        annotations = tools[f"fs_{name}"].annotations
        assert annotations is not None, name
        assert annotations.read_only_hint is read_only, name
        assert annotations.destructive_hint is destructive, name
        assert annotations.idempotent_hint is idempotent, name
        assert annotations.open_world_hint is False, name
        assert annotations.title, name


async def test_write_file_creates_and_replaces(serve_fs: ServeFs, workspace: Path) -> None:
    target = workspace / "docs" / "new.md"
    async with serve_fs(workspace, allow_writes=True) as fs:
        message = await fs.text("write_file", path="docs/new.md", content="héllo\n")
        assert "Wrote 7 bytes" in message
        assert target.read_text(encoding="utf-8") == "héllo\n"

        target.chmod(0o640)
        await fs.ok("write_file", path=str(target), content="replaced")
        assert target.read_text() == "replaced"
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
        # No temporary files are left behind.
        assert sorted(path.name for path in target.parent.iterdir()) == ["guide.md", "new.md"]


async def test_write_file_replaces_a_hard_link_instead_of_writing_through_it(
    serve_fs: ServeFs, workspace: Path
) -> None:
    original = workspace / "notes.txt"
    linked = workspace / "linked.txt"
    os.link(original, linked)
    async with serve_fs(workspace, allow_writes=True) as fs:
        await fs.ok("write_file", path="linked.txt", content="new")
    assert linked.read_text() == "new"
    assert original.read_text().startswith("line 1")


async def test_write_file_refusals(serve_fs: ServeFs, workspace: Path) -> None:
    async with serve_fs(workspace, allow_writes=True) as fs:
        assert "create_directory" in await fs.error("write_file", path="nope/new.txt", content="x")
        assert "is a directory" in await fs.error("write_file", path="src", content="x")
        assert "is a directory" in await fs.error("write_file", path=".", content="x")
    assert not (workspace / "nope").exists()


async def test_edit_file_applies_edits_and_returns_a_git_diff(
    serve_fs: ServeFs, workspace: Path
) -> None:
    async with serve_fs(workspace, allow_writes=True) as fs:
        result = await fs.text(
            "edit_file",
            path="src/app.py",
            edits=[
                {"oldText": "def main():", "newText": "def main() -> int:"},
                {"oldText": "return 1", "newText": "return 42"},
            ],
        )
    assert (workspace / "src" / "app.py").read_text() == "def main() -> int:\n    return 42\n"
    assert "diff --git a/src/app.py b/src/app.py\n--- a/src/app.py\n+++ b/src/app.py\n" in result
    assert "-def main():\n-    return 1\n+def main() -> int:\n+    return 42\n" in result
    assert result.rstrip().endswith("```")


async def test_edit_file_dry_run_writes_nothing(serve_fs: ServeFs, workspace: Path) -> None:
    async with serve_fs(workspace, allow_writes=True) as fs:
        result = await fs.text(
            "edit_file",
            path="notes.txt",
            edits=[{"oldText": "line 3\n", "newText": ""}],
            dryRun=True,
        )
    assert result.startswith("Dry run")
    assert "-line 3\n" in result
    assert "line 3" in (workspace / "notes.txt").read_text()


async def test_edit_file_matches_lines_ignoring_indentation(
    serve_fs: ServeFs, tmp_path: Path
) -> None:
    source = tmp_path / "service.py"
    source.write_text(
        "class Service:\n"
        "    def run(self):\n"
        "        return 'old'\n"
        "\n"
        "    def stop(self):\n"
        "        pass\n"
    )
    async with serve_fs(tmp_path, allow_writes=True) as fs:
        await fs.ok(
            "edit_file",
            path="service.py",
            edits=[
                {
                    "oldText": "def run(self):\n    return 'old'",
                    "newText": "def run(self):\n    value = 'new'\n    return value",
                }
            ],
        )
    assert source.read_text() == (
        "class Service:\n    def run(self):\n        value = 'new'\n        return value\n"
        "\n    def stop(self):\n        pass\n"
    )


async def test_edit_file_keeps_crlf_line_endings(serve_fs: ServeFs, tmp_path: Path) -> None:
    source = tmp_path / "windows.txt"
    source.write_bytes(b"one\r\ntwo\r\nthree\r\n")
    async with serve_fs(tmp_path, allow_writes=True) as fs:
        await fs.ok(
            "edit_file", path="windows.txt", edits=[{"oldText": "two\nthree", "newText": "2\n3"}]
        )
    assert source.read_bytes() == b"one\r\n2\r\n3\r\n"


async def test_failed_edits_change_nothing(serve_fs: ServeFs, workspace: Path) -> None:
    (workspace / "repeat.txt").write_text("same\nsame\n")
    async with serve_fs(workspace, allow_writes=True) as fs:
        missing = await fs.error(
            "edit_file",
            path="notes.txt",
            edits=[
                {"oldText": "line 1", "newText": "changed"},
                {"oldText": "not in the file", "newText": "x"},
            ],
        )
        assert "edit 2" in missing
        assert "not found" in missing
        assert (workspace / "notes.txt").read_text().startswith("line 1\n")

        ambiguous = await fs.error(
            "edit_file", path="repeat.txt", edits=[{"oldText": "same", "newText": "x"}]
        )
        assert "occurs 2 times" in ambiguous
        assert "Invalid arguments" in await fs.error("edit_file", path="notes.txt", edits=[])
        assert "Invalid arguments" in await fs.error(
            "edit_file", path="notes.txt", edits=[{"old_text": "line 1", "new_text": "x"}]
        )
        unchanged = await fs.text(
            "edit_file", path="notes.txt", edits=[{"oldText": "line 1", "newText": "line 1"}]
        )
        assert unchanged.startswith("No changes")


async def test_edit_file_refuses_to_rewrite_invalid_utf8(serve_fs: ServeFs, tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("café au lait".encode("latin-1"))
    async with serve_fs(tmp_path, allow_writes=True) as fs:
        message = await fs.error(
            "edit_file", path="latin1.txt", edits=[{"oldText": "au", "newText": "with"}]
        )
    assert "not valid UTF-8" in message
    assert (tmp_path / "latin1.txt").read_bytes() == "café au lait".encode("latin-1")


async def test_create_directory(serve_fs: ServeFs, workspace: Path) -> None:
    async with serve_fs(workspace, allow_writes=True) as fs:
        assert "Created" in await fs.text("create_directory", path="a/b/c")
        assert (workspace / "a" / "b" / "c").is_dir()
        assert "already exists" in await fs.text("create_directory", path="a/b")
        assert "not a directory" in await fs.error("create_directory", path="notes.txt")
        assert "not a directory" in await fs.error("create_directory", path="notes.txt/sub")


async def test_move_file(serve_fs: ServeFs, workspace: Path) -> None:
    async with serve_fs(workspace, allow_writes=True) as fs:
        await fs.ok("move_file", source="notes.txt", destination="docs/notes-moved.txt")
        assert not (workspace / "notes.txt").exists()
        assert (workspace / "docs" / "notes-moved.txt").read_text().startswith("line 1")

        await fs.ok("move_file", source="src/pkg", destination="pkg")
        assert (workspace / "pkg" / "mod.py").exists()

        assert "already exists" in await fs.error(
            "move_file", source="src/app.py", destination="src/util.py"
        )
        assert (workspace / "src" / "util.py").read_text() == "VALUE = 2\n"
        assert "does not exist" in await fs.error(
            "move_file", source="ghost.txt", destination="x.txt"
        )
        assert "create it first" in await fs.error(
            "move_file", source="src/app.py", destination="no/app.py"
        )
        assert "cannot be moved" in await fs.error("move_file", source=".", destination="elsewhere")
        assert "destination inside the source" in await fs.error(
            "move_file", source="src", destination="src/inner"
        )


async def test_move_file_moves_a_link_itself(serve_fs: ServeFs, workspace: Path) -> None:
    (workspace / "link.txt").symlink_to(workspace / "notes.txt")
    async with serve_fs(workspace, allow_writes=True) as fs:
        await fs.ok("move_file", source="link.txt", destination="renamed-link.txt")
    moved = workspace / "renamed-link.txt"
    assert moved.is_symlink()
    assert (workspace / "notes.txt").is_file()


async def test_move_between_two_roots(serve_fs: ServeFs, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "report.txt").write_text("numbers")
    async with serve_fs(first, second, allow_writes=True) as fs:
        await fs.ok("move_file", source="report.txt", destination=str(second / "report.txt"))
        assert "cannot be moved" in await fs.error(
            "move_file", source=str(second), destination=str(first / "second")
        )
    assert (second / "report.txt").read_text() == "numbers"
    assert not (first / "report.txt").exists()
