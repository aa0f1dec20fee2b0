"""Logging as subprocesses see it: stderr only, one format, one line per call.

Standard output stays the command's result (or the MCP stream on stdio); every line on
standard error is a log record, all JSON with ``--log-format json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def env(e2e: Any, filesystem_plugin: str) -> dict[str, str]:
    return e2e.child_env([filesystem_plugin])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "hello.txt").write_text("secret-file-content")
    path = tmp_path / "plugbay.toml"
    path.write_text(f'[connectors.notes]\nplugin = "filesystem"\nroots = ["{notes}"]\n')
    return path


def _records(stderr: str) -> list[dict[str, Any]]:
    # Every line must parse: a single plain line would break a log pipeline.
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def test_a_call_is_one_json_line_on_stderr_and_its_result_on_stdout(
    e2e: Any, env: dict[str, str], config: Path, tmp_path: Path
) -> None:
    done = e2e.run_plugbay(
        ["--log-format", "json", "call", "notes_read_text_file", "path=hello.txt"],
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "secret-file-content" in done.stdout
    records = _records(done.stderr)
    (logged,) = [record for record in records if record["logger"] == "plugbay.calls"]
    assert logged["level"] == "INFO"
    assert {key: logged[key] for key in ("kind", "name", "instance", "principal", "outcome")} == {
        "kind": "tool",
        "name": "notes_read_text_file",
        "instance": "notes",
        "principal": "local",
        "outcome": "ok",
    }
    assert isinstance(logged["duration_ms"], float)
    # Never the arguments, never the result.
    assert "hello.txt" not in done.stderr
    assert "secret-file-content" not in done.stderr


def test_a_failed_call_is_logged_with_its_outcome_in_text(
    e2e: Any, env: dict[str, str], config: Path, tmp_path: Path
) -> None:
    done = e2e.run_plugbay(
        ["call", "notes_read_text_file", "path=absent.txt"], cwd=tmp_path, env=env
    )
    assert done.returncode == 1
    (line,) = [line for line in done.stderr.splitlines() if " plugbay.calls: " in line]
    assert " INFO plugbay.calls: tool notes_read_text_file instance=notes principal=local " in line
    assert line.endswith("ms tool_error")


def test_log_level_warning_leaves_the_call_log_out(
    e2e: Any, env: dict[str, str], config: Path, tmp_path: Path
) -> None:
    done = e2e.run_plugbay(
        ["--log-level", "warning", "call", "notes_read_text_file", "path=hello.txt"],
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "plugbay.calls" not in done.stderr
    # The environment variables do the same, for worker processes and service managers.
    quiet = e2e.run_plugbay(
        ["call", "notes_read_text_file", "path=hello.txt"],
        cwd=tmp_path,
        env={**env, "PLUGBAY_LOG_LEVEL": "warning"},
    )
    assert "plugbay.calls" not in quiet.stderr


def test_the_http_server_logs_json_only(
    e2e: Any, env: dict[str, str], config: Path, tmp_path: Path
) -> None:
    import httpx

    # `--log-format` belongs to `plugbay` itself; the variable is its form for `serve`.
    with e2e.http_server(tmp_path, {**env, "PLUGBAY_LOG_FORMAT": "json"}) as server:
        assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200
        output = server.output()
    records = _records(output)  # the banner and uvicorn's lines included
    loggers = {record["logger"] for record in records}
    assert {"plugbay.banner", "uvicorn.error", "uvicorn.access"} <= loggers
