"""Which upstream components to expose, and under which names and URIs.

Tool and prompt names become ``<instance>_<name>``, which clients accept only within
64 characters of ``[A-Za-z0-9_-]``. A name that needs changing to fit (other
characters replaced by ``_``, or cut short) always gets a suffix made from a hash of
the upstream name, so it is the same on every connection and does not depend on what
else the upstream offers; a clash that remains (two renames to one name) lengthens the
hash of the later one until the names differ.

Resource URIs move under the instance: ``scheme://rest`` becomes
``scheme://<instance>/rest``, which keeps the scheme clients know (``file``, ``https``)
and is reversible. A URI without ``://`` becomes ``mcp-proxy://<instance>/~<uri>``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

MAX_NAME_LENGTH = 64
"""The longest tool or prompt name clients accept, prefix included."""
HASH_LENGTH = 6
"""Hex digits of the hash suffix of a changed name (24 bits; lengthened on a clash)."""
FALLBACK_SCHEME = "mcp-proxy"
"""The scheme for upstream URIs that have no ``scheme://`` of their own."""

_INVALID = re.compile(r"[^A-Za-z0-9_-]")
_VALID = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class Filter:
    """``allow`` and ``deny`` patterns (fnmatch, case-sensitive) over upstream names."""

    allow: Sequence[str] = ()
    deny: Sequence[str] = ()

    def admits(self, *names: str) -> bool:
        """Whether a component known by any of ``names`` is exposed.

        Allowed when ``allow`` is empty or one name matches one of its patterns, and
        no name matches a ``deny`` pattern.
        """
        if self.allow and not any(
            fnmatchcase(name, pattern) for name in names for pattern in self.allow
        ):
            return False
        return not any(fnmatchcase(name, pattern) for name in names for pattern in self.deny)


def _digest(name: str, length: int) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def _hashed(base: str, upstream: str, budget: int, length: int) -> str:
    """``base`` cut to leave room for ``_<hash of upstream>``, within ``budget`` characters."""
    digest = _digest(upstream, length)
    keep = max(budget - len(digest) - 1, 0)
    stem = base[:keep].rstrip("_-")
    return f"{stem}_{digest}" if stem else digest[:budget]


def exposed_names(
    upstream_names: Iterable[str], *, instance: str, rename: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map each upstream tool (or prompt) name to the name to publish after ``<instance>_``.

    Args:
        upstream_names: The names as the upstream lists them.
        instance: The instance name, which takes ``len(instance) + 1`` of the 64 characters.
        rename: Operator-chosen names by upstream name (checked and fitted like any other).

    Returns:
        Distinct names, each valid and at most ``64 - len(instance) - 1`` characters.
    """
    rename = rename or {}
    budget = MAX_NAME_LENGTH - len(instance) - 1
    if budget < HASH_LENGTH + 2:
        raise ValueError(f"instance name {instance!r} leaves no room for tool names")
    wanted = {name: rename.get(name, name) for name in upstream_names}

    def fits(name: str) -> bool:
        return len(wanted[name]) <= budget and bool(_VALID.match(wanted[name]))

    # Names kept as they are claim theirs first (renamed ones before the others), so a
    # clash never changes a name that needed no change.
    order = sorted(wanted, key=lambda name: (not fits(name), name not in rename, name))
    result: dict[str, str] = {}
    taken: set[str] = set()
    for name in order:
        base = _INVALID.sub("_", wanted[name])
        length = HASH_LENGTH
        candidate = base if fits(name) else _hashed(base, name, budget, length)
        while candidate in taken:
            length += 2
            candidate = _hashed(base, name, budget, length)
        taken.add(candidate)
        result[name] = candidate
    return result


@dataclass(frozen=True, slots=True)
class UriMap:
    """Moves upstream resource URIs (and URI templates) under the instance, and back."""

    instance: str

    def expose(self, uri: str) -> str:
        """The URI clients see for an upstream URI or URI template."""
        scheme, separator, rest = uri.partition("://")
        if separator and scheme and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", scheme):
            return f"{scheme}://{self.instance}/{rest}"
        return f"{FALLBACK_SCHEME}://{self.instance}/~{uri}"

    def upstream(self, uri: str) -> str | None:
        """The upstream URI behind an exposed one, or ``None`` if it is not this instance's."""
        scheme, separator, rest = uri.partition("://")
        prefix = f"{self.instance}/"
        if not separator or not rest.startswith(prefix):
            return None
        rest = rest[len(prefix) :]
        if scheme == FALLBACK_SCHEME and rest.startswith("~"):
            return rest[1:]
        return f"{scheme}://{rest}"
