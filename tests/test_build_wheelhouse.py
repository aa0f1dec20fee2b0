"""scripts/build_wheelhouse.py on small made-up workspaces (no index needed: no isolation).

What it must guarantee: it finds the distributions itself, leaves exactly this build in
the wheelhouse, and refuses a distribution whose sdist would not build on its own.
"""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BUILDER = runpy.run_path(
    str(ROOT / "scripts" / "build_wheelhouse.py"), run_name="plugbay_build_wheelhouse"
)

PYPROJECT = """
[build-system]
requires = ["hatchling>=1.27"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "0.2.0"
readme = "README.md"
requires-python = ">=3.11"
license = "MIT"
license-files = ["LICENSE"]

[tool.hatch.build.targets.wheel]
packages = ["src/{package}"]
{extra}
"""


def _distribution(root: Path, folder: str, name: str, extra: str = "") -> None:
    path = root / folder
    package = name.replace("-", "_")
    (path / "src" / package).mkdir(parents=True)
    (path / "src" / package / "__init__.py").write_text('"""A made-up distribution."""\n')
    (path / "README.md").write_text(f"# {name}\n")
    shutil.copy(ROOT / "LICENSE", path / "LICENSE")
    (path / "pyproject.toml").write_text(PYPROJECT.format(name=name, package=package, extra=extra))


def test_builds_what_it_finds_and_only_this_build(tmp_path: Path) -> None:
    _distribution(tmp_path, "host", "demo-host")
    _distribution(tmp_path, "plugins/one", "demo-one")
    _distribution(tmp_path, "bench/plugin", "demo-private")  # not published: not built
    outdir = tmp_path / "wheelhouse"
    outdir.mkdir()
    (outdir / "demo_host-0.1.0-py3-none-any.whl").write_bytes(b"an earlier build")

    files = BUILDER["build"](outdir, isolation=False, root=tmp_path)

    assert [path.name for path in files] == [
        "demo_host-0.2.0-py3-none-any.whl",
        "demo_host-0.2.0.tar.gz",
        "demo_one-0.2.0-py3-none-any.whl",
        "demo_one-0.2.0.tar.gz",
    ]


def test_a_distribution_that_reaches_outside_its_folder_is_refused(tmp_path: Path) -> None:
    """Its wheel would build from the checkout; from its own sdist it cannot."""
    (tmp_path / "NOTICE.txt").write_text("shared by the whole repository\n")
    outside = '[tool.hatch.build.targets.wheel.force-include]\n"../NOTICE.txt" = "demo/NOTICE"'
    _distribution(tmp_path, "host", "demo-host", extra=outside)

    with pytest.raises(RuntimeError, match=r"(?s)building demo-host failed.*NOTICE\.txt"):
        BUILDER["build"](tmp_path / "wheelhouse", isolation=False, root=tmp_path)
