"""Path confinement: no spelling of a path reaches outside the roots, through any tool or URI.

The layout (under ``tmp_path``)::

    root/inside.txt  root/sub/
    root/link_out -> outside              (a symlinked directory)
    root/relative_out -> ../outside       (the same, as a relative link)
    root/file_link_out -> outside/secret.txt
    root/dangling_out -> outside/planted.txt   (does not exist yet)
    root/sub/deep_link -> outside         (a symlinked parent deeper down)
    root/inner_link -> root/sub           (stays inside: allowed)
    outside/secret.txt
    root-sibling/secret.txt               (shares the root's name as a prefix)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from plugbay import ToolError
from plugbay_filesystem import files
from plugbay_filesystem.paths import Roots

if TYPE_CHECKING:
    from conftest import FsClient, ServeFs

pytestmark = pytest.mark.anyio

SECRET = "TOP SECRET: outside the roots"


@dataclass
class Layout:
    root: Path
    outside: Path
    sibling: Path

    def snapshot(self) -> dict[str, str]:
        """Everything outside the root, to show that no call changed it."""
        found = {}
        for place in (self.outside, self.sibling):
            for path in sorted(place.rglob("*")):
                found[str(path)] = path.read_text() if path.is_file() else "<dir>"
        return found


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    sibling = tmp_path / "root-sibling"
    for directory in (root / "sub", outside, sibling):
        directory.mkdir(parents=True)
    (root / "inside.txt").write_text("inside")
    (outside / "secret.txt").write_text(SECRET)
    (sibling / "secret.txt").write_text(SECRET)
    (root / "link_out").symlink_to(outside)
    (root / "relative_out").symlink_to(Path("..") / "outside")
    (root / "file_link_out").symlink_to(outside / "secret.txt")
    (root / "dangling_out").symlink_to(outside / "planted.txt")
    (root / "sub" / "deep_link").symlink_to(outside)
    (root / "inner_link").symlink_to(root / "sub")
    return Layout(root=root, outside=outside, sibling=sibling)


# Spellings of paths outside the root; ``{root}``, ``{outside}`` and ``{sibling}`` are
# filled in with absolute paths.
FILE_ESCAPES = [
    "../outside/secret.txt",
    "./../outside/secret.txt",
    "sub/../../outside/secret.txt",
    "sub/./../../outside/secret.txt",
    "../../../../../../../../../../outside/secret.txt",
    "{outside}/secret.txt",
    "{root}/../outside/secret.txt",
    "/{outside}/secret.txt",
    "{root}//..//outside/secret.txt",
    "{sibling}/secret.txt",
    "link_out/secret.txt",
    "relative_out/secret.txt",
    "file_link_out",
    "sub/deep_link/secret.txt",
    "inner_link/../../outside/secret.txt",
    "{root}/link_out/secret.txt",
    "/etc/passwd",
]
DIRECTORY_ESCAPES = [
    "..",
    "../outside",
    "{outside}",
    "link_out",
    "relative_out",
    "sub/deep_link",
    "{sibling}",
    "/",
]
NEW_FILE_ESCAPES = [
    "../outside/planted.txt",
    "{outside}/planted.txt",
    "link_out/planted.txt",
    "relative_out/planted.txt",
    "sub/deep_link/planted.txt",
    "dangling_out",
    "file_link_out",
    "{sibling}/planted.txt",
]


def fill(spelling: str, layout: Layout) -> str:
    return spelling.format(root=layout.root, outside=layout.outside, sibling=layout.sibling)


def assert_denied(message: str, spelling: str, layout: Layout) -> None:
    assert "access denied" in message, message
    assert "outside the allowed directories" in message
    assert SECRET not in message
    # A link's target is never revealed: the outside path shows up only when the
    # caller typed it.
    if "{outside}" not in spelling:
        assert str(layout.outside) not in message


READ_TOOLS: dict[str, Any] = {
    "read_text_file": lambda path: {"path": path},
    "read_media_file": lambda path: {"path": path},
    "get_file_info": lambda path: {"path": path},
    "edit_file": lambda path: {
        "path": path,
        "edits": [{"oldText": "TOP", "newText": "x"}],
        "dryRun": True,
    },
}
DIRECTORY_TOOLS: dict[str, Any] = {
    "list_directory": lambda path: {"path": path},
    "list_directory_with_sizes": lambda path: {"path": path},
    "directory_tree": lambda path: {"path": path},
    "search_files": lambda path: {"path": path, "pattern": "*"},
}


@pytest.mark.parametrize("spelling", FILE_ESCAPES)
@pytest.mark.parametrize("tool", sorted(READ_TOOLS))
async def test_reads_cannot_escape(
    serve_fs: ServeFs, layout: Layout, tool: str, spelling: str
) -> None:
    # Listed anyway: edit_file's dry run reads on a read-only instance.
    async with serve_fs(layout.root, list_unavailable=True) as fs:
        message = await fs.error(tool, **READ_TOOLS[tool](fill(spelling, layout)))
    assert_denied(message, spelling, layout)


@pytest.mark.parametrize("spelling", DIRECTORY_ESCAPES)
@pytest.mark.parametrize("tool", sorted(DIRECTORY_TOOLS))
async def test_directory_tools_cannot_escape(
    serve_fs: ServeFs, layout: Layout, tool: str, spelling: str
) -> None:
    async with serve_fs(layout.root) as fs:
        message = await fs.error(tool, **DIRECTORY_TOOLS[tool](fill(spelling, layout)))
    assert_denied(message, spelling, layout)
    assert "secret.txt" not in message


async def test_read_multiple_files_denies_each_escape(serve_fs: ServeFs, layout: Layout) -> None:
    paths = [fill(spelling, layout) for spelling in FILE_ESCAPES]
    async with serve_fs(layout.root) as fs:
        results = (await fs.data("read_multiple_files", paths=[*paths, "inside.txt"]))["result"]
    *escapes, inside = results
    for spelling, result in zip(FILE_ESCAPES, escapes, strict=True):
        assert "content" not in result
        assert_denied(result["error"], spelling, layout)
    assert inside["content"] == "inside"


@pytest.mark.parametrize("spelling", NEW_FILE_ESCAPES)
async def test_writes_cannot_escape(serve_fs: ServeFs, layout: Layout, spelling: str) -> None:
    before = layout.snapshot()
    target = fill(spelling, layout)
    async with serve_fs(layout.root, allow_writes=True) as fs:
        assert_denied(
            await fs.error("write_file", path=target, content="planted"), spelling, layout
        )
        assert_denied(await fs.error("create_directory", path=target), spelling, layout)
        moved = await fs.error("move_file", source="inside.txt", destination=target)
        if spelling in ("dangling_out", "file_link_out"):
            # The destination names the link itself, which is inside and taken.
            assert "already exists" in moved
        else:
            assert_denied(moved, spelling, layout)
    assert layout.snapshot() == before
    assert (layout.root / "inside.txt").read_text() == "inside"


@pytest.mark.parametrize("spelling", FILE_ESCAPES)
async def test_edits_and_moves_cannot_take_files_from_outside(
    serve_fs: ServeFs, layout: Layout, spelling: str
) -> None:
    before = layout.snapshot()
    source = fill(spelling, layout)
    async with serve_fs(layout.root, allow_writes=True) as fs:
        edit = await fs.error(
            "edit_file", path=source, edits=[{"oldText": "TOP", "newText": "PWNED"}]
        )
        if source != "/etc/passwd":  # the only spelling that is not a link into "outside"
            assert_denied(edit, spelling, layout)
        moved = await fs.call("move_file", source=source, destination="stolen.txt")
        if spelling == "file_link_out":
            # A link is moved as a link: it still points outside and still cannot be read.
            assert not moved.is_error
            assert (layout.root / "stolen.txt").is_symlink()
            assert "access denied" in await fs.error("read_text_file", path="stolen.txt")
        else:
            assert moved.is_error
            assert "access denied" in str(moved.content)
            assert not (layout.root / "stolen.txt").exists()
    assert layout.snapshot() == before


async def test_links_inside_the_root_are_followed(serve_fs: ServeFs, layout: Layout) -> None:
    (layout.root / "sub" / "note.txt").write_text("via link")
    async with serve_fs(layout.root, allow_writes=True) as fs:
        assert await fs.text("read_text_file", path="inner_link/note.txt") == "via link"
        await fs.ok("write_file", path="inner_link/new.txt", content="written")
        assert (layout.root / "sub" / "new.txt").read_text() == "written"
        # Moving a link that points outside moves the link, not the outside file.
        await fs.ok("move_file", source="link_out", destination="renamed_link")
        assert (layout.root / "renamed_link").is_symlink()
        assert (layout.outside / "secret.txt").read_text() == SECRET


async def test_listings_show_links_without_following_them(
    serve_fs: ServeFs, layout: Layout
) -> None:
    async with serve_fs(layout.root) as fs:
        listing = await fs.text("list_directory")
        assert "[LINK] link_out" in listing
        assert "[LINK] file_link_out" in listing
        tree = await fs.data("directory_tree")
        assert {"name": "link_out", "type": "symlink"} in tree["tree"]
        assert "secret.txt" not in str(tree)
        found = await fs.data("search_files", pattern="secret*")
        assert found["matches"] == []
        sized = await fs.text("list_directory_with_sizes")
        assert str(len(SECRET)) not in sized


async def test_other_spellings_stay_inside_and_are_literal(
    serve_fs: ServeFs, layout: Layout
) -> None:
    before = layout.snapshot()
    (layout.root / "~").mkdir()
    (layout.root / "~" / "home.txt").write_text("a directory named ~")
    async with serve_fs(layout.root, allow_writes=True) as fs:
        # "~" is an ordinary name, not the home directory.
        assert await fs.text("read_text_file", path="~/home.txt") == "a directory named ~"
        assert "does not exist" in await fs.error("read_text_file", path="~/.bashrc")
        # Backslashes are ordinary characters on POSIX: this names one file in the root.
        assert "does not exist" in await fs.error("read_text_file", path="..\\outside\\secret.txt")
        await fs.ok("write_file", path="..\\outside\\planted.txt", content="literal")
        assert (layout.root / "..\\outside\\planted.txt").read_text() == "literal"
        # Tools take paths, not URIs: percent signs and schemes are literal too.
        assert "does not exist" in await fs.error(
            "read_text_file", path="%2e%2e/outside/secret.txt"
        )
        assert "does not exist" in await fs.error("read_text_file", path="file:///etc/passwd")
        assert "does not exist" in await fs.error("read_text_file", path="C:\\Windows\\win.ini")
    assert layout.snapshot() == before


async def test_malformed_paths_are_refused_clearly(serve_fs: ServeFs, layout: Layout) -> None:
    async with serve_fs(layout.root, allow_writes=True) as fs:
        for tool, arguments in [
            ("read_text_file", {"path": "inside.txt\x00../../outside/secret.txt"}),
            ("write_file", {"path": "new\x00.txt", "content": "x"}),
            ("list_directory", {"path": "sub\x00"}),
        ]:
            message = await fs.error(tool, **arguments)
            assert "NUL character" in message
        too_long = await fs.error("read_text_file", path="a/" * 3000)
        assert "the limit is 4096" in too_long
        assert len(too_long) < 400  # the path is cut short in messages
        long_name = await fs.error("read_text_file", path="x" * 1000)
        assert "too long" in long_name
        assert "Invalid arguments" in await fs.error("read_text_file", path="")


def resource_escapes(layout: Layout) -> list[str]:
    root = quote(str(layout.root).lstrip("/"))
    outside = quote(str(layout.outside).lstrip("/"))
    sibling = quote(str(layout.sibling).lstrip("/"))
    return [
        f"file://fs/{root}/../outside/secret.txt",
        f"file://fs/{root}/%2e%2e/outside/secret.txt",
        f"file://fs/{root}/%2E%2E%2Foutside%2Fsecret.txt",
        f"file://fs/{root}/..%2Foutside%2Fsecret.txt",
        f"file://fs/{root}/sub/%2e%2e/%2e%2e/outside/secret.txt",
        f"file://fs/{outside}/secret.txt",
        f"file://fs//{outside}/secret.txt",
        f"file://fs/%2F{outside}/secret.txt",
        f"file://fs/{sibling}/secret.txt",
        f"file://fs/{root}/link_out/secret.txt",
        f"file://fs/{root}/file_link_out",
        f"file://fs/{root}/sub/deep_link/secret.txt",
        f"file://fs/{root}/link_out",
        f"file://fs/{outside}",
        "file://fs/etc/passwd",
        "file://fs/%2Fetc%2Fpasswd",
    ]


async def read_error(fs: FsClient, uri: str) -> str:
    with pytest.raises(MCPError) as raised:
        await fs.read(uri)
    message = raised.value.message
    assert "failed unexpectedly" not in message
    return message


async def test_resource_uris_cannot_escape(serve_fs: ServeFs, layout: Layout) -> None:
    async with serve_fs(layout.root) as fs:
        for uri in resource_escapes(layout):
            message = await read_error(fs, uri)
            # An absolute path outside the roots does not begin with a root's path, so
            # it is read as relative to the first root, where it does not exist.
            assert "access denied" in message or "does not exist" in message, (uri, message)
            assert SECRET not in message
            if "link" in uri:
                assert str(layout.outside) not in message


async def test_odd_resource_uris_stay_inside(serve_fs: ServeFs, layout: Layout) -> None:
    root = quote(str(layout.root).lstrip("/"))
    async with serve_fs(layout.root) as fs:
        # Decoded once only: "%252e%252e" is a directory literally named "%2e%2e".
        double = await read_error(fs, f"file://fs/{root}/%252e%252e/outside/secret.txt")
        assert "does not exist" in double
        assert "NUL character" in await read_error(fs, f"file://fs/{root}/inside.txt%00.png")
        backslash = await read_error(fs, f"file://fs/{root}/..%5Coutside%5Csecret.txt")
        assert "does not exist" in backslash


async def test_completion_offers_nothing_outside(serve_fs: ServeFs, layout: Layout) -> None:
    root = str(layout.root).lstrip("/")
    reference = types.ResourceTemplateReference(type="ref/resource", uri="file://fs/{+path}")
    async with serve_fs(layout.root) as fs:

        async def complete(value: str) -> list[str]:
            result = await fs.client.complete(reference, {"name": "path", "value": value})
            return result.completion.values

        assert await complete(root[:3]) == [f"{root}/"]
        assert f"{root}/inside.txt" in await complete(f"{root}/")
        assert await complete(f"{root}/su") == [f"{root}/sub/"]
        for value in (
            f"{layout.outside}/".lstrip("/"),
            f"{root}/link_out/",
            f"{root}/sub/deep_link/",
            f"{root}/../outside/",
            "etc/",
        ):
            assert await complete(value) == [], value


def test_a_link_swapped_in_after_the_check_is_not_followed(layout: Layout) -> None:
    # The walk found a location; if a link takes its last name later, the readers
    # and writers refuse it instead of following it.
    roots = Roots.from_settings([str(layout.root)])
    with roots.locate("file_link_out", follow_final=False) as place:
        with pytest.raises(ToolError, match="symbolic link took its place"):
            files.read_bytes(place, "'swapped'", 1024)
        with pytest.raises(ToolError, match="symbolic link took its place"):
            files.write_atomic(place, b"planted", "'swapped'")
        with pytest.raises(ToolError, match="symbolic link took its place"):
            files.file_info(place, "'swapped'")
    assert (layout.outside / "secret.txt").read_text() == SECRET
