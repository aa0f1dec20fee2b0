"""Resource subscriptions: a change on disk reaches the clients that subscribed to it.

The connector watches its roots (``watchfiles``) and announces each change; the host
passes an announcement on to the sessions subscribed to that URI, in either era.
Changes are made from outside, as another program would. plugbay tells connectors
which URIs clients subscribed to, so only the places subscribed to are watched.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPDeprecationWarning
from watchfiles import Change

from plugbay_filesystem import watching
from plugbay_filesystem.deny import DenyList
from plugbay_filesystem.paths import Roots
from plugbay_filesystem.watching import changed_uris, subscribed_path

if TYPE_CHECKING:
    from conftest import ServeFs

pytestmark = pytest.mark.anyio

WAIT = 20.0
"""The longest a test waits for a change to be announced (a bound, not an expectation)."""


async def wait_for(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(WAIT):
        while not condition():
            await anyio.sleep(0.05)


def updated(notifications: list[Any]) -> list[str]:
    """The URIs of the ``notifications/resources/updated`` received so far."""
    return [
        str(message.params.uri)
        for message in notifications
        if isinstance(message, types.ResourceUpdatedNotification)
    ]


async def subscribe(client: Any, uri: str) -> None:
    with warnings.catch_warnings():  # the 2025-11-25 way, deprecated for 2026-07-28
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.subscribe_resource(uri)


async def test_subscribers_hear_when_a_file_changes(serve_fs: ServeFs, tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "notes.txt").write_text("first")
    (root / "other.txt").write_text("other")
    heard: list[Any] = []

    async def record(message: Any) -> None:
        heard.append(message)

    async with serve_fs(root, mode="legacy", message_handler=record) as fs:
        assert fs.client.server_capabilities.resources is not None
        assert fs.client.server_capabilities.resources.subscribe is True
        await subscribe(fs.client, "file://fs/notes.txt")

        (root / "other.txt").write_text("changed, but nobody listens")
        (root / "notes.txt").write_text("second")
        await wait_for(lambda: "file://fs/notes.txt" in updated(heard))
        (contents,) = await fs.read("file://fs/notes.txt")
        assert isinstance(contents, types.TextResourceContents)
        assert contents.text == "second"
        # Only the subscribed URI was announced to this client.
        assert set(updated(heard)) == {"file://fs/notes.txt"}


async def test_a_directory_listing_changes_when_an_entry_appears(
    serve_fs: ServeFs, tmp_path: Path
) -> None:
    root = tmp_path.resolve()
    (root / "inbox").mkdir()
    heard: list[Any] = []

    async def record(message: Any) -> None:
        heard.append(message)

    async with serve_fs(root, mode="legacy", message_handler=record) as fs:
        inbox = fs.uri(root / "inbox")  # the absolute form, as listings write it
        await subscribe(fs.client, inbox)
        (root / "inbox" / "new.txt").write_text("hello")
        await wait_for(lambda: inbox in updated(heard))
        listing = await fs.read_json(inbox)
        assert [entry["name"] for entry in listing["entries"]] == ["new.txt"]


async def test_2026_clients_hear_on_their_listen_stream(serve_fs: ServeFs, tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "todo.md").write_text("- one")
    async with serve_fs(root, mode="2026-07-28") as fs:
        uri = "file://fs/todo.md"
        async with fs.client.listen(resource_subscriptions=[uri]) as subscription:
            assert list(subscription.honored.resource_subscriptions or []) == [uri]
            (root / "todo.md").write_text("- one\n- two")
            with anyio.fail_after(WAIT):
                event = await subscription.__anext__()
        assert uri in str(event)


def test_changes_are_announced_in_every_form_and_never_for_denied_names(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    roots = Roots([first, second], deny=DenyList([".env*", ".git/"]))
    changes = {
        (Change.modified, str(first / "a.txt")),
        (Change.added, str(first / "sub" / "b.txt")),
        (Change.deleted, str(second / "c.txt")),
        (Change.modified, str(first / ".env")),
        (Change.added, str(first / ".git" / "index")),
        (Change.modified, str(tmp_path / "elsewhere.txt")),
    }
    uris = set(changed_uris(roots, "fs", changes))
    absolute = lambda path: f"file://fs/{path.as_posix().lstrip('/')}"  # noqa: E731
    assert uris == {
        # A file beneath the first root: absolute, and relative to that root.
        absolute(first / "a.txt"),
        "file://fs/a.txt",
        # An added entry changes its directory's listing too.
        absolute(first / "sub" / "b.txt"),
        "file://fs/sub/b.txt",
        absolute(first / "sub"),
        "file://fs/sub",
        # Beneath another root only the absolute form reaches it; its root's listing
        # is announced in that form (the relative form of a root is the roots resource).
        absolute(second / "c.txt"),
        absolute(second),
    }


async def test_watching_can_be_turned_off(serve_fs: ServeFs, tmp_path: Path) -> None:
    async with serve_fs(tmp_path, watch=False) as fs:
        connector = fs.assembly.instances["fs"].obj
        assert connector is not None
        assert connector._watcher is None  # type: ignore[attr-defined]


async def test_with_the_hosts_word_only_subscribed_places_are_watched(
    serve_fs: ServeFs, tmp_path: Path
) -> None:
    assert watching.HOST_TELLS_SUBSCRIPTIONS
    root = tmp_path.resolve()
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("a")
    heard: list[Any] = []

    async def record(message: Any) -> None:
        heard.append(message)

    async with serve_fs(root, mode="legacy", message_handler=record) as fs:
        connector = fs.assembly.instances["fs"].obj
        watcher = connector._watcher  # type: ignore[union-attr]
        assert watcher.directories() == set()
        uri = "file://fs/docs/a.md"
        await subscribe(fs.client, uri)  # the host tells the connector before answering
        assert watcher.directories() == {root / "docs"}
        (root / "docs" / "a.md").write_text("b")
        await wait_for(lambda: uri in updated(heard))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await fs.client.unsubscribe_resource(uri)
        assert watcher.directories() == set()


def test_subscribed_paths_are_the_real_paths_the_uris_name(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("a")
    (root / ".env").write_text("SECRET=1")
    (root / "link").symlink_to(root / "docs")
    roots = Roots([root], deny=DenyList([".env*"]))
    target = root / "docs" / "a.md"
    assert subscribed_path(roots, "fs", "file://fs/docs/a.md") == target
    assert subscribed_path(roots, "fs", f"file://fs/{str(target).lstrip('/')}") == target
    assert subscribed_path(roots, "fs", "file://fs/link/a.md") == target
    assert subscribed_path(roots, "fs", "file://fs/") is None  # the roots resource
    assert subscribed_path(roots, "fs", "file://fs/.env") is None  # denied
    assert subscribed_path(roots, "fs", "file://fs/../outside") is None
    assert subscribed_path(roots, "other", "file://fs/docs/a.md") is None
