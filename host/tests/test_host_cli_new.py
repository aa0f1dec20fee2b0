"""``plugbay new plugin``: the files it writes, and what it refuses.

That the project passes its own tests, installs and serves is tested end to end in
tests/test_e2e_new_plugin.py.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from plugbay.cli import cli
from plugbay.cli_new import PluginNames, render_plugin


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["new", "plugin", *args], catch_exceptions=False)


def test_writes_a_project_in_the_standard_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("acme-notes")
    assert result.exit_code == 0, result.output
    assert "wrote 8 files to plugbay-acme-notes/ (plugin 'acme_notes')" in result.output
    root = tmp_path / "plugbay-acme-notes"
    written = sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
    assert written == [
        "README.md",
        "pyproject.toml",
        "src/plugbay_acme_notes/__init__.py",
        "src/plugbay_acme_notes/connector.py",
        "src/plugbay_acme_notes/py.typed",
        "src/plugbay_acme_notes/settings.py",
        "tests/test_acme_notes_conformance.py",
        "tests/test_acme_notes_tools.py",
    ]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["name"] == "plugbay-acme-notes"
    assert project["project"]["dependencies"] == ["plugbay>=0.2,<0.3"]
    assert "plugbay-testing>=0.2,<0.3" in project["project"]["optional-dependencies"]["test"]
    assert project["project"]["entry-points"]["plugbay"] == {"acme_notes": "plugbay_acme_notes"}
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/plugbay_acme_notes"
    ]
    for path in root.rglob("*.py"):
        ast.parse(path.read_text(), filename=str(path))  # valid Python
    connector = (root / "src/plugbay_acme_notes/connector.py").read_text()
    assert "class AcmeNotesConnector(Connector[AcmeNotesSettings]):" in connector
    assert 'name = "acme_notes"' in connector
    settings = (root / "src/plugbay_acme_notes/settings.py").read_text()
    assert 'Field("Hello", description="The word a greeting starts with.")' in settings
    conformance = (root / "tests/test_acme_notes_conformance.py").read_text()
    assert 'entry_point = "acme_notes"' in conformance
    assert "PLUGBAY_ACME_NOTES__GREETING" in (root / "README.md").read_text()


def test_every_template_variable_is_filled() -> None:
    files = render_plugin(PluginNames.parse("notes"))
    leftovers = {path: text for path, text in files.items() if "$" in text}
    assert leftovers == {}


@pytest.mark.parametrize(
    ("raw", "name", "dist", "package", "stem"),
    [
        ("notes", "notes", "plugbay-notes", "plugbay_notes", "Notes"),
        ("acme-crm", "acme_crm", "plugbay-acme-crm", "plugbay_acme_crm", "AcmeCrm"),
        ("plugbay-acme_crm2", "acme_crm2", "plugbay-acme-crm2", "plugbay_acme_crm2", "AcmeCrm2"),
    ],
)
def test_names(raw: str, name: str, dist: str, package: str, stem: str) -> None:
    assert PluginNames.parse(raw) == PluginNames(name, dist, package, stem)


@pytest.mark.parametrize("raw", ["Notes", "2notes", "my notes", "notes_", "a--b", "x" * 31, ""])
def test_names_that_cannot_name_a_plugin_are_refused(raw: str) -> None:
    with pytest.raises(click.BadParameter, match="cannot name a plugin"):
        PluginNames.parse(raw)
    result = CliRunner().invoke(cli, ["new", "plugin", raw])
    assert result.exit_code == 2
    assert "cannot name a plugin" in result.output


@pytest.mark.parametrize("raw", ["builtin", "server"])
def test_names_plugbay_uses_itself_are_refused(raw: str) -> None:
    with pytest.raises(click.BadParameter, match="is taken by plugbay itself"):
        PluginNames.parse(raw)


def test_a_directory_that_holds_something_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["new", "plugin", "notes", "--directory", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path} exists and is not empty" in result.output
    assert [path.name for path in tmp_path.iterdir()] == ["keep.txt"]


def test_an_empty_directory_is_used(tmp_path: Path) -> None:
    target = tmp_path / "here"
    target.mkdir()
    result = run("notes", "--directory", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "src/plugbay_notes/connector.py").is_file()
    assert f"cd {target}" in result.output
