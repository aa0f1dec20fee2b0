"""Where a SQLite instance's file is, and the refusal to start on a missing one.

A writable SQLite connection creates its file when it is missing, so a mistyped path
would serve an empty database and the first write would create a stray file. A missing
file is therefore an error at start, unless the operator sets ``create = true`` (with
``allow_writes``); the file is also opened with ``mode=rw`` (``mode=ro`` on read-only
instances), so that SQLite itself does not create it later either
(:meth:`plugbay_sql.dialects.SqliteRules.engine_url`).
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.engine import URL

from plugbay import ToolError
from plugbay_sql.settings import SqlSettings


def sqlite_file(url: URL) -> str | None:
    """The absolute path of the file a SQLite URL opens, or None for an in-memory database.

    Args:
        url: The SQLite URL: a path (``sqlite:///data/shop.db``) or a ``file:`` URI.
    """
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    if url.query.get("uri") == "true" or database.startswith("file:"):
        parsed = urlsplit(database)
        if parsed.scheme == "file":
            if parse_qs(parsed.query).get("mode") == ["memory"]:
                return None
            database = parsed.path
        database = unquote(database)
        if database in ("", ":memory:"):
            return None
    return os.path.abspath(database)


def check_sqlite_file(settings: SqlSettings, instance: str) -> None:
    """Refuse a missing SQLite file, unless ``create`` (with ``allow_writes``) is set.

    Args:
        settings: The instance's settings.
        instance: The instance's name, for the message.

    Raises:
        ToolError: Naming the path, the ``url`` setting and, where it helps, ``create``.
    """
    path = sqlite_file(settings.engine_url())
    if path is None or os.path.isfile(path):
        return
    where = f"the url setting of the sql instance {instance!r}"
    if os.path.exists(path):
        raise ToolError(f"the SQLite database {path} ({where}) is not a file")
    if not os.path.isdir(os.path.dirname(path)):
        raise ToolError(
            f"the directory of the SQLite database {path} ({where}) does not exist; check the path"
        )
    relative = "a relative path in url starts from the configuration file's folder"
    if settings.allow_writes and settings.create:
        return
    if settings.allow_writes:
        raise ToolError(
            f"the SQLite database file {path} ({where}) does not exist; check the path "
            f"({relative}), or set create = true to start with an empty database"
        )
    raise ToolError(
        f"the SQLite database file {path} ({where}) does not exist; check the path "
        f"({relative}): a read-only instance opens an existing file only"
    )
