"""search_text: a bounded grep that respects the roots, the deny list and the call's timeout."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
import pytest

from plugbay_filesystem import textsearch
from plugbay_filesystem.globs import any_matcher
from plugbay_filesystem.paths import Roots

if TYPE_CHECKING:
    from conftest import ServeFs

pytestmark = pytest.mark.anyio

TOKEN = "ghp_searchable_token"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "app.py").write_text("import os\n\ndef main():\n    return helper()\n")
    (root / "src" / "pkg" / "helper.py").write_text("def helper():\n    return 42\n")
    (root / "src" / "notes.md").write_text("# Notes\nCall main() to start.\nMAIN is loud\n")
    (root / "README.md").write_text("Run main() from src/app.py\r\nThat is all\r\n")
    (root / "image.bin").write_bytes(b"\x00\x01main()\x00")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(f"url = https://{TOKEN}@host\nmain()\n")
    (root / ".env").write_text(f"TOKEN={TOKEN}\n")
    (root / "src" / "settings.py").write_text("# the token lives in the environment\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{TOKEN} main()\n")
    (root / "out").symlink_to(outside)
    (root / "alias.py").symlink_to(root / "src" / "app.py")
    return root


def places(result: dict[str, Any], root: Path) -> list[tuple[str, int]]:
    return [
        (str(Path(match["path"]).relative_to(root.resolve())), match["line"])
        for match in result["matches"]
    ]


async def test_finds_lines_with_numbers_in_walk_order(serve_fs: ServeFs, project: Path) -> None:
    async with serve_fs(project) as fs:
        result = await fs.data("search_text", pattern="main()")
    # Literal by default: the parentheses are plain text. Links are not followed, the
    # binary file is skipped and counted, .git and .env are never searched.
    assert places(result, project) == [
        ("README.md", 1),
        ("src/app.py", 3),
        ("src/notes.md", 2),
    ]
    assert result["matches"][0]["text"] == "Run main() from src/app.py"  # no "\r"
    assert result["matches"][0]["path"] == str(project.resolve() / "README.md")
    assert result["files_skipped"] == 1
    assert result["files_searched"] == 5
    assert result["truncated"] is False


async def test_regex_case_include_exclude_and_context(serve_fs: ServeFs, project: Path) -> None:
    async with serve_fs(project) as fs:
        regex = await fs.data("search_text", pattern=r"^def \w+\(", regex=True)
        assert places(regex, project) == [("src/app.py", 3), ("src/pkg/helper.py", 1)]
        literal = await fs.data("search_text", pattern=r"^def \w+\(")
        assert literal["matches"] == []
        folded = await fs.data("search_text", pattern="main", ignoreCase=True, include="*.md")
        assert places(folded, project) == [
            ("README.md", 1),
            ("src/notes.md", 2),
            ("src/notes.md", 3),
        ]
        by_path = await fs.data("search_text", pattern="return", include="src/pkg/*.py")
        assert places(by_path, project) == [("src/pkg/helper.py", 2)]
        excluded = await fs.data("search_text", pattern="return", excludePatterns=["pkg"])
        assert places(excluded, project) == [("src/app.py", 4)]
        context = await fs.data("search_text", pattern="def main", contextLines=2)
        (match,) = context["matches"]
        assert match["before"] == ["import os", ""]
        assert match["after"] == ["    return helper()"]
        one_file = await fs.data("search_text", pattern="main", path="src/notes.md")
        assert places(one_file, project) == [("src/notes.md", 2)]


async def test_max_matches_and_its_cap(serve_fs: ServeFs, tmp_path: Path) -> None:
    (tmp_path / "many.txt").write_text("hit\n" * 50)
    (tmp_path / "zz.txt").write_text("hit\n")
    async with serve_fs(tmp_path) as fs:
        result = await fs.data("search_text", pattern="hit", maxMatches=7)
        assert [match["line"] for match in result["matches"]] == list(range(1, 8))
        assert result["truncated"] is True
        default = await fs.data("search_text", pattern="hit")
        assert len(default["matches"]) == 51
        assert default["truncated"] is False
        assert "1000" in await fs.error("search_text", pattern="hit", maxMatches=5000)
        assert "10" in await fs.error("search_text", pattern="hit", contextLines=50)


async def test_the_result_size_is_bounded(serve_fs: ServeFs, tmp_path: Path) -> None:
    (tmp_path / "wide.txt").write_text(("hit " + "w" * 390 + "\n") * 1000)
    async with serve_fs(tmp_path) as fs:
        result = await fs.data("search_text", pattern="hit", maxMatches=1000, contextLines=10)
    assert result["truncated"] is True
    returned = sum(
        len(line)
        for match in result["matches"]
        for line in [match["text"], *match["before"], *match["after"]]
    )
    assert 0 < returned <= textsearch.MAX_RESULT_CHARS
    assert len(result["matches"]) < 1000


async def test_long_lines_are_cut_and_large_files_skipped(
    serve_fs: ServeFs, tmp_path: Path
) -> None:
    (tmp_path / "minified.js").write_text("x" * 5000 + "needle" + "y" * 10)
    (tmp_path / "big.log").write_text("needle\n" * 200)
    async with serve_fs(tmp_path, max_read_bytes=1200) as fs:
        result = await fs.data("search_text", pattern="needle")
        assert result["matches"] == []  # both are over the limit
        assert result["files_skipped"] == 2
        message = await fs.error("search_text", pattern="needle", path="big.log")
        assert "max_read_bytes" in message
    async with serve_fs(tmp_path) as fs:
        result = await fs.data("search_text", pattern="needle", include="*.js")
        (match,) = result["matches"]
        assert len(match["text"]) < 500
        assert match["text"].endswith("more characters)")


async def test_bad_patterns_get_clear_errors(serve_fs: ServeFs, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("aaaa\n")
    async with serve_fs(tmp_path) as fs:
        message = await fs.error("search_text", pattern=r"(a)\1", regex=True)
        assert "RE2" in message
        assert "backreferences" in message
        assert "look" in await fs.error("search_text", pattern="(?=a)", regex=True)
        assert "line break" in await fs.error("search_text", pattern="a\nb")
        assert await fs.error("search_text", pattern="")
        # Backtracking engines take exponential time on this; RE2 answers at once.
        (tmp_path / "evil.txt").write_text("a" * 5000 + "!\n")
        result = await fs.data("search_text", pattern="(a+)+$", regex=True, include="evil.txt")
        assert result["matches"] == []


async def test_denied_and_outside_files_are_never_searched(
    serve_fs: ServeFs, project: Path
) -> None:
    async with serve_fs(project) as fs:
        for arguments in [
            {"pattern": TOKEN},
            {"pattern": TOKEN, "include": ".env*"},
            {"pattern": TOKEN, "include": "**/config"},
            {"pattern": "ghp_.*", "regex": True, "include": "*"},
        ]:
            result = await fs.data("search_text", **arguments)
            assert result["matches"] == [], arguments
        for path in [".git", ".env", ".git/config", "out", "out/secret.txt", "../outside"]:
            message = await fs.error("search_text", pattern=TOKEN, path=path)
            assert TOKEN not in message
            assert "deny list" in message or "outside" in message, message
    async with serve_fs(project, deny=[]) as fs:
        found = await fs.data("search_text", pattern=TOKEN)
        assert places(found, project) == [(".env", 1), (".git/config", 1)]


async def test_a_cancelled_search_stops_before_the_next_file(tmp_path: Path) -> None:
    for index in range(5):
        (tmp_path / f"file{index}.txt").write_text("line\n")
    roots = Roots.from_settings([str(tmp_path)])
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    tested: list[str] = []
    outcome: list[BaseException | dict[str, Any]] = []

    def test(line: str) -> bool:
        tested.append(line)
        started.set()
        release.wait(10)
        return True

    def run() -> None:
        try:
            with roots.locate(".") as place:
                found = textsearch.search_text(
                    place,
                    "'.'",
                    test,
                    include=None,
                    excluded=any_matcher(()),
                    context=0,
                    max_matches=100,
                    max_file_bytes=1000,
                )
            outcome.append(dict(found))
        except BaseException as error:  # the cancellation, seen from the thread
            outcome.append(error)
        finally:
            finished.set()

    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: anyio.to_thread.run_sync(run, abandon_on_cancel=True))
            await anyio.to_thread.run_sync(started.wait)
            scope.cancel()
    release.set()
    await anyio.to_thread.run_sync(finished.wait)
    assert tested == ["line"]  # the first file only
    assert len(outcome) == 1
    assert isinstance(outcome[0], BaseException)
    assert not isinstance(outcome[0], AssertionError)
