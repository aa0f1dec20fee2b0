"""The settings of one filesystem connector instance."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from plugbay import ConfigPath, Settings, ToolError
from plugbay_filesystem.deny import DEFAULT_DENY, DenyList

DEFAULT_MAX_READ_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ENTRIES = 10_000


class FilesystemSettings(Settings):
    """Where the connector may go and what it may do there."""

    roots: list[ConfigPath] = Field(
        default_factory=lambda: [Path(".")],
        min_length=1,
        description=(
            "The directories the instance may access. Relative entries start from the "
            "configuration file's folder (from the working directory when they come from "
            "PLUGBAY_<INSTANCE>__ROOTS, and for the default) and ~ is the operator's home; "
            "each must exist when the server starts. Relative paths that callers send "
            "start from the first root."
        ),
    )
    allow_writes: bool = Field(
        default=False,
        description=(
            "Enable write_file, edit_file, create_directory and move_file; without it "
            "they are not listed (and refuse every call if [server] list_unavailable_tools "
            "lists them)."
        ),
    )
    deny: list[str] = Field(
        default_factory=lambda: list(DEFAULT_DENY),
        description=(
            "Glob patterns of names never served: not read, written, moved, listed, searched "
            "or completed, by any tool or resource. Matched without regard to case against "
            "each entry's real path relative to its root: a pattern without '/' matches any "
            "one name at any depth ('.git/' denies every .git directory and all it holds, "
            "'*.pem' every such file), one with '/' any run of names ('.docker/config.json'). "
            "The default lists version-control internals, .env files, keys and credential "
            "files; set it to [] to serve everything, or add to it with deny_extra."
        ),
    )
    deny_extra: list[str] = Field(
        default_factory=list,
        description="More deny patterns, added to deny (so the defaults need not be repeated).",
    )
    refuse_hard_links: bool = Field(
        default=False,
        description=(
            "Refuse to read or describe a regular file that has more than one hard link. "
            "A hard link inside a root to a file elsewhere is otherwise served like any "
            "other file, since nothing tells it apart from the original."
        ),
    )
    max_read_bytes: int = Field(
        default=DEFAULT_MAX_READ_BYTES,
        ge=1,
        description=(
            "The most bytes one read returns: per file, and in total for read_multiple_files."
        ),
    )
    max_entries: int = Field(
        default=DEFAULT_MAX_ENTRIES,
        ge=1,
        description=(
            "The most entries one listing, tree or search returns; longer results are cut "
            "off and say so."
        ),
    )

    watch: bool = Field(
        default=True,
        description=(
            "Watch the directories for changes and tell clients that subscribed to a file "
            "or directory resource when it changes. Turn it off for very large trees, "
            "where the operating system's limit on watched directories may be reached."
        ),
    )

    @field_validator("roots", "deny", "deny_extra", mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        # Environment variables arrive as one string: accept a JSON list or a
        # PATH-style list (``/srv/a:/srv/b``), so PLUGBAY_<INSTANCE>__ROOTS works
        # (and __DENY: ``[]`` or ``.git/:*.pem``).
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part for part in text.split(os.pathsep) if part]

    @field_validator("deny", "deny_extra")
    @classmethod
    def _check_deny(cls, value: list[str]) -> list[str]:
        try:
            DenyList(value)
        except ToolError as error:
            raise ValueError(str(error)) from None
        return value

    def facts(self) -> str:
        """The roots and whether they are writable: the instance's line in tool descriptions."""
        # abspath, not resolve: no I/O, and the default "." shown as the folder it is.
        roots = ", ".join(os.path.abspath(root) for root in self.roots)
        first = "; relative paths start from the first" if len(self.roots) > 1 else ""
        access = "writes allowed" if self.allow_writes else "read-only"
        return f"This instance: directories {roots}{first}; {access}."

    def deny_list(self) -> DenyList:
        """The compiled deny list: :attr:`deny` and :attr:`deny_extra` together."""
        return DenyList([*self.deny, *self.deny_extra])
