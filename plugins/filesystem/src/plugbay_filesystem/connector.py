"""The filesystem connector: tools and resources over files under configured roots.

Tools are plain methods: the host runs them in worker threads, so blocking file I/O
never stalls the event loop, and long walks check for cancellation between
directories so that a call's timeout stops them. Every path goes through
:meth:`Roots.locate` before anything touches the disk, and the tools then work on
the directory it opened (see :mod:`plugbay_filesystem.location`).
"""

# The ``path`` arguments are described once, in their ``Annotated`` types below,
# rather than in every docstring.
# ruff: noqa: D417

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Annotated, Literal

import anyio.to_thread
from pydantic import Field

from plugbay import Audio, Connector, Context, File, Image, ToolError, tool
from plugbay.describing import expand_tool_names
from plugbay_filesystem import canonical, directories, files, search, watching
from plugbay_filesystem.arguments import (
    AllowedDirectories,
    DirectoryArgument,
    ExcludeArgument,
    FileText,
    PathArgument,
)
from plugbay_filesystem.edits import Edit, apply_edits, fenced, unified_diff
from plugbay_filesystem.errors import shown, writes_disabled
from plugbay_filesystem.file_resources import FileResources
from plugbay_filesystem.paths import Roots, file_uri, uri_path
from plugbay_filesystem.settings import FilesystemSettings
from plugbay_filesystem.text_tool import TextSearchTools
from plugbay_filesystem.watching import ChangeWatcher


class FilesystemConnector(TextSearchTools, FileResources, Connector[FilesystemSettings]):
    """Read, search and (when allowed) write files under a set of root directories.

    Every path is confined to the configured roots: ``..``, absolute paths elsewhere
    and symbolic links that lead out are refused. Writing is off unless the
    operator sets ``allow_writes``.
    """

    name = "filesystem"
    uri_scheme = "file"
    announces_updates = True  # clients may subscribe to files: see plugbay_filesystem.watching

    def __init__(self, instance: str, settings: FilesystemSettings) -> None:
        super().__init__(instance, settings)
        self._roots: Roots | None = None
        self._watcher: ChangeWatcher | None = None

    async def start(self) -> None:
        """Resolve the roots; a root that is missing or not a directory fails the start."""
        roots = await anyio.to_thread.run_sync(
            partial(
                Roots.from_settings,
                [str(root) for root in self.settings.roots],
                refuse_hard_links=self.settings.refuse_hard_links,
                deny=self.settings.deny_list(),
            )
        )
        self._roots = canonical.DecidedRoots(roots, self.instance)
        if self.settings.watch:
            whole_roots = not watching.HOST_TELLS_SUBSCRIPTIONS
            watcher = ChangeWatcher(
                roots, self.instance, self.resource_updated, whole_roots=whole_roots
            )
            await watcher.start()
            self._watcher = watcher

    async def stop(self) -> None:
        """Stop watching the roots for changes."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            await watcher.stop()

    async def resource_subscribed(self, uri: str) -> None:
        """The first client subscribed to ``uri``: watch the file or directory it names."""
        if self._watcher is not None:
            await self._watcher.watch(uri)

    async def resource_unsubscribed(self, uri: str) -> None:
        """The last client left ``uri``: stop watching for it."""
        if self._watcher is not None:
            await self._watcher.unwatch(uri)

    async def check_health(self) -> None:
        """Raise if a root directory has disappeared since the start."""
        roots = self.roots
        gone = await anyio.to_thread.run_sync(
            lambda: [str(root) for root in roots.directories if not root.is_dir()]
        )
        if gone:
            raise RuntimeError(f"root directories no longer exist: {', '.join(gone)}")

    @property
    def roots(self) -> Roots:
        """The resolved roots; available once :meth:`start` has run."""
        if self._roots is None:
            raise RuntimeError(f"filesystem instance {self.instance!r} has not been started")
        return self._roots

    def _require_writes(self, tool_name: str) -> None:
        if not self.settings.allow_writes:
            raise writes_disabled(self.instance, self.tool_name(tool_name))

    def instance_facts(self) -> str:
        """The roots and whether this instance writes, for tool descriptions."""
        return self.settings.facts()

    def _uri(self, resolved: Path) -> str:
        return file_uri(self.instance, uri_path(resolved))

    async def canonical_uri(self, uri: str) -> str:
        """The URI of the real path a ``file://`` URI names, for the host's policy."""
        return await anyio.to_thread.run_sync(
            canonical.resource_uri, self.roots, self.instance, uri
        )

    async def canonical_paths(self, tool: str, paths: Sequence[str]) -> list[str]:
        """The URIs of the real paths a tool's path arguments name, for the host's policy."""
        # move_file works on the entry itself (a link is moved, not followed).
        follow = tool != f"{self.instance}_move_file"
        return await anyio.to_thread.run_sync(
            partial(canonical.path_uris, self.roots, self.instance, paths, follow_final=follow)
        )

    # Reading ---------------------------------------------------------------------

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=False,
        title="Read text file",
        paths=("path",),
    )
    def read_text_file(
        self,
        path: PathArgument,
        head: Annotated[int | None, Field(ge=1)] = None,
        tail: Annotated[int | None, Field(ge=1)] = None,
    ) -> str:
        """Read a file as UTF-8 text: all of it, or only its first or last lines.

        Args:
            head: Return only the first N lines (not together with tail).
            tail: Return only the last N lines (not together with head).
        """
        with self.roots.locate(path) as place:
            return files.read_text(
                place, shown(path), self.settings.max_read_bytes, head=head, tail=tail
            )

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=False,
        title="Read media file",
        paths=("path",),
    )
    def read_media_file(self, path: PathArgument) -> Image | Audio | File:
        """Read an image or audio file (or any binary file) and return it as content.

        Images come back as image content and audio as audio content, with their MIME
        type; any other file comes back as an embedded blob resource.
        """
        with self.roots.locate(path) as place:
            data = files.read_bytes(place, shown(path), self.settings.max_read_bytes)
        mime_type = files.guess_mime_type(place.path)
        if mime_type.startswith("image/"):
            return Image(data=data, mime_type=mime_type)
        if mime_type.startswith("audio/"):
            return Audio(data=data, mime_type=mime_type)
        return File(data=data, mime_type=mime_type, uri=self._uri(place.path))

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=False,
        title="Read multiple files",
        paths=("paths",),
    )
    def read_multiple_files(
        self,
        paths: Annotated[list[str], Field(min_length=1, max_length=100)],
        ctx: Context | None = None,
    ) -> list[FileText]:
        """Read several text files at once; a file that cannot be read does not stop the others.

        Each entry has the file's ``content`` or an ``error``. Together the files may not
        exceed the read limit; files past it are reported as errors.

        Args:
            paths: Paths as {tool:read_text_file} takes them (absolute inside an allowed
                directory, or relative to the first one).
        """
        results: list[FileText] = []
        budget = self.settings.max_read_bytes
        for path in paths:
            if ctx is not None:
                ctx.raise_if_cancelled()  # past the timeout: read no more
            try:
                if budget <= 0:
                    raise ToolError(
                        "not read: the files before it used up the read limit (max_read_bytes)"
                    )
                with self.roots.locate(path) as place:
                    data = files.read_bytes(place, shown(path), budget)
                budget -= len(data)
                results.append({"path": path, "content": files.decode_text(data, shown(path))})
            except ToolError as error:
                message = expand_tool_names(str(error), self.instance)  # not a tool error
                results.append({"path": path, "error": message})
        return results

    # Writing ---------------------------------------------------------------------

    @tool(
        read_only=False,
        destructive=True,
        idempotent=True,
        open_world=False,
        title="Write file",
        requires="allow_writes",
        paths=("path",),
    )
    def write_file(self, path: PathArgument, content: str) -> str:
        """Create a file or replace its whole content with UTF-8 text.

        The directory must exist ({tool:create_directory} makes it). An existing file is
        overwritten without a prompt: prefer {tool:edit_file} for changes to part of a file.

        Args:
            content: The complete new content.
        """
        self._require_writes("write_file")
        data = content.encode("utf-8")
        with self.roots.locate(path) as place:
            if place.missing:
                raise ToolError(
                    f"the directory of {shown(path)} does not exist; "
                    "create it with {tool:create_directory}"
                )
            files.write_atomic(place, data, shown(path))
        return f"Wrote {len(data)} bytes to {place.path}"

    @tool(
        read_only=False,
        destructive=True,
        idempotent=False,
        open_world=False,
        title="Edit file",
        requires="allow_writes",
        paths=("path",),
    )
    def edit_file(
        self,
        path: PathArgument,
        edits: Annotated[list[Edit], Field(min_length=1)],
        dry_run: Annotated[bool, Field(alias="dryRun")] = False,
    ) -> str:
        """Replace parts of a text file and show the change as a git-style unified diff.

        Edits apply in order; each ``oldText`` must match exactly one place (if it does
        not match as given, whole lines are compared ignoring indentation, and the new
        text is re-indented to fit). If any edit fails, nothing is written. Use dryRun
        first to preview the diff; a dry run also works on a read-only instance.

        Args:
            edits: The replacements, as {oldText, newText} objects.
            dry_run: Only show the diff; write nothing.
        """
        if not dry_run:
            self._require_writes("edit_file")
        with self.roots.locate(path) as place:
            before = files.decode_text(
                files.read_bytes(place, shown(path), self.settings.max_read_bytes),
                shown(path),
                strict=True,
            )
            after = apply_edits(before, edits)
            resolved = place.path
            diff = unified_diff(before, after, self.roots.relative(resolved))
            if not diff:
                return f"No changes: the edits leave {resolved} as it was."
            if dry_run:
                return (
                    f"Dry run, nothing written. The edits would change {resolved}:"
                    f"\n\n{fenced(diff)}"
                )
            # The same open directory: the file written is the file read.
            files.write_atomic(place, after.encode("utf-8"), shown(path))
        return f"Edited {resolved}:\n\n{fenced(diff)}"

    @tool(
        read_only=False,
        destructive=False,
        idempotent=True,
        open_world=False,
        title="Create directory",
        requires="allow_writes",
        paths=("path",),
    )
    def create_directory(self, path: PathArgument) -> str:
        """Create a directory, and any missing parents; succeeds if it already exists."""
        self._require_writes("create_directory")
        with self.roots.locate(path) as place:
            if not directories.make_directories(place, shown(path)):
                return f"Directory {place.path} already exists"
        return f"Created directory {place.path}"

    @tool(
        read_only=False,
        destructive=True,
        idempotent=False,
        open_world=False,
        title="Move file",
        requires="allow_writes",
        paths=("source", "destination"),
        # Moving a directory renames everything beneath it, denied names included.
        trees=("source",),
    )
    def move_file(self, source: PathArgument, destination: PathArgument) -> str:
        """Move or rename a file or directory; fails if the destination exists.

        A symbolic link is moved as a link. Both paths must be inside the allowed
        directories, and an allowed directory itself cannot be moved.

        Args:
            source: The file or directory to move.
            destination: Its new path, including the new name.
        """
        self._require_writes("move_file")
        with (
            self.roots.locate(source, follow_final=False) as origin,
            self.roots.locate(destination, follow_final=False) as target,
        ):
            directories.move(origin, target, shown(source), shown(destination))
        return f"Moved {origin.path} to {target.path}"

    # Browsing --------------------------------------------------------------------

    def _entries(self, path: str) -> list[directories.Entry]:
        with self.roots.locate(path) as place:
            return directories.read_directory(place, shown(path))

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=False,
        title="List directory",
        paths=("path",),
    )
    def list_directory(self, path: DirectoryArgument = ".") -> str:
        """List a directory's entries, one per line, marked [FILE], [DIR] or [LINK]."""
        entries = self._entries(path)
        return search.format_listing(entries, self.settings.max_entries, sizes=False)

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=False,
        title="List directory with sizes",
        paths=("path",),
    )
    def list_directory_with_sizes(
        self,
        path: DirectoryArgument = ".",
        sort_by: Annotated[Literal["name", "size"], Field(alias="sortBy")] = "name",
    ) -> str:
        """List a directory's entries with file sizes, then totals.

        Args:
            sort_by: Order by name, or by size with the largest first.
        """
        entries = self._entries(path)
        return search.format_listing(
            entries, self.settings.max_entries, sizes=True, sort_by=sort_by
        )

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=False,
        title="Directory tree",
        paths=("path",),
        trees=("path",),
    )
    def directory_tree(
        self,
        path: DirectoryArgument = ".",
        exclude_patterns: ExcludeArgument = (),
        ctx: Context | None = None,
    ) -> search.DirectoryTree:
        """Get the recursive tree of a directory as JSON.

        Each entry has a name, a type (file, directory, symlink, other) and, for
        directories, its children. Symbolic links are listed, not followed.
        """
        excluded = search.any_matcher(exclude_patterns)
        with search.watching(ctx), self.roots.locate(path) as place:
            return search.directory_tree(place, shown(path), excluded, self.settings.max_entries)

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=False,
        title="Search files",
        paths=("path",),
        trees=("path",),
    )
    def search_files(
        self,
        pattern: str,
        path: DirectoryArgument = ".",
        exclude_patterns: ExcludeArgument = (),
        ctx: Context | None = None,
    ) -> search.SearchResult:
        """Find files and directories whose names or paths match a glob pattern.

        Searches recursively from ``path`` (symbolic links are not followed) and returns
        absolute paths.

        Args:
            pattern: A glob. Without '/' it matches names at any depth ('*.py',
                'README*'); with '/' it matches paths relative to ``path``
                ('src/**/test_*.py'). '**' spans directories; '{a,b}' gives alternatives.
        """
        if not pattern.strip("/"):
            raise ToolError("the pattern is empty; pass a glob such as '*.py'")
        matches = search.compile_glob(pattern)
        excluded = search.any_matcher(exclude_patterns)
        with search.watching(ctx), self.roots.locate(path) as place:
            return search.search_files(
                place, shown(path), matches, excluded, self.settings.max_entries
            )

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=False,
        title="Get file info",
        paths=("path",),
    )
    def get_file_info(self, path: PathArgument) -> files.FileInfo:
        """Get a file's or directory's metadata: type, size, times and permissions."""
        with self.roots.locate(path) as place:
            return files.file_info(place, shown(path))

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=False,
        title="List allowed directories",
    )
    def list_allowed_directories(self) -> AllowedDirectories:
        """List the directories this server may access, and whether it may write to them.

        ``denied`` holds the deny patterns (.git/, .env*, ...): what they match is never
        read, written or listed. Relative paths in the other tools start from the first directory.
        """
        return {
            "directories": [str(root) for root in self.roots.directories],
            "writable": self.settings.allow_writes,
            "denied": list(self.roots.deny.patterns),
        }
