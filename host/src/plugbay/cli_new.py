"""``plugbay new plugin NAME``: write a plugin project in the standard shape.

The project (pyproject with the entry point, README, settings and connector modules,
tests starting with the conformance suite) passes its own tests as written. The
templates are package data (``plugbay/templates/plugin``), filled with
:class:`string.Template`, so the generated code reads like code and not like a
template language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

import click

PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$")
"""Lower-case words joined by ``_`` or ``-``: a Python package name once ``-`` is ``_``."""
MAX_NAME_LENGTH = 30
"""Leaves room under the 64-character tool names for the tools' own names."""
TEMPLATE_SUFFIX = ".tmpl"
RESERVED = frozenset({"builtin", "server"})
"""Taken: the host's own plugin and the ``[server]`` table."""


@dataclass(frozen=True, slots=True)
class PluginNames:
    """The spellings of one plugin's name that its project uses."""

    name: str
    """The entry point, connector and default instance name (``acme_notes``)."""
    dist: str
    """The distribution (``plugbay-acme-notes``)."""
    package: str
    """The import package (``plugbay_acme_notes``)."""
    stem: str
    """The class-name stem (``AcmeNotes``)."""

    @classmethod
    def parse(cls, raw: str) -> PluginNames:
        """The names for ``raw`` (``acme-notes`` or ``acme_notes``).

        Raises:
            click.BadParameter: ``raw`` cannot name a plugin.
        """
        value = raw.strip()
        if value.startswith(("plugbay-", "plugbay_")):
            value = value[len("plugbay-") :]
        if not PLUGIN_NAME.match(value) or len(value) > MAX_NAME_LENGTH:
            raise click.BadParameter(
                f"{raw!r} cannot name a plugin: use lower-case letters and digits, words "
                f"joined by '_' or '-', starting with a letter, at most {MAX_NAME_LENGTH} "
                "characters (e.g. notes, acme_crm)"
            )
        name = value.replace("-", "_")
        if name in RESERVED:
            raise click.BadParameter(f"{raw!r} is taken by plugbay itself: choose another name")
        return cls(
            name=name,
            dist="plugbay-" + name.replace("_", "-"),
            package="plugbay_" + name,
            stem="".join(word.capitalize() for word in name.split("_")),
        )

    def substitutions(self) -> dict[str, str]:
        """The template variables."""
        return {
            "name": self.name,
            "dist": self.dist,
            "package": self.package,
            "cls": self.stem,
            "upper": self.name.upper(),
        }


def _target(relative: str, names: PluginNames) -> str:
    """Where a template file goes: ``package/`` becomes ``src/<package>/``, tests get a prefix."""
    path = relative.removesuffix(TEMPLATE_SUFFIX)
    if path.startswith("package/"):
        return f"src/{names.package}/{path.removeprefix('package/')}"
    if path.startswith("tests/test_"):
        return f"tests/test_{names.name}_{path.removeprefix('tests/test_')}"
    return path


def _templates(folder: Traversable, prefix: str = "") -> list[tuple[str, str]]:
    """Every template below ``folder``: its path relative to the plugin folder, and its text."""
    found = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.is_dir():
            found.extend(_templates(entry, f"{prefix}{entry.name}/"))
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            found.append((prefix + entry.name, entry.read_text(encoding="utf-8")))
    return found


def render_plugin(names: PluginNames) -> dict[str, str]:
    """The plugin project's files, by path relative to its folder."""
    folder = resources.files("plugbay") / "templates" / "plugin"
    values = names.substitutions()
    files = {
        _target(relative, names): Template(text).substitute(values)
        for relative, text in _templates(folder)
    }
    files[f"src/{names.package}/py.typed"] = ""
    return files


def write_plugin(names: PluginNames, directory: Path) -> list[Path]:
    """Write the project into ``directory``, which must not exist or be empty.

    Returns:
        The files written.

    Raises:
        click.ClickException: ``directory`` holds something already.
    """
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise click.ClickException(
            f"{directory} exists and is not empty: choose another --directory, or remove it"
        )
    written = []
    for relative, text in render_plugin(names).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


@click.group(short_help="Start a plugin from a template.")
def new() -> None:
    r"""Start something new from a template.

    \b
    Example:
      plugbay new plugin weather
    """


@new.command("plugin", short_help="Write a plugin project that passes its tests.")
@click.argument("name")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the project (default: ./plugbay-NAME). It must not exist or be empty.",
)
def new_plugin(name: str, directory: Path | None) -> None:
    r"""Write a plugin project NAME that passes its own tests: pip install -e '.[test]', pytest.

    \b
    Example:
      plugbay new plugin weather --directory ~/src/plugbay-weather
    """
    names = PluginNames.parse(name)
    target = directory if directory is not None else Path(names.dist)
    written = write_plugin(names, target)
    click.echo(f"wrote {len(written)} files to {target}/ (plugin {names.name!r})")
    click.echo("next:")
    click.echo(f"  cd {target}")
    click.echo("  pip install -e '.[test]'")
    click.echo("  pytest")
    click.echo(f"  plugbay call {names.name}_greet who=Ada")
