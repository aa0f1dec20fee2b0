"""``plugbay clients``: adding plugbay to real client files that already hold other servers.

Every test sets PLUGBAY_CLIENTS_HOME to a temporary folder, so no test reads or writes the
real home's client files.
"""

import json
import os
import subprocess
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from click.testing import CliRunner, Result

from plugbay import __version__
from plugbay.cli import cli
from plugbay.cli_clients import HOME_ENV
from plugbay.client_configs import CLIENTS, config_file
from plugbay.client_files import ClientFileError, read_client_file, write_client_file

THEIRS = """{
    "globalShortcut": "Ctrl+Space",
    "mcpServers": {
        "github": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-github"],
            "env": {"GITHUB_TOKEN": "ghp_sécret \\u2603"}
        },
        "weather": {"command": "/opt/weather", "timeout": 1.5e3, "retries": 3, "tags": []}
    },
    "zoom": 1.25
}
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv(HOME_ENV, str(home))
    monkeypatch.delenv("PLUGBAY_CONFIG", raising=False)
    return home


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "plugbay.toml"
    path.write_text("")
    return path


def desktop_file(home: Path) -> Path:
    return Path(
        config_file(
            CLIENTS["claude-desktop"],
            "user",
            platform=sys.platform,
            home=str(home),
            project="/",
            environ={},
        )
    )


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["clients", *args])


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.plugbay-backup-*"))


def test_add_keeps_the_other_servers_and_settings(home: Path, config: Path) -> None:
    target = desktop_file(home)
    target.parent.mkdir(parents=True)
    target.write_text(THEIRS, encoding="utf-8")
    result = run("add", "claude-desktop", "--config", str(config), "--env", "ODOO_API_KEY=k1")
    assert result.exit_code == 0, result.output
    assert str(target) in result.output
    written = target.read_text(encoding="utf-8")
    data = json.loads(written)
    before = json.loads(THEIRS)
    assert list(data) == ["globalShortcut", "mcpServers", "zoom"]
    assert list(data["mcpServers"]) == ["github", "weather", "plugbay"]
    for key in ("github", "weather"):
        assert data["mcpServers"][key] == before["mcpServers"][key]
    assert data["globalShortcut"] == before["globalShortcut"]
    # Numbers keep their spelling; the file keeps its four-space indentation.
    assert '"timeout": 1.5e3' in written
    assert '"zoom": 1.25' in written
    assert '\n    "mcpServers": {' in written
    entry = data["mcpServers"]["plugbay"]
    assert Path(entry["command"]).is_absolute()
    assert entry["args"][-4:] == ["serve", "--stdio", "--config", str(config)]
    assert entry["env"] == {"ODOO_API_KEY": "k1"}
    assert "type" not in entry
    # The backup is the file as it was, byte for byte, readable by its owner only.
    [backup] = backups(target)
    assert backup.read_text(encoding="utf-8") == THEIRS
    if os.name == "posix":
        assert backup.stat().st_mode & 0o077 == 0
    # The secret is not echoed back.
    assert "k1" not in result.output


def test_the_written_command_runs_this_installation(home: Path, config: Path) -> None:
    assert run("add", "cursor", "--config", str(config)).exit_code == 0
    entry = json.loads((home / ".cursor" / "mcp.json").read_text())["mcpServers"]["plugbay"]
    prefix = entry["args"][: entry["args"].index("serve")]
    done = subprocess.run(
        [entry["command"], *prefix, "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert __version__ in done.stdout


def test_without_a_script_the_command_is_python_dash_m(
    home: Path, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    monkeypatch.setattr("plugbay.cli_clients.sysconfig.get_path", lambda *_: str(bare))
    monkeypatch.setattr(sys, "executable", str(bare / "python"))
    result = run("add", "--print", "--config", str(config))
    entry = json.loads(result.output)["mcpServers"]["plugbay"]
    assert entry["command"] == str(bare / "python")
    assert entry["args"][:2] == ["-m", "plugbay"]


def test_add_twice_leaves_one_entry_and_changes_nothing(home: Path, config: Path) -> None:
    target = home / ".cursor" / "mcp.json"
    target.parent.mkdir(parents=True)
    target.write_text(THEIRS, encoding="utf-8")
    assert run("add", "cursor", "--config", str(config)).exit_code == 0
    once = target.read_bytes()
    again = run("add", "cursor", "--config", str(config))
    assert again.exit_code == 0
    assert "nothing to change" in again.output
    assert target.read_bytes() == once
    assert len(backups(target)) == 1
    assert list(json.loads(once)["mcpServers"]) == ["github", "weather", "plugbay"]


def test_add_again_with_other_values_updates_in_place(home: Path, config: Path) -> None:
    target = home / ".cursor" / "mcp.json"
    target.parent.mkdir(parents=True)
    target.write_text('{"mcpServers": {"plugbay": {"command": "plugbay"}, "z": {"command": "z"}}}')
    assert run("add", "cursor", "--config", str(config), "--env", "A=1").exit_code == 0
    servers = json.loads(target.read_text())["mcpServers"]
    assert list(servers) == ["plugbay", "z"]
    assert servers["plugbay"]["env"] == {"A": "1"}
    assert Path(servers["plugbay"]["command"]).is_absolute()
    assert servers["z"] == {"command": "z"}


def test_remove_takes_out_only_ours(home: Path, config: Path) -> None:
    target = desktop_file(home)
    target.parent.mkdir(parents=True)
    target.write_text(THEIRS, encoding="utf-8")
    assert run("add", "claude-desktop", "--config", str(config)).exit_code == 0
    added = target.read_bytes()
    result = run("remove", "claude-desktop")
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(THEIRS)
    assert '"timeout": 1.5e3' in target.read_text(encoding="utf-8")
    assert backups(target)[-1].read_bytes() == added
    # Nothing left to remove: said so, and the file is not touched again.
    after = target.read_bytes()
    again = run("remove", "claude-desktop")
    assert again.exit_code == 0
    assert "nothing to remove" in again.output
    assert target.read_bytes() == after
    assert len(backups(target)) == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{\n  // my servers\n  "servers": {}\n}\n', "not plain JSON"),
        ('{"servers": {"a": {"command": "a"},}}', "not plain JSON"),
        ('{"servers": {"a": {"command": "a"}, "a": {"command": "b"}}}', "key 'a' twice"),
        ('["servers"]', "not an object"),
        ('{"servers": ["a"]}', "not an object of servers"),
        ('{\n  "servers": {\n', "not plain JSON"),
    ],
)
def test_a_file_it_cannot_keep_whole_is_left_untouched(
    home: Path, config: Path, tmp_path: Path, text: str, reason: str
) -> None:
    project = tmp_path / "project"
    target = project / ".vscode" / "mcp.json"
    target.parent.mkdir(parents=True)
    target.write_text(text)
    args = ("vscode", "--scope", "project", "--project", str(project))
    result = run("add", *args, "--config", str(config))
    assert result.exit_code == 1
    assert reason in result.output
    assert "Nothing was changed" in result.output
    # The entry to add by hand is printed in VS Code's shape.
    assert '"type": "stdio"' in result.output
    assert target.read_text() == text
    assert backups(target) == []
    removed = run("remove", *args)
    assert removed.exit_code == 1
    assert target.read_text() == text
    listed = run("list", "--project", str(project))
    assert "unreadable" in listed.output


def test_non_utf8_is_left_untouched(home: Path, config: Path) -> None:
    target = home / ".claude.json"
    target.write_bytes(b'{"mcpServers": {"x": {"command": "\xff"}}}')
    result = run("add", "claude-code", "--config", str(config))
    assert result.exit_code == 1
    assert "not UTF-8" in result.output
    assert target.read_bytes() == b'{"mcpServers": {"x": {"command": "\xff"}}}'


def test_vscode_project_scope_and_new_file(home: Path, config: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    result = run(
        "add", "vscode", "--scope", "project", "--project", str(project), "--config", str(config)
    )
    assert result.exit_code == 0, result.output
    target = project / ".vscode" / "mcp.json"
    entry = json.loads(target.read_text())["servers"]["plugbay"]
    assert entry["type"] == "stdio"
    assert backups(target) == []
    if os.name == "posix":
        assert target.stat().st_mode & 0o077 == 0
    listed = run("list", "--project", str(project))
    assert listed.output.splitlines()[0].split()[:3] == ["CLIENT", "SCOPE", "PLUGBAY"]
    [row] = [line for line in listed.output.splitlines() if str(target) in line]
    assert row.split()[:3] == ["vscode", "project", "plugbay"]


def test_claude_code_user_file_keeps_its_other_state(home: Path, config: Path) -> None:
    state = {"numStartups": 41, "projects": {"/w": {"mcpServers": {}}}, "userID": "u"}
    (home / ".claude.json").write_text(json.dumps(state))
    assert run("add", "claude-code", "--config", str(config), "--name", "bay").exit_code == 0
    data = json.loads((home / ".claude.json").read_text())
    assert {key: data[key] for key in state} == state
    assert data["mcpServers"]["bay"]["type"] == "stdio"
    listed = run("list", "--name", "bay")
    assert any(
        line.split()[:3] == ["claude-code", "user", "bay"] for line in listed.output.splitlines()
    )


def test_mode_and_symbolic_link_are_kept(home: Path, config: Path, tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("file modes and links as POSIX has them")
    real = tmp_path / "dotfiles" / "mcp.json"
    real.parent.mkdir()
    real.write_text('{"mcpServers": {}}')
    real.chmod(0o640)
    link = home / ".cursor" / "mcp.json"
    link.parent.mkdir()
    link.symlink_to(real)
    assert run("add", "cursor", "--config", str(config)).exit_code == 0
    assert link.is_symlink()
    assert "plugbay" in json.loads(real.read_text())["mcpServers"]
    assert real.stat().st_mode & 0o777 == 0o640


def test_print_writes_nothing(home: Path, config: Path) -> None:
    result = run("add", "--print", "--config", str(config), "--env", "ODOO_API_KEY=k1")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)["mcpServers"]["plugbay"]
    assert entry["args"][-2:] == ["--config", str(config)]
    assert entry["env"] == {"ODOO_API_KEY": "k1"}
    vscode = json.loads(run("add", "vscode", "--print", "--config", str(config)).output)
    assert vscode["servers"]["plugbay"]["type"] == "stdio"
    assert list(home.iterdir()) == []


def test_relative_config_is_made_absolute(
    home: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(config.parent)
    entry = json.loads(run("add", "--print", "--config", "plugbay.toml").output)
    assert entry["mcpServers"]["plugbay"]["args"][-1] == str(config)
    default = json.loads(run("add", "--print").output)
    assert default["mcpServers"]["plugbay"]["args"][-1] == str(config)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add",), "name the client"),
        (("add", "cursor", "--env", "sk-secret"), "has no '='"),
        (("add", "cursor", "--env", "1A=secret"), "is not a variable name"),
        (("add", "claude-desktop", "--scope", "project"), "has no project scope"),
        (("add", "cursor", "--scope", "project", "--project", "/no/such/dir"), "does not exist"),
        (("add", "emacs"), "emacs"),
    ],
)
def test_bad_input_is_a_usage_error(
    home: Path, config: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(*args, "--config", str(config)) if args[-1] != "emacs" else run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "secret" not in result.output
    assert list(home.iterdir()) == []


HOMES = {"darwin": "/Users/ann", "win32": "C:\\Users\\ann", "linux": "/home/ann"}
EXPECTED = {
    ("claude-desktop", "user", "darwin"):
        "/Users/ann/Library/Application Support/Claude/claude_desktop_config.json",
    ("claude-desktop", "user", "win32"):
        "C:\\Users\\ann\\AppData\\Roaming\\Claude\\claude_desktop_config.json",
    ("claude-desktop", "user", "linux"): "/home/ann/.config/Claude/claude_desktop_config.json",
    ("claude-code", "user", "darwin"): "/Users/ann/.claude.json",
    ("claude-code", "user", "win32"): "C:\\Users\\ann\\.claude.json",
    ("claude-code", "user", "linux"): "/home/ann/.claude.json",
    ("claude-code", "project", "linux"): "/w/p/.mcp.json",
    ("cursor", "user", "darwin"): "/Users/ann/.cursor/mcp.json",
    ("cursor", "user", "win32"): "C:\\Users\\ann\\.cursor\\mcp.json",
    ("cursor", "user", "linux"): "/home/ann/.cursor/mcp.json",
    ("cursor", "project", "win32"): "D:\\w\\p\\.cursor\\mcp.json",
    ("vscode", "user", "darwin"): "/Users/ann/Library/Application Support/Code/User/mcp.json",
    ("vscode", "user", "win32"): "C:\\Users\\ann\\AppData\\Roaming\\Code\\User\\mcp.json",
    ("vscode", "user", "linux"): "/home/ann/.config/Code/User/mcp.json",
    ("vscode", "project", "darwin"): "/w/p/.vscode/mcp.json",
}  # fmt: skip


def where(name: str, scope: str, platform: str, **environ: str) -> object:
    project = "D:\\w\\p" if platform == "win32" else "/w/p"
    home = HOMES[platform]
    return config_file(
        CLIENTS[name], scope, platform=platform, home=home, project=project, environ=environ
    )


@pytest.mark.parametrize(("key", "expected"), EXPECTED.items())
def test_locations_per_platform(key: tuple[str, str, str], expected: str) -> None:
    platform = key[2]
    pure = PureWindowsPath if platform == "win32" else PurePosixPath
    assert where(*key) == pure(expected)


def test_locations_follow_appdata_and_xdg() -> None:
    windows = where("claude-desktop", "user", "win32", APPDATA="E:\\roam")
    assert windows == PureWindowsPath("E:\\roam\\Claude\\claude_desktop_config.json")
    linux = where("vscode", "user", "linux", XDG_CONFIG_HOME="/cfg")
    assert linux == PurePosixPath("/cfg/Code/User/mcp.json")


def test_a_client_without_project_scope_says_so() -> None:
    with pytest.raises(ValueError, match="Claude Desktop has no project scope"):
        where("claude-desktop", "project", "darwin")


def test_a_file_changed_after_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "mcp.json"
    target.write_text('{"mcpServers": {}}')
    read = read_client_file(target)
    read.data["mcpServers"]["plugbay"] = {"command": "/x"}
    # The client saves its own change in between (Claude Code rewrites ~/.claude.json often).
    target.write_text('{"mcpServers": {}, "theirs": 1}')
    with pytest.raises(ClientFileError, match="changed while plugbay read it"):
        write_client_file(read)
    assert target.read_text() == '{"mcpServers": {}, "theirs": 1}'
    assert backups(target) == []


def test_byte_order_mark_and_tabs_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "mcp.json"
    target.write_bytes(b'\xef\xbb\xbf{\n\t"servers": {\n\t\t"a": {"command": "a"}\n\t}\n}\n')
    read = read_client_file(target)
    read.data["servers"]["b"] = {"command": "b"}
    write_client_file(read)
    written = target.read_bytes()
    assert written.startswith(b'\xef\xbb\xbf{\n\t"servers": {\n\t\t"a": {\n\t\t\t"command": "a"')
    assert json.loads(written.decode("utf-8-sig"))["servers"] == {
        "a": {"command": "a"},
        "b": {"command": "b"},
    }
