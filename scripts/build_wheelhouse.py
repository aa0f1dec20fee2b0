"""Build every distribution's sdist and wheel into one folder, the wheelhouse.

Run as ``hatch run release:build`` (or ``python scripts/build_wheelhouse.py [--outdir DIR]``).
The distributions are found, not listed: ``host/`` and every ``packages/*/`` and
``plugins/*/`` folder with a ``pyproject.toml``. Each is built with ``python -m build``,
which makes the sdist first and then the wheel *from that sdist*: a distribution whose sdist
needs anything outside its own folder fails here, not on a user's machine.

Users install from the result as they will from PyPI::

    pip install --find-links dist/wheelhouse plugbay plugbay-odoo
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTDIR = ROOT / "dist" / "wheelhouse"
PATTERNS = ("host", "packages/*", "plugins/*")
"""Where the published distributions live; bench/ and tests/fixtures/ are private."""


@dataclass(frozen=True)
class Distribution:
    """One distribution of the workspace: its folder, name and version."""

    path: Path
    name: str
    version: str

    @property
    def stem(self) -> str:
        """The normalized file-name prefix of its wheel and sdist (``plugbay_http-0.2.0``)."""
        return f"{self.name.replace('-', '_').lower()}-{self.version}"


def distributions(root: Path = ROOT) -> list[Distribution]:
    """Every published distribution under ``root``, in a stable order (the host first)."""
    found = []
    for pattern in PATTERNS:
        for folder in sorted(root.glob(pattern)):
            pyproject = folder / "pyproject.toml"
            if not pyproject.is_file():
                continue
            project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
            found.append(Distribution(folder, project["name"], project["version"]))
    return found


def _clear(outdir: Path) -> None:
    """Remove earlier builds so the folder holds exactly this build (safe to upload whole)."""
    outdir.mkdir(parents=True, exist_ok=True)
    for stale in [*outdir.glob("*.whl"), *outdir.glob("*.tar.gz")]:
        stale.unlink()


def build(outdir: Path, *, isolation: bool = True, root: Path = ROOT) -> list[Path]:
    """Build every distribution into ``outdir``; return the files, or raise on a failure.

    Args:
        outdir: The wheelhouse; earlier wheels and sdists in it are removed first.
        isolation: Build in pip-made isolated environments, as a user's pip would. Without
            it the running environment must provide the build backend (``build`` checks
            that it satisfies each ``build-system.requires``).
        root: The workspace to build.

    Raises:
        RuntimeError: ``build`` is missing, a build failed (its output is in the message),
            or a distribution did not produce exactly one sdist and one wheel.
    """
    if importlib.util.find_spec("build") is None:
        raise RuntimeError(f"{sys.executable} has no 'build' module: pip install build")
    _clear(outdir)
    for dist in distributions(root):
        command = [sys.executable, "-m", "build", "--outdir", str(outdir)]
        if not isolation:
            command.append("--no-isolation")
        command.append(str(dist.path))
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(
                f"building {dist.name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        made = sorted(outdir.glob(f"{dist.stem}-*.whl")) + sorted(
            outdir.glob(f"{dist.stem}.tar.gz")
        )
        if len(made) != 2:
            raise RuntimeError(f"{dist.name} built {[path.name for path in made]}, not 2 files")
        print(f"built {dist.name} {dist.version}: {', '.join(path.name for path in made)}")
    return sorted(outdir.iterdir())


def main(argv: list[str] | None = None) -> int:
    """Command line: build the wheelhouse; exit 1 with the failing build's output."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=DEFAULT_OUTDIR, help="the wheelhouse")
    parser.add_argument(
        "--no-isolation",
        action="store_true",
        help="use this environment's build backend instead of isolated build environments",
    )
    args = parser.parse_args(argv)
    try:
        files = build(args.outdir.resolve(), isolation=not args.no_isolation)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{len(files)} files in {args.outdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
