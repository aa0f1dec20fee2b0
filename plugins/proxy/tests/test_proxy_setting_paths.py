"""command and cwd: relative paths start from the configuration file's folder."""

from pathlib import Path

import pytest

from plugbay.setting_paths import settings_context
from plugbay_proxy import ProxySettings


def test_a_relative_command_and_cwd_start_from_the_configuration_files_folder(
    tmp_path: Path,
) -> None:
    settings = ProxySettings.model_validate(
        {"command": "./bin/server", "cwd": "work"}, context=settings_context(tmp_path)
    )
    assert settings.command == str(tmp_path / "bin" / "server")
    assert settings.cwd == tmp_path / "work"


@pytest.mark.parametrize("command", ["npx", "uvx", "/usr/bin/env"])
def test_names_for_path_and_absolute_commands_stay_as_written(command: str, tmp_path: Path) -> None:
    settings = ProxySettings.model_validate(
        {"command": command}, context=settings_context(tmp_path)
    )
    assert settings.command == command


def test_from_the_environment_they_start_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = ProxySettings.model_validate(
        {"command": "bin/server", "cwd": "."},
        context=settings_context(tmp_path / "conf", ["command", "cwd"]),
    )
    assert settings.command == str(tmp_path / "bin" / "server")
    assert settings.cwd == tmp_path / "."
