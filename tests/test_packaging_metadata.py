"""Every distribution's metadata is complete and its siblings are pinned to this release.

The distributions are the ones the release script builds; every other ``pyproject.toml``
in the repository (the workspace's own, the benchmark and test plugins) must be private.
These checks read files only; ``test_e2e_wheelhouse.py`` builds and installs them.
"""

from __future__ import annotations

import re
import runpy
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
BUILDER = runpy.run_path(
    str(ROOT / "scripts" / "build_wheelhouse.py"), run_name="plugbay_build_wheelhouse"
)
DISTRIBUTIONS = {dist.name: dist for dist in BUILDER["distributions"]()}
VERSION = Version(DISTRIBUTIONS["plugbay"].version)
SIBLING_RANGE = SpecifierSet(
    f">={VERSION.major}.{VERSION.minor},<{VERSION.major}.{VERSION.minor + 1}"
)
PRIVATE = "Private :: Do Not Upload"
URLS = {"Homepage", "Documentation", "Source", "Issues", "Changelog"}
PYTHONS = {"3.11", "3.12", "3.13"}
# Markdown links and images whose target climbs out of the folder: broken on PyPI and in
# a repository of the distribution's own.
ESCAPING_LINK = re.compile(r"\]\(\s*\.\./")


def _project(folder: Path) -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    return project


def _requirements(project: dict[str, Any]) -> list[Requirement]:
    lines = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return [Requirement(line) for line in lines]


def _other_pyprojects() -> list[Path]:
    """Folders with a ``pyproject.toml`` that git tracks, other than the published ones."""
    git = shutil.which("git")
    assert git is not None, "git is needed to list the repository's files"
    listed = subprocess.run(
        [git, "ls-files", "*pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    published = {dist.path.resolve() for dist in DISTRIBUTIONS.values()}
    folders = {(ROOT / path).parent.resolve() for path in listed}
    return sorted(folders - published - {ROOT})


PUBLISHED = pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))


def test_the_release_builds_the_host_kits_and_plugins() -> None:
    assert {"plugbay", "plugbay-http", "plugbay-testing"} <= set(DISTRIBUTIONS)
    plugins = {path.parent.name for path in ROOT.glob("plugins/*/pyproject.toml")}
    assert {f"plugbay-{plugin}" for plugin in plugins} <= set(DISTRIBUTIONS)


@PUBLISHED
def test_metadata_is_complete(name: str) -> None:
    folder = DISTRIBUTIONS[name].path
    project = _project(folder)
    assert project["description"].strip()
    assert project["readme"] == "README.md"
    assert (folder / "README.md").is_file()
    assert project["requires-python"] == ">=3.11"
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (folder / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes()
    assert {"mcp", "model-context-protocol"} <= set(project["keywords"])
    assert set(project["urls"]) == URLS
    assert all(
        url.startswith("https://github.com/plugbay/plugbay") for url in project["urls"].values()
    )

    classifiers = project["classifiers"]
    assert len(set(classifiers)) == len(classifiers), "a classifier is repeated"
    versions = {
        item.rsplit(" :: ", 1)[1]
        for item in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", item)
    }
    assert versions == PYTHONS
    for prefix in ("Development Status ::", "Intended Audience ::", "Topic ::"):
        assert any(item.startswith(prefix) for item in classifiers), prefix
    assert "Framework :: AsyncIO" in classifiers
    # PEP 639: the SPDX `license` field replaces license classifiers (they may not coexist).
    assert not any(item.startswith("License ::") for item in classifiers)
    assert PRIVATE not in classifiers
    typed = "Typing :: Typed" in classifiers
    markers = list((folder / "src").glob("*/py.typed"))
    assert typed == bool(markers), "Typing :: Typed goes with a py.typed marker"


def test_the_testing_kit_says_it_is_a_pytest_plugin() -> None:
    project = _project(DISTRIBUTIONS["plugbay-testing"].path)
    assert "Framework :: Pytest" in project["classifiers"]
    assert "pytest11" in project["entry-points"]


@PUBLISHED
def test_one_version_and_siblings_pinned_to_this_release(name: str) -> None:
    project = _project(DISTRIBUTIONS[name].path)
    assert Version(project["version"]) == VERSION
    for requirement in _requirements(project):
        sibling = canonicalize_name(requirement.name)
        if sibling == name:  # an extra that names the distribution's own other extras
            continue
        if sibling in DISTRIBUTIONS:
            assert requirement.specifier == SIBLING_RANGE, f"{name} needs {requirement}"
            # A plugin depends on no other plugin. The host never imports one either
            # (tests/test_budgets.py), but its extras may install some for the user:
            # `pip install "plugbay[hosted]"`.
            required = requirement in [
                Requirement(line) for line in project.get("dependencies", [])
            ]
            if name != "plugbay" or required:
                assert DISTRIBUTIONS[sibling].path.parent.name != "plugins", f"{name} -> {sibling}"


def test_the_hosted_extra_installs_the_four_hosting_plugins() -> None:
    extras = _project(DISTRIBUTIONS["plugbay"].path)["optional-dependencies"]
    hosted = {canonicalize_name(Requirement(line).name) for line in extras["hosted"]}
    assert hosted == {"plugbay-auth", "plugbay-guard", "plugbay-telemetry", "plugbay-redis"}
    assert all(DISTRIBUTIONS[name].path.parent.name == "plugins" for name in hosted)


@PUBLISHED
def test_readme_links_stay_inside_the_distribution(name: str) -> None:
    readme = (DISTRIBUTIONS[name].path / "README.md").read_text(encoding="utf-8")
    escaping = [line for line in readme.splitlines() if ESCAPING_LINK.search(line)]
    assert escaping == [], "link to the repository with an absolute URL instead"


@pytest.mark.parametrize("folder", _other_pyprojects(), ids=lambda path: path.name)
def test_every_other_distribution_is_private(folder: Path) -> None:
    """A distribution the release does not build can never be uploaded by mistake."""
    project = _project(folder)
    assert PRIVATE in project.get("classifiers", []), folder
    for requirement in _requirements(project):
        if canonicalize_name(requirement.name) in DISTRIBUTIONS:
            assert requirement.specifier == SIBLING_RANGE, f"{folder.name} needs {requirement}"


def test_built_distributions_are_never_committed() -> None:
    git = shutil.which("git")
    assert git is not None
    for path in ("dist/wheelhouse/plugbay-0.0.0-py3-none-any.whl", "host/dist/x.tar.gz"):
        done = subprocess.run([git, "check-ignore", "-q", path], cwd=ROOT, check=False)
        assert done.returncode == 0, f"{path} is not git-ignored"
