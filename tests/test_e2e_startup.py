"""``plugbay serve`` at start-up: strict mode, the banner, exposure, workers, a port in use.

Every test runs the real command in a subprocess. Addresses other than loopback are
only bound (``0.0.0.0``); every request goes to 127.0.0.1.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from plugbay_testing.fakes import free_port

pytestmark = pytest.mark.slow

STRICT = "error: refusing to serve (--strict):"


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plugbay.toml"
    path.write_text(text)
    return path


def _notes(tmp_path: Path) -> str:
    notes = tmp_path / "notes"
    notes.mkdir(exist_ok=True)
    return f'[connectors.notes]\nplugin = "filesystem"\nroots = ["{notes}"]\n'


@pytest.fixture
def env(e2e: Any, filesystem_plugin: str) -> dict[str, str]:
    # plugbay-auth and plugbay-guard own [auth] and [limits]: the tables need them.
    return e2e.child_env([filesystem_plugin, "sql", "auth", "guard"])


def _serve(e2e: Any, tmp_path: Path, env: dict[str, str], *args: str) -> Any:
    return e2e.run_plugbay(["serve", "--port", str(free_port()), *args], cwd=tmp_path, env=env)


def test_strict_refuses_an_unknown_setting(e2e: Any, env: dict[str, str], tmp_path: Path) -> None:
    config = _config(tmp_path, _notes(tmp_path) + "alow_writes = true\n")
    done = _serve(e2e, tmp_path, env, "--strict", "--config", str(config))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == STRICT
    assert lines[1].startswith("error: notes (filesystem) not configured: alow_writes:")
    assert "startup complete" not in done.stderr
    assert "Traceback" not in done.stderr


def test_strict_in_the_config_refuses_an_instance_not_configured(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    shop = '[connectors.shop]\nplugin = "sql"\n'
    config = _config(tmp_path, "[server]\nstrict = true\n" + _notes(tmp_path) + shop)
    done = _serve(e2e, tmp_path, env, "--config", str(config))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        STRICT,
        "error: shop (sql) not configured: url is required: set 'url' in [connectors.shop] or "
        "the environment variable PLUGBAY_SHOP__URL",
    ]


def test_strict_refuses_an_instance_that_fails_to_start(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "not-yet"
    config = _config(
        tmp_path,
        _notes(tmp_path) + f'[connectors.later]\nplugin = "filesystem"\nroots = ["{missing}"]\n',
    )
    done = _serve(e2e, tmp_path, env, "--strict", "--config", str(config))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors[0] == STRICT
    assert errors[1].startswith("error: later (filesystem) failed: failed to start:")
    assert str(missing) in errors[1]
    assert len(errors) == 2
    assert "startup complete" not in done.stderr


def test_strict_lists_every_problem_at_once(e2e: Any, env: dict[str, str], tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        _notes(tmp_path).replace("[connectors.notes]", "[connectors.typo]")
        + "alow_writes = true\n"
        + '[connectors.shop]\nplugin = "sql"\n'
        + f'[connectors.later]\nplugin = "filesystem"\nroots = ["{tmp_path / "gone"}"]\n',
    )
    done = _serve(e2e, tmp_path, env, "--strict", "--config", str(config))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert [line.split(" (")[0] for line in errors[1:]] == [
        "error: typo",
        "error: shop",
        "error: later",
    ]


def test_lenient_default_serves_the_rest_and_the_banner_says_what_failed(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    config = _config(
        tmp_path,
        _notes(tmp_path)
        + '[connectors.shop]\nplugin = "sql"\n'
        + f'[connectors.later]\nplugin = "filesystem"\nroots = ["{tmp_path / "gone"}"]\n',
    )
    with e2e.http_server(tmp_path, env, "--config", str(config)) as server:
        log = server.output()
    lines = log.splitlines()
    assert f"plugbay: serving MCP at http://127.0.0.1:{server.port}/mcp" in lines
    [notes] = [line for line in lines if line.startswith("plugbay: notes (filesystem): ")]
    assert notes.endswith(" tools")
    assert int(notes.split(": ")[2].split()[0]) > 0
    assert (
        "warning: shop (sql) not configured: url is required: set 'url' in [connectors.shop] or "
        "the environment variable PLUGBAY_SHOP__URL"
    ) in lines
    [later] = [line for line in lines if line.startswith("warning: later (filesystem) failed:")]
    assert later.endswith("(retried in the background)")
    # The banner comes before uvicorn says it is ready.
    assert log.index("plugbay: serving MCP at") < log.index("Application startup complete")


def test_no_config_folds_the_unconfigured_connectors_into_one_line(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    with e2e.http_server(tmp_path, env) as server:
        lines = server.output().splitlines()
    assert f"plugbay: serving MCP at http://127.0.0.1:{server.port}/mcp" in lines
    assert any(line.startswith("plugbay: filesystem (filesystem): ") for line in lines)
    unconfigured = [line for line in lines if "not configured" in line]
    assert unconfigured == [
        "plugbay: not configured: sql (run `plugbay init` to write a plugbay.toml for them)"
    ]


def test_stdio_banner_goes_to_stderr(e2e: Any, env: dict[str, str], tmp_path: Path) -> None:
    config = _config(tmp_path, _notes(tmp_path))
    # Standard input is empty: the server starts, prints its banner and ends.
    done = e2e.run_plugbay(["serve", "--stdio", "--config", str(config)], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert "plugbay: serving MCP over stdio" in lines
    assert any(line.startswith("plugbay: notes (filesystem): ") for line in lines)


def test_a_public_address_without_authentication_is_refused(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    config = _config(tmp_path, _notes(tmp_path))
    done = _serve(e2e, tmp_path, env, "--host", "0.0.0.0", "--config", str(config))
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("error: refusing to serve on 0.0.0.0 without authentication")
    assert "--allow-unauthenticated" in line


@pytest.mark.parametrize("how", ["flag", "config"])
def test_a_public_address_is_served_when_allowed(
    e2e: Any, env: dict[str, str], tmp_path: Path, how: str
) -> None:
    server_table = "[server]\nallow_unauthenticated = true\n" if how == "config" else ""
    config = _config(tmp_path, server_table + _notes(tmp_path))
    flags = ["--allow-unauthenticated"] if how == "flag" else []
    with e2e.http_server(tmp_path, env, "--host", "0.0.0.0", *flags, "--config", str(config)) as s:
        assert f"plugbay: serving MCP at http://0.0.0.0:{s.port}/mcp" in s.output().splitlines()


def test_a_public_address_with_api_keys_is_served(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    config = _config(
        tmp_path,
        _notes(tmp_path) + '[[auth.api_keys]]\nname = "ci"\nhash = "sha256:' + "0" * 64 + '"\n',
    )
    with e2e.http_server(tmp_path, env, "--host", "0.0.0.0", "--config", str(config)) as server:
        assert "refusing" not in server.output()


def test_workers_with_limits_in_memory_warn(e2e: Any, env: dict[str, str], tmp_path: Path) -> None:
    config = _config(tmp_path, '[limits]\nper_tool = "5/minute"\n' + _notes(tmp_path))
    with e2e.http_server(tmp_path, env, "--workers", "2", "--config", str(config)) as server:
        log = server.output()
    # plugbay-guard logs it, in plugbay's log format.
    assert (
        "2 workers each count [limits] rates in their own memory, so up to 2 times "
        "the rate gets through; set [limits] storage to a redis:// URL to share them"
    ) in log


def test_one_worker_with_limits_does_not_warn(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    config = _config(tmp_path, '[limits]\nper_tool = "5/minute"\n' + _notes(tmp_path))
    with e2e.http_server(tmp_path, env, "--config", str(config)) as server:
        assert "workers each count" not in server.output()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_line_and_exit_1(
    e2e: Any, env: dict[str, str], tmp_path: Path, workers: str
) -> None:
    config = _config(tmp_path, _notes(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = e2e.run_plugbay(
            ["serve", "--port", str(port), "--workers", workers, "--config", str(config)],
            cwd=tmp_path,
            env=env,
        )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: port {port} is already in use: stop what listens there or choose another "
        "with --port"
    ]
