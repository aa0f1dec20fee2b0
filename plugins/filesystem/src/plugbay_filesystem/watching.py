"""Announcing changed files: a ``watchfiles`` watcher over the roots, feeding subscriptions.

The host tells the clients that subscribed to a resource when the connector announces
it changed (:meth:`plugbay.Connector.resource_updated`), and nobody else; announcing
costs nothing when nobody subscribed. The connector cannot know which URIs are
subscribed, so :class:`ChangeWatcher` watches the roots themselves (recursively, with
the operating system's notifications where it has them) and announces each change in
both URI forms clients may have subscribed with, and the directory listing that
holds the entry when an entry appears or goes away. Denied names are never announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import anyio
from watchfiles import Change, awatch

from plugbay_filesystem.paths import Roots, file_uri, uri_path

logger = logging.getLogger(__name__)

DEBOUNCE_MS = 200
"""Changes within this many milliseconds are announced together, once each."""

Announce = Callable[[str], Awaitable[None]]


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
    """Watches an instance's roots in a background task and announces what changed.

    Args:
        roots: The instance's roots (and their deny list).
        instance: The instance's name, for its URIs.
        announce: Called with each URI to announce (the connector's ``resource_updated``).
    """

    def __init__(self, roots: Roots, instance: str, announce: Announce) -> None:
        self.roots = roots
        self.instance = instance
        self._announce = announce
        self._stop = anyio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching; the task outlives the caller (the connector's ``start``)."""
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._watch(), name=f"plugbay-filesystem:{self.instance}")

    async def stop(self) -> None:
        """Stop watching and wait for the watcher to end."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _watch(self) -> None:
        roots = self.roots
        try:
            async for changes in awatch(
                *roots.directories,
                watch_filter=None,  # every name: the deny list decides, not a default filter
                debounce=DEBOUNCE_MS,
                stop_event=self._stop,
                recursive=True,
                ignore_permission_denied=True,
            ):
                for uri in changed_uris(roots, self.instance, changes):
                    try:
                        await self._announce(uri)
                    except Exception:  # one failed announcement must not end the watch
                        logger.warning("could not announce a change of %s", uri, exc_info=True)
        except (OSError, RuntimeError) as error:
            # No more notifications (a root removed, the system's watch limit reached):
            # reads still work, and the operator learns why updates stopped.
            logger.warning(
                "filesystem instance %s stopped watching its directories for changes: %s",
                self.instance,
                error,
            )
