"""``plugbay connectors`` and ``plugbay init`` with the repository's real connectors.

Run in-process with click's CliRunner; ``PLUGBAY_PLUGINS`` selects the in-repo plugins
so whatever else is installed does not matter.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pydantic import BaseModel, TypeAdapter

from plugbay.cli import cli
from plugbay_copper.settings import CopperSettings
from plugbay_filesystem.settings import FilesystemSettings
from plugbay_odoo.settings import OdooSettings
from plugbay_proxy.settings import ProxySettings
from plugbay_sql.settings import SqlSettings

ROOT = Path(__file__).resolve().parents[1]
MODELS: dict[str, type[BaseModel]] = {
    "copper": CopperSettings,
    "filesystem": FilesystemSettings,
    "odoo": OdooSettings,
    "proxy": ProxySettings,
    "sql": SqlSettings,
}
SELECTED = {"PLUGBAY_PLUGINS": ",".join(MODELS), "PLUGBAY_CONFIG": None}
REQUIRED_FROM_ENVIRONMENT = {
    "PLUGBAY_COPPER__API_KEY": "copper-key-not-real",
    "PLUGBAY_COPPER__USER_EMAIL": "bot@example.com",
    "PLUGBAY_ODOO__URL": "http://127.0.0.1:8069",
    "PLUGBAY_ODOO__DATABASE": "test",
    "PLUGBAY_ODOO__USERNAME": "bot",
    "PLUGBAY_ODOO__API_KEY": "odoo-key-not-real",
    "PLUGBAY_PROXY__URL": "http://127.0.0.1:9/mcp",
}


def run(*args: str, **env: str | None) -> Result:
    return CliRunner().invoke(cli, list(args), env={**SELECTED, **env}, catch_exceptions=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    database = tmp_path / "shop.db"
    sqlite3.connect(database).close()
    return f"sqlite:///{database}"


def test_connectors_lists_each_with_its_docstring_summary() -> None:
    from plugbay_sql.connector import SqlConnector

    result = run("connectors")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["CONNECTOR", "DESCRIPTION"]
    names = [line.split()[0] for line in lines[1 : 1 + len(MODELS)]]
    assert names == sorted(MODELS)
    summary = (SqlConnector.__doc__ or "").strip().splitlines()[0]
    assert any(re.fullmatch(rf"sql\s+{re.escape(summary)}", line) for line in lines)


def test_connectors_honours_plugbay_plugins_in_dot_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("PLUGBAY_PLUGINS=sql\n")
    monkeypatch.chdir(tmp_path)
    result = run("connectors", "--json", PLUGBAY_PLUGINS=None)
    assert [document["name"] for document in json.loads(result.output)] == ["sql"]


def test_connectors_json_gives_each_setting_of_the_model() -> None:
    result = run("connectors", "--json")
    documents = {document["name"]: document for document in json.loads(result.output)}
    assert set(documents) == set(MODELS)
    for name, model in MODELS.items():
        settings = {s["name"]: s for s in documents[name]["settings"]}
        assert list(settings) == list(model.model_fields)
        for field_name, field in model.model_fields.items():
            assert settings[field_name]["required"] is field.is_required()
            assert settings[field_name]["description"], f"{name}.{field_name} has no description"
            assert (
                settings[field_name]["variable"] == f"PLUGBAY_{name.upper()}__{field_name.upper()}"
            )


def test_show_prints_a_table_from_the_settings_model() -> None:
    result = run("connectors", "show", "sql", "--instance", "shop-db")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("SETTING"))
    assert header.split() == [
        "SETTING", "TYPE", "DEFAULT", "REQUIRED", "SECRET", "ENVIRONMENT", "VARIABLE"
    ]  # fmt: skip
    rows = {
        line.split()[0]: line.split() for line in result.output.splitlines() if line[:1].isalpha()
    }
    assert rows["url"][1:] == ["string", "-", "yes", "no", "PLUGBAY_SHOP_DB__URL"]
    assert rows["password"][-3:] == ["no", "yes", "PLUGBAY_SHOP_DB__PASSWORD"]
    assert rows["row_limit"][1:] == ["integer", "500", "no", "no", "PLUGBAY_SHOP_DB__ROW_LIMIT"]
    # Each description, from the model's Field, under its row.
    description = SqlSettings.model_fields["row_limit"].description or ""
    assert " ".join(description.split()[:6]) in result.output


def test_show_an_unknown_connector_suggests_the_close_one() -> None:
    result = run("connectors", "show", "sqll")
    assert result.exit_code == 2
    assert "no installed connector is called 'sqll'; did you mean 'sql'?" in result.output
    assert "Traceback" not in result.output


def test_init_writes_every_connector_and_config_check_reports_what_to_set(
    tmp_path: Path,
) -> None:
    target = tmp_path / "plugbay.toml"
    result = run("init", "--config", str(target))
    assert result.exit_code == 0, result.output
    document = tomllib.loads(target.read_text())  # parses as written
    assert document == {"connectors": {name: {"plugin": name} for name in MODELS}}
    text = target.read_text()
    assert "# url: string, required; env PLUGBAY_SQL__URL" in text
    assert "# api_key: secret string, required, secret: set it in the environment; " in text
    assert '# api_key = "${ODOO_API_KEY}"' in text
    assert "# row_limit = 500" in text

    checked = run("config", "check", "--config", str(target))
    assert checked.exit_code == 1
    assert "not valid TOML" not in checked.output
    assert (
        "[connectors.sql]: url is required: set 'url' in [connectors.sql] or the environment "
        "variable PLUGBAY_SQL__URL" in checked.output
    )
    assert "[connectors.filesystem]" not in checked.output  # it needs nothing


def test_init_file_passes_config_check_once_its_variables_are_set(
    tmp_path: Path, sqlite_url: str
) -> None:
    target = tmp_path / "plugbay.toml"
    assert run("init", "--config", str(target)).exit_code == 0
    checked = run(
        "config",
        "check",
        "--config",
        str(target),
        PLUGBAY_SQL__URL=sqlite_url,
        **REQUIRED_FROM_ENVIRONMENT,
    )
    assert checked.exit_code == 0, checked.output
    assert "connector instances: 5 (copper, filesystem, odoo, proxy, sql)" in checked.output


def test_init_connectors_picks_some(tmp_path: Path) -> None:
    target = tmp_path / "plugbay.toml"
    result = run("init", "--config", str(target), "--connectors", "filesystem, sql")
    assert result.exit_code == 0, result.output
    assert set(tomllib.loads(target.read_text())["connectors"]) == {"filesystem", "sql"}
    alone = tmp_path / "alone.toml"
    assert run("init", "--config", str(alone), "--connectors", "filesystem").exit_code == 0
    checked = run("config", "check", "--config", str(alone))
    assert checked.exit_code == 0, checked.output
    assert "connector instances: 1 (filesystem)" in checked.output


def test_init_refuses_an_unknown_connector(tmp_path: Path) -> None:
    target = tmp_path / "plugbay.toml"
    result = run("init", "--config", str(target), "--connectors", "odo")
    assert result.exit_code == 2
    assert "did you mean 'odoo'?" in result.output
    assert not target.exists()


def test_init_with_no_connector_installed_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "plugbay.toml"
    result = run("init", "--config", str(target), PLUGBAY_PLUGINS="no-such-plugin")
    assert result.exit_code == 1
    assert "no connectors are installed" in result.output
    assert not target.exists()


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "plugbay.toml"
    target.write_text("# mine\n")
    refused = run("init", "--config", str(target))
    assert refused.exit_code == 1
    assert "exists; not overwriting it (use --force" in refused.output
    assert target.read_text() == "# mine\n"
    forced = run("init", "--config", str(target), "--force", "--connectors", "sql")
    assert forced.exit_code == 0, forced.output
    assert tomllib.loads(target.read_text()) == {"connectors": {"sql": {"plugin": "sql"}}}


def test_init_writes_plugbay_toml_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("init", "--connectors", "filesystem")
    assert result.exit_code == 0, result.output
    assert tomllib.loads((tmp_path / "plugbay.toml").read_text())["connectors"] == {
        "filesystem": {"plugin": "filesystem"}
    }


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_written_default_is_the_models_default(name: str) -> None:
    """Uncommenting a setting's line changes nothing: the value written is the default."""
    text = run("init", "--print", "--connectors", name).output
    model = MODELS[name]
    uncommented: dict[str, Any] = {}
    for field_name, field in model.model_fields.items():
        if field.is_required():
            continue
        default = field.get_default(call_default_factory=True)
        line = re.search(rf"^# {field_name} = (.*)$", text, flags=re.MULTILINE)
        assert line is not None, f"no line for {name}.{field_name}"
        if default is None:
            continue  # unset: the line shows a value of the right type, not a default
        uncommented[field_name] = tomllib.loads(f"v = {line.group(1)}")["v"]
        expected = TypeAdapter(field.annotation).dump_python(default, mode="json")
        assert uncommented[field_name] == expected, f"{name}.{field_name}"


def test_docs_connectors_md_is_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_connectors_doc.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr  # says: run `python scripts/gen_connectors_doc.py`


def test_readme_and_guide_link_every_plugin_readme_and_the_connector_reference() -> None:
    plugins = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "README.md").is_file())
    assert plugins
    for page, prefix in ((ROOT / "README.md", ""), (ROOT / "docs" / "guide.md", "../")):
        text = page.read_text()
        links = set(re.findall(r"\]\(([^)#\s]+)", text))
        for plugin in plugins:
            assert f"{prefix}plugins/{plugin}/README.md" in links, f"{page.name}: {plugin}"
        reference = "docs/connectors.md" if not prefix else "connectors.md"
        assert reference in links, f"{page.name} does not link {reference}"
        assert (page.parent / reference).is_file()


def test_markdown_prints_the_reference_of_the_installed_connectors() -> None:
    result = run("connectors", "--markdown")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Connectors\n")
    for name in MODELS:
        assert f"\n## {name}\n" in result.output
    assert "| `url` | string |  | yes | no | `PLUGBAY_SQL__URL` |" in result.output


def test_help_keeps_the_examples_as_written() -> None:
    assert "\n    plugbay init --connectors filesystem,sql\n" in run("init", "--help").output
    shown = run("connectors", "show", "--help").output
    assert "\n    plugbay connectors show odoo --instance erp\n" in shown
