"""Resources: the roots list and ``file://<instance>/{+path}`` for files and directories."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

if TYPE_CHECKING:
    from conftest import ServeFs

pytestmark = pytest.mark.anyio


async def test_lists_the_roots_resource_and_the_file_template(
    serve_fs: ServeFs, tmp_path: Path
) -> None:
    async with serve_fs(tmp_path, instance="docs") as fs:
        resources = (await fs.client.list_resources()).resources
        templates = (await fs.client.list_resource_templates()).resource_templates
    assert [(resource.uri, resource.mime_type) for resource in resources] == [
        ("file://docs/", "application/json")
    ]
    assert [template.uri_template for template in templates] == ["file://docs/{+path}"]
    assert "absolute path" in (templates[0].description or "")


async def test_roots_resource_names_each_root_with_its_uri(
    serve_fs: ServeFs, tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    async with serve_fs(first, second, allow_writes=True) as fs:
        roots = await fs.read_json("file://fs/")
        assert roots == {
            "directories": [
                {"path": str(first.resolve()), "uri": fs.uri(first.resolve())},
                {"path": str(second.resolve()), "uri": fs.uri(second.resolve())},
            ],
            "writable": True,
        }
        # Each root's URI reads as a directory listing.
        listing = await fs.read_json(roots["directories"][1]["uri"])
        assert listing["path"] == str(second.resolve())


async def test_reads_text_files_with_their_mime_type(serve_fs: ServeFs, workspace: Path) -> None:
    async with serve_fs(workspace) as fs:
        uri = fs.uri(workspace.resolve() / "docs" / "guide.md")
        (contents,) = await fs.read(uri)
        assert isinstance(contents, types.TextResourceContents)
        assert contents.uri == uri
        assert contents.mime_type == "text/markdown"
        assert contents.text == "# Guide\n"
        (workspace / "Makefile").write_text("all:\n\ttrue\n")
        (plain,) = await fs.read(fs.uri(workspace.resolve() / "Makefile"))
        assert isinstance(plain, types.TextResourceContents)
        assert plain.mime_type == "text/plain"


async def test_reads_binary_files_as_blobs(serve_fs: ServeFs, tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "data.bin").write_bytes(b"\x00\x01\x02")
    async with serve_fs(tmp_path) as fs:
        (photo,) = await fs.read(fs.uri(tmp_path.resolve() / "photo.jpg"))
        assert isinstance(photo, types.BlobResourceContents)
        assert photo.mime_type == "image/jpeg"
        assert base64.b64decode(photo.blob) == b"\xff\xd8\xff\xe0 not really a jpeg"
        (data,) = await fs.read(fs.uri(tmp_path.resolve() / "data.bin"))
        assert isinstance(data, types.BlobResourceContents)
        assert data.mime_type == "application/octet-stream"


async def test_reads_directories_as_json_listings(serve_fs: ServeFs, workspace: Path) -> None:
    (workspace / "src" / "link").symlink_to(workspace / "docs")
    async with serve_fs(workspace) as fs:
        listing = await fs.read_json(fs.uri(workspace.resolve() / "src"))
    src = workspace.resolve() / "src"
    assert listing == {
        "path": str(src),
        "entries": [
            {"name": "app.py", "type": "file", "uri": fs.uri(src / "app.py")},
            {"name": "link", "type": "symlink", "uri": fs.uri(src / "link")},
            {"name": "pkg", "type": "directory", "uri": fs.uri(src / "pkg")},
            {"name": "util.py", "type": "file", "uri": fs.uri(src / "util.py")},
        ],
        "truncated": False,
    }


async def test_names_with_reserved_characters_round_trip(serve_fs: ServeFs, tmp_path: Path) -> None:
    name = "50% off #1 ?.txt"
    (tmp_path / name).write_text("deal")
    async with serve_fs(tmp_path) as fs:
        (entry,) = (await fs.read_json(fs.uri(tmp_path.resolve())))["entries"]
        assert "%25" in entry["uri"]
        assert "%23" in entry["uri"]
        assert "%3F" in entry["uri"]
        (read,) = await fs.read(entry["uri"])
        assert isinstance(read, types.TextResourceContents)
        assert read.text == "deal"


async def test_resource_errors_are_clear(serve_fs: ServeFs, tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x" * 100)
    async with serve_fs(tmp_path, max_read_bytes=10) as fs:
        with pytest.raises(MCPError, match="does not exist"):
            await fs.read(fs.uri(tmp_path.resolve() / "missing.txt"))
        with pytest.raises(MCPError, match="max_read_bytes"):
            await fs.read(fs.uri(tmp_path.resolve() / "big.txt"))


async def test_completion_walks_down_from_the_roots(serve_fs: ServeFs, workspace: Path) -> None:
    (workspace / ".hidden").write_text("")
    root = str(workspace.resolve()).lstrip("/")
    reference = types.ResourceTemplateReference(type="ref/resource", uri="file://fs/{+path}")
    async with serve_fs(workspace) as fs:

        async def complete(value: str) -> list[str]:
            result = await fs.client.complete(reference, {"name": "path", "value": value})
            return result.completion.values

        assert await complete("") == [f"{root}/"]
        assert await complete(f"{root}/") == [
            f"{root}/docs/",
            f"{root}/empty/",
            f"{root}/notes.txt",
            f"{root}/src/",
        ]
        assert await complete(f"{root}/.") == [f"{root}/.hidden"]
        assert await complete(f"{root}/src/pkg/m") == [f"{root}/src/pkg/mod.py"]


async def test_paths_relative_to_the_first_root_name_files(
    serve_fs: ServeFs, workspace: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "far.txt").write_text("far")
    first = workspace.resolve()
    async with serve_fs(workspace, other) as fs:
        (contents,) = await fs.read("file://fs/docs/guide.md")
        assert isinstance(contents, types.TextResourceContents)
        assert contents.text == "# Guide\n"
        assert contents.uri == "file://fs/docs/guide.md"
        listing = await fs.read_json("file://fs/src")
        assert listing["path"] == str(first / "src")
        # Its entries carry the absolute form, which names a file in any root.
        assert fs.uri(first / "src" / "app.py") in [entry["uri"] for entry in listing["entries"]]
        # The absolute form goes on working, in every root.
        (absolute,) = await fs.read(fs.uri(first / "notes.txt"))
        assert isinstance(absolute, types.TextResourceContents)
        assert absolute.text.startswith("line 1")
        (far,) = await fs.read(fs.uri(other.resolve() / "far.txt"))
        assert isinstance(far, types.TextResourceContents)
        assert far.text == "far"
        # A file of the second root named relatively is looked for in the first; the
        # error says how to write the URI, with this instance's own examples.
        with pytest.raises(MCPError) as raised:
            await fs.read("file://fs/far.txt")
        message = raised.value.message
        assert "'far.txt' does not exist" in message
        assert f"file://fs/README.md is {first / 'README.md'}" in message
        assert fs.uri(first / "README.md") in message
        assert fs.uri(other.resolve() / "README.md") in message


async def test_relative_uris_cannot_escape(serve_fs: ServeFs, workspace: Path) -> None:
    async with serve_fs(workspace) as fs:
        for uri in ["file://fs/../outside/secret.txt", "file://fs/src/../../outside/secret.txt"]:
            with pytest.raises(MCPError) as raised:
                await fs.read(uri)
            assert "access denied" in raised.value.message
            assert "file://fs/README.md is" in raised.value.message
            assert "TOP SECRET" not in raised.value.message


async def test_completion_in_the_relative_form(serve_fs: ServeFs, workspace: Path) -> None:
    reference = types.ResourceTemplateReference(type="ref/resource", uri="file://fs/{+path}")
    async with serve_fs(workspace) as fs:

        async def complete(value: str) -> list[str]:
            result = await fs.client.complete(reference, {"name": "path", "value": value})
            return result.completion.values

        assert await complete("do") == ["docs/"]
        assert await complete("n") == ["notes.txt"]
        assert await complete("src/pkg/m") == ["src/pkg/mod.py"]
        assert await complete("docs/") == ["docs/guide.md"]
