"""Path settings: relative values start from the configuration file's folder."""

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError, ValidationInfo, field_validator

from plugbay import ConfigPath, Connector, Settings, hookimpl, resolve_setting_path, tool
from plugbay.assembly import assemble
from plugbay.config import load_config, parse_config
from plugbay.plugins import load_plugins
from plugbay.setting_paths import settings_context
from plugbay.tables import claim_tables


class PathSettings(Settings):
    folder: ConfigPath
    key_file: ConfigPath | None = None
    extra: list[ConfigPath] = []
    database: str = "sqlite:///:memory:"

    @field_validator("database")
    @classmethod
    def _database_file(cls, value: str, info: ValidationInfo) -> str:
        prefix = "sqlite:///"
        if value.startswith(prefix) and value != f"{prefix}:memory:":
            return prefix + str(resolve_setting_path(value[len(prefix) :], info))
        return value


class PathConnector(Connector[PathSettings]):
    name = "paths"

    @tool(read_only=True)
    async def where(self) -> str:
        """Say where the folder is."""
        return str(self.settings.folder)


def test_relative_values_start_from_the_base(tmp_path: Path) -> None:
    settings = PathSettings.model_validate(
        {
            "folder": "notes",
            "key_file": "keys/id.pem",
            "extra": ["a", "/abs/b"],
            "database": "sqlite:///data/shop.db",
        },
        context=settings_context(tmp_path),
    )
    assert settings.folder == tmp_path / "notes"
    assert settings.key_file == tmp_path / "keys" / "id.pem"
    assert settings.extra == [tmp_path / "a", Path("/abs/b")]
    assert settings.database == f"sqlite:///{tmp_path / 'data' / 'shop.db'}"


def test_values_from_the_environment_start_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    settings = PathSettings.model_validate(
        {"folder": "notes", "key_file": "id.pem"},
        context=settings_context(tmp_path / "conf", from_environment=["folder"]),
    )
    assert settings.folder == cwd / "notes"
    assert settings.key_file == tmp_path / "conf" / "id.pem"


def test_without_a_context_relative_values_start_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert PathSettings(folder="notes").folder == tmp_path / "notes"  # type: ignore[arg-type]
    no_file = PathSettings.model_validate({"folder": "n"}, context=settings_context(None))
    assert no_file.folder == tmp_path / "n"


def test_tilde_expands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    settings = PathSettings.model_validate(
        {"folder": "~/notes"}, context=settings_context(Path("/elsewhere"))
    )
    assert settings.folder == tmp_path / "home" / "notes"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "a path may not be empty"),
        ("  ", "a path may not be empty"),
        ("a\x00b", "a path may not contain a NUL character"),
        (3, "Input is not a valid path"),
    ],
)
def test_bad_paths_are_refused(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PathSettings.model_validate({"folder": value})


def test_the_schema_says_path() -> None:
    schema = PathSettings.model_json_schema()
    assert schema["properties"]["folder"] == {"format": "path", "title": "Folder", "type": "string"}


def test_the_host_resolves_against_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bundle: type[Any]
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    config_file = folder / "plugbay.toml"
    config_file.write_text(
        '[connectors.a]\nplugin = "paths"\nfolder = "notes"\nkey_file = "${KEY_DIR}/id.pem"\n'
        '[connectors.b]\nplugin = "paths"\nfolder = "notes"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(config_file, environ={"KEY_DIR": "keys", "PLUGBAY_B__FOLDER": "env"})
    plugin = bundle(connectors=[PathConnector])
    registry = load_plugins({}, extra={"test": plugin}, entry_points=False)
    assembly = assemble(registry, config)
    a = assembly.instances["a"].obj
    b = assembly.instances["b"].obj
    assert isinstance(a, PathConnector)
    assert isinstance(b, PathConnector)
    assert a.settings.folder == folder / "notes"
    assert a.settings.key_file == folder / "keys" / "id.pem"  # ${VAR} is written in the file
    assert b.settings.folder == tmp_path / "env"  # PLUGBAY_B__FOLDER: the working directory


def test_without_a_file_the_context_has_no_base() -> None:
    config = parse_config({}, environ={"PLUGBAY_A__FOLDER": "x"})
    assert config.settings_context("a")["plugbay_config_dir"] is None
    assert config.settings_context("a")["plugbay_settings_from_environment"] == {"folder"}


class ArchiveTable(BaseModel):
    folder: ConfigPath


def test_a_relative_path_in_a_plugin_table_starts_from_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    config_file = folder / "plugbay.toml"
    config_file.write_text('[archive]\nfolder = "logs"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    plugin = SimpleNamespace(
        register_config_tables=hookimpl(lambda register: register(ArchiveTable, table="archive"))
    )
    registry = load_plugins({}, extra={"archive": plugin}, entry_points=False)
    config = claim_tables(registry, load_config(config_file, environ={}))
    assert config.table("archive").folder == folder / "logs"
