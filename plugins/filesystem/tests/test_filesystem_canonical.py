"""The canonical URIs the filesystem connector gives the host's policy: one URI for every
spelling of a file, the URI of what a read would open, symbolic links followed."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from plugbay import ToolError
from plugbay.uris import UriError
from plugbay_filesystem.canonical import path_uris, resource_uri
from plugbay_filesystem.paths import Roots


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "public").mkdir(parents=True)
    (root / "secret").mkdir()
    (root / "secret" / "s.txt").write_text("secret")
    (root / "public" / "p.txt").write_text("public")
    (root / "public" / "link").symlink_to(root / "secret")
    (root / "public" / "file-link").symlink_to(root / "secret" / "s.txt")
    return root


def test_every_spelling_of_a_path_gives_the_uri_of_the_real_file(tree: Path) -> None:
    roots = Roots.from_settings([str(tree)])
    real = os.path.realpath(tree)
    secret = f"file://docs{real}/secret/s.txt"
    spellings = [
        "secret/s.txt",
        "./secret/s.txt",
        "public/../secret/s.txt",
        "public//..//secret///s.txt",
        f"../{tree.name}/secret/s.txt",
        f"{real}/secret/s.txt",
        "public/link/s.txt",
        "public/file-link",
    ]
    assert path_uris(roots, "docs", spellings) == [secret] * len(spellings)
    for uri in [
        f"file://docs{real}/secret/s.txt",
        f"file://docs{real}/public/../secret/s.txt",
        f"file://docs{real}/%73ecret%2Fs.txt",
        f"file://docs/{real}//secret/s.txt",
        f"file://docs{real}/public/link/s.txt",
    ]:
        assert resource_uri(roots, "docs", uri) == secret, uri


def test_directories_have_one_uri_with_or_without_a_trailing_slash(tree: Path) -> None:
    roots = Roots.from_settings([str(tree)])
    real = os.path.realpath(tree)
    expected = f"file://docs{real}/secret"
    for path in ["secret", "secret/", "secret/.", "public/link", "public/link/"]:
        assert path_uris(roots, "docs", [path]) == [expected], path


def test_the_spelling_sent_is_kept_for_names_the_policy_compares_loosely(tree: Path) -> None:
    roots = Roots.from_settings([str(tree)])
    real = os.path.realpath(tree)
    decomposed = unicodedata.normalize("NFD", "caf\u00e9")
    assert path_uris(roots, "docs", ["SECRET/s.txt", decomposed]) == [
        f"file://docs{real}/SECRET/s.txt",
        f"file://docs{real}/{decomposed}",
    ]


def test_what_is_not_a_file_of_the_instance_is_refused(tree: Path) -> None:
    roots = Roots.from_settings([str(tree)])
    assert resource_uri(roots, "docs", "file://docs/") == "file://docs/"
    with pytest.raises(UriError):
        resource_uri(roots, "docs", "file://other/etc/passwd")
    # A path that is not beneath a root's absolute path is relative to the first root.
    inside = tree.resolve().as_posix().lstrip("/")
    assert (
        resource_uri(roots, "docs", "file://docs/etc/passwd") == f"file://docs/{inside}/etc/passwd"
    )
    with pytest.raises(ToolError, match="outside"):
        resource_uri(roots, "docs", "file://docs/../../../../../../etc/passwd")
    with pytest.raises(ToolError, match="outside"):
        resource_uri(roots, "docs", f"file://docs/{inside}/../../../../../../etc/passwd")
    with pytest.raises(ToolError, match="NUL"):
        path_uris(roots, "docs", ["secret/s.txt\x00"])
    with pytest.raises(ToolError, match="NUL"):
        resource_uri(roots, "docs", f"file://docs{tree}/secret%00/s.txt")


def test_both_uri_forms_give_one_canonical_uri(tree: Path) -> None:
    """The policy decides on the same URI whichever form names the file."""
    roots = Roots.from_settings([str(tree)])
    absolute = f"file://docs/{tree.resolve().as_posix().lstrip('/')}/secret/s.txt"
    assert resource_uri(roots, "docs", absolute) == absolute
    for relative in ("secret/s.txt", "./secret/s.txt", "public/../secret/s.txt", "/secret/s.txt"):
        assert resource_uri(roots, "docs", f"file://docs/{relative}") == absolute, relative
