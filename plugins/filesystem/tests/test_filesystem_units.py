"""The pure helpers: glob matching, edits and diffs, path resolution, tails."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from plugbay import ToolError
from plugbay_filesystem.edits import Edit, apply_edits, fenced, unified_diff
from plugbay_filesystem.files import _tail
from plugbay_filesystem.paths import Roots, file_uri, path_from_uri, uri_path
from plugbay_filesystem.search import any_matcher, compile_glob, format_size


@pytest.mark.parametrize(
    ("pattern", "name", "relative", "expected"),
    [
        ("*.py", "a.py", "x/y/a.py", True),
        ("*.py", "a.pyc", "a.pyc", False),
        ("a?c", "abc", "abc", True),
        ("a?c", "a/c", "a/c", False),
        ("src/*.py", "a.py", "src/a.py", True),
        ("src/*.py", "a.py", "src/x/a.py", False),
        ("src/**/*.py", "a.py", "src/a.py", True),
        ("src/**/*.py", "a.py", "src/x/y/a.py", True),
        ("src/**", "a.py", "src/x/a.py", True),
        ("**/test_*.py", "test_a.py", "test_a.py", True),
        ("*.{js,ts}", "app.ts", "app.ts", True),
        ("*.{js,ts}", "app.rs", "app.rs", False),
        ("[ab]*", "banana", "banana", True),
        ("[!ab]*", "banana", "banana", False),
        ("[^x]", "^", "^", True),
        ("{unclosed", "{unclosed", "{unclosed", True),
        ("a.b", "aXb", "aXb", False),
        ("/docs/", "docs", "docs", True),
    ],
)
def test_compile_glob(pattern: str, name: str, relative: str, expected: bool) -> None:
    assert compile_glob(pattern)(name, relative) is expected


def test_any_matcher_ignores_empty_patterns() -> None:
    matcher = any_matcher(["", "/", "*.log"])
    assert matcher("x.log", "x.log")
    assert not matcher("x.txt", "x.txt")
    assert not any_matcher([])("x", "x")


def edit(old: str, new: str) -> Edit:
    return Edit.model_validate({"oldText": old, "newText": new})


def test_apply_edits_whole_line_fallback_deletes_lines() -> None:
    text = "a\n    b\n    c\nd\n"
    assert apply_edits(text, [edit("b\nc\n", "")]) == "a\nd\n"
    assert apply_edits(text, [edit("b  \n", "\n")]) == "a\n\n    c\nd\n"


def test_apply_edits_in_order_and_atomically() -> None:
    assert apply_edits("one two", [edit("one", "1"), edit("1 two", "1 2")]) == "1 2"
    with pytest.raises(ToolError, match="edit 2"):
        apply_edits("one two", [edit("one", "1"), edit("one", "x")])


def test_unified_diff_marks_a_missing_final_newline() -> None:
    diff = unified_diff("a\nb", "a\nc", "f.txt")
    assert diff.startswith("diff --git a/f.txt b/f.txt\n--- a/f.txt\n+++ b/f.txt\n")
    assert "-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n" in diff
    assert unified_diff("same", "same", "f.txt") == ""


def test_fenced_uses_a_longer_fence_than_the_content() -> None:
    assert fenced("+x\n") == "```diff\n+x\n```"
    assert fenced("+````\n") == "`````diff\n+````\n`````"


def test_tail_counts_lines_from_the_end() -> None:
    data = b"".join(f"{n}\n".encode() for n in range(1000))
    assert _tail(io.BytesIO(data), len(data), 3, 10_000) == b"997\n998\n999\n"
    assert _tail(io.BytesIO(b"a\nb"), 3, 1, 100) == b"b"
    assert _tail(io.BytesIO(b""), 0, 2, 100) == b""
    assert _tail(io.BytesIO(data), len(data), 900, 100) is None


def test_resolve_keeps_or_follows_the_last_link(tmp_path: Path) -> None:
    (tmp_path / "target.txt").write_text("")
    (tmp_path / "link").symlink_to(tmp_path / "target.txt")
    roots = Roots.from_settings([str(tmp_path)])
    real = tmp_path.resolve()
    assert roots.resolve("link") == real / "target.txt"
    assert roots.resolve("link", follow_final=False) == real / "link"
    assert roots.resolve("link/", follow_final=False) == real / "link"
    assert roots.resolve(".", follow_final=False) == real
    assert roots.resolve("sub/..", follow_final=False) == real
    assert roots.relative(real / "a" / "b.txt") == "a/b.txt"
    assert roots.relative(real) == real.name


def test_roots_are_deduplicated_and_checked(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("")
    assert (
        len(Roots.from_settings([str(tmp_path), f"{tmp_path}/.", str(tmp_path)]).directories) == 1
    )
    with pytest.raises(ValueError, match="not an existing directory"):
        Roots.from_settings([str(tmp_path / "file.txt")])
    with pytest.raises(ValueError, match="at least one"):
        Roots([])


def test_uri_paths_round_trip() -> None:
    path = Path("/srv/data/50% #1.txt")
    variable = uri_path(path)
    assert variable == "srv/data/50% #1.txt"
    assert path_from_uri(variable) == str(path)
    assert file_uri("docs", variable) == "file://docs/srv/data/50%25%20%231.txt"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.5 KB"),
        (5 * 1024**3, "5.0 GB"),
        (3 * 1024**5, "3072.0 TB"),
    ],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text
