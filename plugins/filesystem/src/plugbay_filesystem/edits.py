"""Applying text replacements to a file's content and showing them as a diff."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from plugbay import ToolError


class Edit(BaseModel):
    """One replacement: ``oldText`` must match exactly one place in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    old_text: str = Field(
        alias="oldText",
        min_length=1,
        description=(
            "Text to replace. It must occur exactly once; if it does not occur as given, "
            "lines are compared ignoring leading and trailing whitespace."
        ),
    )
    new_text: str = Field(alias="newText", description="The replacement text.")


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply ``edits`` in order and return the new text.

    Line endings are compared as LF and the file's own style (CRLF or LF) is
    kept. When an edit's text does not occur exactly, whole lines are matched
    ignoring indentation and trailing spaces, and the replacement is re-indented
    to the matched place.

    Raises:
        ToolError: An edit matches nowhere or in more than one place; nothing is
            changed then.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    work = text.replace("\r\n", "\n")
    for number, edit in enumerate(edits, start=1):
        old = edit.old_text.replace("\r\n", "\n")
        new = edit.new_text.replace("\r\n", "\n")
        work = _apply_one(work, old, new, number)
    return work if newline == "\n" else work.replace("\n", newline)


def _apply_one(text: str, old: str, new: str, number: int) -> str:
    occurrences = text.count(old)
    if occurrences == 1:
        return text.replace(old, new, 1)
    if occurrences > 1:
        raise ToolError(
            f"edit {number}: oldText occurs {occurrences} times; include more of the "
            "surrounding lines so that it matches exactly one place"
        )
    lines = text.split("\n")
    # With a final line break the edit is about whole lines: that break ends the
    # last line rather than starting another one to compare.
    whole = old.endswith("\n")
    old_lines = (old[:-1] if whole else old).split("\n")
    new_body = new[:-1] if whole and new.endswith("\n") else new
    new_lines = new_body.split("\n") if new or not whole else []
    wanted = [line.strip() for line in old_lines]
    width = len(wanted)
    starts = [
        start
        for start in range(len(lines) - width + 1)
        if [line.strip() for line in lines[start : start + width]] == wanted
    ]
    if not starts:
        raise ToolError(
            f"edit {number}: oldText was not found (compared exactly, then line by line "
            "ignoring indentation); read the file again and copy the text to replace"
        )
    if len(starts) > 1:
        raise ToolError(
            f"edit {number}: oldText matches {len(starts)} places when indentation is "
            "ignored; include more of the surrounding lines"
        )
    start = starts[0]
    replacement = _reindent(new_lines, _indent(old_lines[0]), _indent(lines[start]))
    return "\n".join([*lines[:start], *replacement, *lines[start + width :]])


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(lines: list[str], old_base: str, file_base: str) -> list[str]:
    """Move ``lines`` from the edit's indentation to the file's, keeping relative indents."""
    result = []
    for line in lines:
        if line.strip() and line.startswith(old_base):
            result.append(file_base + line[len(old_base) :])
        else:
            result.append(line)
    return result


def unified_diff(before: str, after: str, name: str) -> str:
    """A git-style unified diff of one file (``diff --git a/name b/name``), or ``""``."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
        n=3,
    )
    body = []
    for line in lines:
        if line.endswith("\n"):
            body.append(line)
        else:
            body.append(f"{line}\n\\ No newline at end of file\n")
    if not body:
        return ""
    return f"diff --git a/{name} b/{name}\n" + "".join(body)


def fenced(diff: str) -> str:
    """The diff in a Markdown code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", diff)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}diff\n{diff}{fence}"
