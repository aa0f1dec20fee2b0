"""The deny list: names an instance never serves, whatever the path that reaches them.

A pattern is a glob (:mod:`plugbay_filesystem.globs`, linear time) matched against
the real path of an entry relative to its root, never against the caller's spelling:
``./.git/../.git/config``, a symbolic link to ``.git`` and ``sub/.git/config`` all
reach a real path with a ``.git`` component. A pattern without ``/`` (a trailing one
aside) matches any one component, so ``.git/`` denies every ``.git`` at any depth and
everything beneath it; a pattern with ``/`` (``.docker/config.json``) matches any run
of consecutive components. A directory that matches is denied with all it holds.

Matching ignores case and Unicode normalisation form. On a case-sensitive file system
``.GIT/config`` is another file than ``.git/config``, but it is denied too: on a
case-insensitive one (macOS, Windows shares, ``casefold`` ext4) it is the same file,
and a deny list should not depend on the mount it is applied to.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from plugbay import ToolError
from plugbay_filesystem.globs import Matcher, compile_glob

DEFAULT_DENY: tuple[str, ...] = (
    # Version control internals: remotes with tokens, hooks, the whole history.
    ".git/",
    ".hg/",
    ".svn/",
    # Environment files and keys.
    ".env*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    # Credential stores of common tools.
    ".ssh/",
    ".gnupg/",
    ".aws/",
    ".azure/",
    ".kube/",
    ".config/gcloud/",
    ".docker/config.json",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".git-credentials",
    ".pgpass",
    ".my.cnf",
    "credentials.json",
)
"""What the ``deny`` setting holds unless the operator replaces it."""


_CACHED_NAMES = 65_536


def _any_name(_name: str, _relative: str) -> bool:
    return True


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


class DenyList:
    """Compiled deny patterns; :meth:`denies` says whether a path beneath a root is refused.

    Args:
        patterns: Globs as in the ``deny`` setting.

    Raises:
        ToolError: A pattern is empty, malformed or too large.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._names: list[Matcher] = []  # patterns of one component
        self._paths: list[Matcher] = []  # patterns of consecutive components
        self._inner: list[tuple[str, Matcher]] = []  # their components but the last
        for pattern in self.patterns:
            body = _folded(pattern).strip("/")
            if not body:
                raise ToolError(f"the deny pattern {pattern!r} is empty")
            if "/" in body:
                # Ending at any depth; what lies beneath is caught by its prefix.
                self._paths.append(compile_glob(f"**/{body}"))
                for component in body.split("/")[:-1]:
                    inner = _any_name if "**" in component else compile_glob(component)
                    self._inner.append((pattern, inner))
            else:
                self._names.append(compile_glob(body))
        self._seen: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self._names or self._paths)

    def _name_denied(self, name: str) -> bool:
        known = self._seen.get(name)
        if known is None:
            known = any(match(name, name) for match in self._names)
            if len(self._seen) < _CACHED_NAMES:
                self._seen[name] = known
        return known

    def denies_child(self, names: Sequence[str]) -> bool:
        """Whether the last of ``names`` is denied, its parents being known not to be.

        The walks use this for each entry of a directory they were allowed to enter.
        """
        if not names or not self:
            return False
        folded = [_folded(name) for name in names]
        if self._name_denied(folded[-1]):
            return True
        if not self._paths:
            return False
        relative = "/".join(folded)
        return any(match(relative, relative) for match in self._paths)

    def denies_names(self, names: Sequence[str]) -> bool:
        """Whether the path of ``names`` (components beneath a root) is denied."""
        return any(self.denies_child(names[: end + 1]) for end in range(len(names)))

    def guarding(self, name: str) -> str | None:
        """The pattern a directory called ``name`` may be part of, other than as its end.

        Renaming such a directory could take what lies beneath it out of a pattern
        with ``/`` (``.docker`` renamed, ``.docker/config.json`` would be served), so
        ``move_file`` refuses to move it.
        """
        folded = _folded(name)
        return next((pattern for pattern, match in self._inner if match(folded, folded)), None)

    def denies(self, root: Path, path: Path) -> bool:
        """Whether the real ``path`` beneath ``root`` is denied; outside it, always."""
        if not self or path == root:
            return False
        try:
            names = path.relative_to(root).parts
        except ValueError:
            return True
        return self.denies_names(names)


NO_DENY = DenyList(())
"""An empty deny list, for tools and tests that need none."""


def refused(path: str) -> ToolError:
    """The refusal for a denied path; the same whether or not it exists."""
    return ToolError(
        f"access denied: {path} matches this instance's deny list (the deny setting), "
        "so it is never read, written, listed or searched"
    )
