"""Announcing changed files: a ``watchfiles`` watcher feeding resource subscriptions.

The host tells the clients that subscribed to a resource when the connector announces
it changed (:meth:`plugbay.Connector.resource_updated`), and nobody else; announcing
costs nothing when nobody subscribed. Where the host tells the connector which URIs
clients subscribed to (``resource_subscribed``/``resource_unsubscribed``,
:data:`HOST_TELLS_SUBSCRIPTIONS`), :class:`ChangeWatcher` watches only those: the
directory a subscribed file is in, or a subscribed directory itself, not recursively.
Otherwise it watches the roots themselves, recursively. Either way each change is
announced in both URI forms clients may have subscribed with, and the listing of the
directory that holds an entry when it appears or goes away. Denied names are never
announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from urllib.parse import unquote

import anyio
from watchfiles import Change, awatch

from plugbay import Connector, ToolError
from plugbay.uris import UriError
from plugbay_filesystem import canonical
from plugbay_filesystem.paths import Roots, file_uri, path_from_uri, uri_path

logger = logging.getLogger(__name__)

DEBOUNCE_MS = 200
"""Changes within this many milliseconds are announced together, once each."""

Announce = Callable[[str], Awaitable[None]]

HOST_TELLS_SUBSCRIPTIONS = hasattr(Connector, "resource_subscribed")
"""Whether this plugbay tells connectors which resources clients subscribed to."""


def subscribed_path(roots: Roots, instance: str, uri: str) -> Path | None:
    """The real path a subscribed ``file://`` URI names, if it is a file or directory here."""
    try:
        canonical_uri = canonical.resource_uri(roots, instance, uri)
    except (ToolError, UriError):
        return None  # the roots resource, or nothing this instance serves
    top = f"file://{instance}/"
    if canonical_uri == top:
        return None
    return Path(path_from_uri(unquote(canonical_uri[len(top) :])))


def changed_uris(roots: Roots, instance: str, changes: Iterable[tuple[Change, str]]) -> list[str]:
    """The resource URIs to announce for a batch of changes, each once, in a stable order.

    A file is announced as ``file://<instance>/<absolute path>`` and, beneath the first
    root, by its path relative to it too; an entry added or deleted also changes the
    listing of the directory that holds it.
    """
    uris: dict[str, None] = {}
    for change, name in changes:
        path = Path(name)
        root = roots.root_of(path)
        if root is None or roots.deny.denies(root, path):
            continue
        targets = [path]
        if change in (Change.added, Change.deleted) and path != root:
            targets.append(path.parent)
        for target in targets:
            uris[file_uri(instance, uri_path(target))] = None
            if target != roots.first and target.is_relative_to(roots.first):
                uris[file_uri(instance, target.relative_to(roots.first).as_posix())] = None
    return list(uris)


class ChangeWatcher:
    """Watches in a background task what clients subscribed to, and announces what changed.

    Args:
        roots: The instance's roots (and their deny list).
        instance: The instance's name, for its URIs.
        announce: Called with each URI to announce (the connector's ``resource_updated``).
        whole_roots: Watch the roots recursively instead of what :meth:`watch` is given.
    """

    def __init__(
        self, roots: Roots, instance: str, announce: Announce, *, whole_roots: bool
    ) -> None:
        self.roots = roots
        self.instance = instance
        self.whole_roots = whole_roots
        self._announce = announce
        self._subscribed: dict[Path, int] = {}
        self._stop = anyio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = anyio.Lock()

    def directories(self) -> set[Path]:
        """The directories watched now (recursively when :attr:`whole_roots`)."""
        if self.whole_roots:
            return set(self.roots.directories)
        return {path if path.is_dir() else path.parent for path in self._subscribed}

    async def start(self) -> None:
        """Start watching; the task outlives the caller (the connector's ``start``)."""
        await self._restart()

    async def stop(self) -> None:
        """Stop watching and wait for the watcher to end."""
        async with self._lock:
            await self._end()

    async def watch(self, uri: str) -> None:
        """A client subscribed to ``uri``: watch where it lies (a no-op for whole roots)."""
        path = subscribed_path(self.roots, self.instance, uri)
        if path is None or self.whole_roots:
            return
        before = self.directories()
        self._subscribed[path] = self._subscribed.get(path, 0) + 1
        if self.directories() != before:
            await self._restart()

    async def unwatch(self, uri: str) -> None:
        """The last client left ``uri``: stop watching for it."""
        path = subscribed_path(self.roots, self.instance, uri)
        if path is None or path not in self._subscribed:
            return
        before = self.directories()
        self._subscribed[path] -= 1
        if not self._subscribed[path]:
            del self._subscribed[path]
        if self.directories() != before:
            await self._restart()

    async def _restart(self) -> None:
        # awatch is given its paths once: a new set means a new watcher.
        async with self._lock:
            await self._end()
            directories = sorted(self.directories())
            if directories:
                self._stop = anyio.Event()
                started = anyio.Event()
                loop = asyncio.get_running_loop()
                self._task = loop.create_task(
                    self._watch(directories, started), name=f"plugbay-filesystem:{self.instance}"
                )
                # Once the task has run past this, it runs on to its first wait, inside
                # awatch, which sets up the system's watches before that: a change made
                # after this returns is seen.
                await started.wait()

    async def _end(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _watch(self, directories: list[Path], started: anyio.Event) -> None:
        roots = self.roots
        started.set()
        try:
            async for changes in awatch(
                *directories,
                watch_filter=None,  # every name: the deny list decides, not a default filter
                debounce=DEBOUNCE_MS,
                stop_event=self._stop,
                recursive=self.whole_roots,
                ignore_permission_denied=True,
            ):
                for uri in changed_uris(roots, self.instance, changes):
                    try:
                        await self._announce(uri)
                    except Exception:  # one failed announcement must not end the watch
                        logger.warning("could not announce a change of %s", uri, exc_info=True)
        except (OSError, RuntimeError) as error:
            # No more notifications (a directory removed, the system's watch limit
            # reached): reads still work, and the operator learns why updates stopped.
            logger.warning(
                "filesystem instance %s stopped watching for changes: %s", self.instance, error
            )
