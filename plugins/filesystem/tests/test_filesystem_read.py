"""Reading files: text with head/tail, media as image/audio/blob content, several at once."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import TYPE_CHECKING

import mcp_types as types
import pytest

if TYPE_CHECKING:
    from conftest import ServeFs

# Marked at collection time: anyio rebuilds (and un-parametrizes) async tests that
# only get the mark later, from the workspace conftest's collection hook.
pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
WAV = (
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"
    b"D\xac\x00\x00\x88X\x01\x00\x02\x00\x10\x00data\x00\x00\x00\x00"
)


async def test_read_text_file_whole_and_relative_to_first_root(
    serve_fs: ServeFs, workspace: Path
) -> None:
    async with serve_fs(workspace) as fs:
        assert (
            await fs.text("read_text_file", path="notes.txt")
            == "line 1\nline 2\nline 3\nline 4\nline 5\n"
        )
        absolute = await fs.text("read_text_file", path=str(workspace / "src" / "app.py"))
        assert absolute.startswith("def main():")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"head": 2}, "line 1\nline 2\n"),
        ({"head": 99}, "line 1\nline 2\nline 3\nline 4\nline 5\n"),
        ({"tail": 2}, "line 4\nline 5\n"),
        ({"tail": 5}, "line 1\nline 2\nline 3\nline 4\nline 5\n"),
        ({"tail": 50}, "line 1\nline 2\nline 3\nline 4\nline 5\n"),
    ],
)
async def test_read_text_file_head_and_tail(
    serve_fs: ServeFs, workspace: Path, arguments: dict[str, int], expected: str
) -> None:
    async with serve_fs(workspace) as fs:
        assert await fs.text("read_text_file", path="notes.txt", **arguments) == expected


async def test_tail_of_a_large_file_reads_across_blocks(serve_fs: ServeFs, tmp_path: Path) -> None:
    lines = [f"row {number:06d} " + "x" * 50 for number in range(20_000)]
    (tmp_path / "big.log").write_text("\n".join(lines))  # no final newline
    async with serve_fs(tmp_path, max_read_bytes=64 * 1024) as fs:
        tail = await fs.text("read_text_file", path="big.log", tail=3)
        assert tail == "\n".join(lines[-3:])
        head = await fs.text("read_text_file", path="big.log", head=2)
        assert head == "\n".join(lines[:2]) + "\n"
        # The whole file is over the limit, and so are too many lines.
        assert "read limit" in await fs.error("read_text_file", path="big.log")
        assert "fewer lines" in await fs.error("read_text_file", path="big.log", tail=5000)


async def test_read_text_file_refuses_bad_requests(serve_fs: ServeFs, workspace: Path) -> None:
    (workspace / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    async with serve_fs(workspace) as fs:
        assert "not both" in await fs.error("read_text_file", path="notes.txt", head=1, tail=1)
        assert "Invalid arguments" in await fs.error("read_text_file", path="notes.txt", head=0)
        assert "does not exist" in await fs.error("read_text_file", path="missing.txt")
        assert "is a directory" in await fs.error("read_text_file", path="src")
        assert "read_media_file" in await fs.error("read_text_file", path="blob.bin")


async def test_invalid_utf8_is_replaced_when_reading(serve_fs: ServeFs, tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    async with serve_fs(tmp_path) as fs:
        assert await fs.text("read_text_file", path="latin1.txt") == "caf\ufffd"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
async def test_a_fifo_does_not_hang_the_server(serve_fs: ServeFs, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    async with serve_fs(tmp_path) as fs:
        assert "not a regular file" in await fs.error("read_text_file", path="pipe")


async def test_read_media_file_returns_image_audio_and_blob_content(
    serve_fs: ServeFs, tmp_path: Path
) -> None:
    (tmp_path / "dot.png").write_bytes(PNG)
    (tmp_path / "silence.wav").write_bytes(WAV)
    (tmp_path / "archive.zip").write_bytes(b"PK\x03\x04rest")
    async with serve_fs(tmp_path) as fs:
        image = (await fs.ok("read_media_file", path="dot.png")).content
        assert len(image) == 1
        assert isinstance(image[0], types.ImageContent)
        assert image[0].mime_type == "image/png"
        assert base64.b64decode(image[0].data) == PNG

        audio = (await fs.ok("read_media_file", path="silence.wav")).content
        assert isinstance(audio[0], types.AudioContent)
        assert audio[0].mime_type == "audio/wav"
        assert base64.b64decode(audio[0].data) == WAV

        blob = (await fs.ok("read_media_file", path="archive.zip")).content
        assert isinstance(blob[0], types.EmbeddedResource)
        resource = blob[0].resource
        assert isinstance(resource, types.BlobResourceContents)
        assert resource.mime_type == "application/zip"
        assert resource.uri == fs.uri(tmp_path.resolve() / "archive.zip")
        assert base64.b64decode(resource.blob) == b"PK\x03\x04rest"
        # The blob's URI is one the resource template serves.
        (read,) = await fs.read(resource.uri)
        assert isinstance(read, types.BlobResourceContents)


async def test_read_media_file_respects_the_size_limit(serve_fs: ServeFs, tmp_path: Path) -> None:
    (tmp_path / "big.png").write_bytes(PNG * 10)
    async with serve_fs(tmp_path, max_read_bytes=len(PNG)) as fs:
        message = await fs.error("read_media_file", path="big.png")
        assert "max_read_bytes" in message
        assert str(len(PNG) * 10) in message


async def test_read_multiple_files_reports_each_file(serve_fs: ServeFs, workspace: Path) -> None:
    async with serve_fs(workspace) as fs:
        result = await fs.data(
            "read_multiple_files",
            paths=["notes.txt", "missing.txt", "../outside/secret.txt", "src/util.py"],
        )
        notes, missing, outside, util = result["result"]
        assert notes == {"path": "notes.txt", "content": "line 1\nline 2\nline 3\nline 4\nline 5\n"}
        assert missing["path"] == "missing.txt"
        assert "does not exist" in missing["error"]
        assert "access denied" in outside["error"]
        assert "content" not in outside
        assert util["content"] == "VALUE = 2\n"
        assert "Invalid arguments" in await fs.error("read_multiple_files", paths=[])


async def test_read_multiple_files_shares_one_read_budget(
    serve_fs: ServeFs, tmp_path: Path
) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text("x" * 40)
    async with serve_fs(tmp_path, max_read_bytes=100) as fs:
        first, second, third = (
            await fs.data("read_multiple_files", paths=["a.txt", "b.txt", "c.txt"])
        )["result"]
        assert "content" in first
        assert "content" in second
        assert "read limit" in third["error"]
