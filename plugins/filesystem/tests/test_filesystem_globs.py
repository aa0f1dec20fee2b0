"""Globs: the linear-time matcher agrees with the regular-expression meaning it replaced,
and patterns that made a backtracking matcher run for seconds are plain work for it."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from plugbay import ToolError
from plugbay_filesystem.globs import MAX_ALTERNATIVES, MAX_PATTERN_LENGTH, compile_glob

if TYPE_CHECKING:
    from conftest import ServeFs

# Patterns that backtrack badly when translated to a regular expression, and whether
# they match every one of NAMES or none.
PATHOLOGICAL = [
    ("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*|", False),
    ("*a" * 40 + "b", False),
    ("**a" * 14 + "**", True),
    ("*?" * 200 + "z", False),
    ("**/" * 60 + "x", False),
    ("**a" * 40 + "/b", False),
    ("*" * MAX_PATTERN_LENGTH, True),
    ("[a-z]*" * 80 + "!", False),
    ("{*a,*b,*?}" * 4 + "|", False),
]
NAMES = [f"{'ab' * 14}{n % 10}" for n in range(400)] + ["ba" * 127, "a/" * 100 + "a"]


def reference(pattern: str) -> re.Pattern[str]:
    """The meaning globs had as regular expressions (classes never match '/')."""
    parts, index, depth = [], 0, 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            parts.append(".*")
            index += 2
            continue
        if char == "[" and (end := pattern.find("]", index + 2)) != -1:
            body = pattern[index + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace("\\-", "-")
            parts.append(f"[^/{body}]" if negate else f"(?!/)[{body}]")
            index = end + 1
            continue
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif char == "{" and "}" in pattern[index:]:
            parts.append("(?:")
            depth += 1
        elif char == "}" and depth:
            parts.append(")")
            depth -= 1
        elif char == "," and depth:
            parts.append("|")
        else:
            parts.append(re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)


PIECES = ["a", "b", ".", "/", "*", "?", "**", "**/", "[ab]", "[!a]", "[a-b]", "{a,b}", "{,*}"]


def test_agrees_with_the_regular_expression_meaning() -> None:
    chance = random.Random(11)
    checked = 0
    for _ in range(600):
        pattern = "".join(chance.choice(PIECES) for _ in range(chance.randint(1, 6)))
        body = pattern.strip("/")
        if not body or body.count("{") != body.count("}"):
            continue
        expected = reference(body)
        matcher = compile_glob(pattern)
        for _ in range(15):
            text = "".join(chance.choice("ab./") for _ in range(chance.randint(0, 8)))
            assert matcher(text, text) == (expected.fullmatch(text) is not None), (pattern, text)
            checked += 1
    assert checked > 5000


@pytest.mark.parametrize(("pattern", "expected"), PATHOLOGICAL)
def test_pathological_patterns_are_linear_work(pattern: str, expected: bool) -> None:
    matcher = compile_glob(pattern)
    for _ in range(5):
        assert [matcher(name, name) for name in NAMES] == [expected] * len(NAMES)


def test_sizes_are_bounded_with_clear_errors() -> None:
    with pytest.raises(ToolError, match="the limit is 1000"):
        compile_glob("a" * (MAX_PATTERN_LENGTH + 1))
    with pytest.raises(ToolError, match=f"more than {MAX_ALTERNATIVES} alternatives"):
        compile_glob("{a,b}" * 9)
    with pytest.raises(ToolError, match=r"not a valid glob.*not closed"):
        compile_glob("{a,{b}")
    with pytest.raises(ToolError, match="reversed"):
        compile_glob("[z-a]")


@pytest.mark.anyio
async def test_search_and_excludes_with_a_pathological_pattern(
    serve_fs: ServeFs, tmp_path: Path
) -> None:
    for number in range(300):
        (tmp_path / f"ordinary-file-name-{number:06}.txt").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a-name-that-does-match|").write_text("")
    bad = PATHOLOGICAL[0][0]
    async with serve_fs(tmp_path) as fs:
        found = await fs.data("search_files", pattern=bad)
        assert found == {
            "matches": [str(tmp_path.resolve() / "sub" / "a-name-that-does-match|")],
            "truncated": False,
        }
        tree = await fs.data("directory_tree", excludePatterns=[bad, "*.txt"])
        assert tree == {
            "tree": [{"name": "sub", "type": "directory", "children": []}],
            "truncated": False,
        }
        # The server answers the next request as usual.
        assert (await fs.data("list_allowed_directories"))["writable"] is False
