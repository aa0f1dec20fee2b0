"""Logging: one format on stderr (plugbay.logs) and one line per call (plugbay.call_log)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import mcp_types as types
import pytest

from plugbay import Principal
from plugbay.call_log import log_call
from plugbay.errors import CallRefused, ToolError
from plugbay.logs import (
    FORMAT_ENV,
    LEVEL_ENV,
    echo_lines,
    setup_logging,
    setup_logging_from_env,
)
from plugbay.middleware import TIMED_OUT, Call, compose

pytestmark = pytest.mark.anyio


@pytest.fixture
def stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[[], str]]:
    """What was written to stderr so far; the root logger's handlers are restored after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    monkeypatch.delenv(LEVEL_ENV, raising=False)
    monkeypatch.delenv(FORMAT_ENV, raising=False)
    yield lambda: capsys.readouterr().err
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def call(**fields: Any) -> Call:
    return Call(
        kind="tool",
        name="crm_search_people",
        arguments={"query": "secret-argument-value"},
        instance="crm",
        principal=Principal(name="ada"),
        **fields,
    )


async def answer(result: Any) -> Any:
    async def endpoint(call: Call) -> Any:
        if isinstance(result, BaseException):
            raise result
        return result

    return compose([log_call], endpoint)


def test_text_lines_go_to_the_current_stderr(stderr: Callable[[], str]) -> None:
    setup_logging("info", "text")
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    logging.getLogger("plugbay.test").debug("not shown at info")
    (line,) = stderr().splitlines()
    assert line.endswith(" INFO uvicorn.error: Started server process [42]")


def test_json_lines_carry_the_fields(stderr: Callable[[], str]) -> None:
    setup_logging("debug", "json")
    logging.getLogger("plugbay.test").debug("hello %s", "there", extra={"fields": {"k": 1}})
    document = json.loads(stderr())
    assert document["level"] == "DEBUG"
    assert document["logger"] == "plugbay.test"
    assert document["message"] == "hello there"
    assert document["k"] == 1


def test_json_tracebacks_keep_secrets_out(stderr: Callable[[], str]) -> None:
    from plugbay.redaction import install_log_redaction

    install_log_redaction()
    setup_logging("info", "json")
    try:
        raise ValueError("cannot reach https://bob:hunter2-secret@db.example/")
    except ValueError:
        logging.getLogger("plugbay.test").exception("the database failed")
    document = json.loads(stderr())
    assert "hunter2-secret" not in document["exception"]
    assert "https://[redacted]@db.example/" in document["exception"]


def test_a_second_setup_replaces_the_handler_and_passes_on_to_workers(
    stderr: Callable[[], str],
) -> None:
    setup_logging("info", "text")
    setup_logging("warning", "json")
    assert len(logging.getLogger().handlers) == 1
    import os

    assert (os.environ[LEVEL_ENV], os.environ[FORMAT_ENV]) == ("warning", "json")
    setup_logging_from_env({LEVEL_ENV: "nonsense", FORMAT_ENV: "json"})
    assert logging.getLogger().level == logging.INFO
    logging.getLogger("worker").info("up")
    assert json.loads(stderr().splitlines()[-1])["message"] == "up"


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log format 'xml'"):
        setup_logging("info", "xml")  # type: ignore[arg-type]


async def test_one_line_per_call_without_the_arguments(stderr: Callable[[], str]) -> None:
    setup_logging("info", "json")
    result = types.CallToolResult(content=[])
    assert await (await answer(result))(call()) is result
    (line,) = stderr().splitlines()
    document = json.loads(line)
    assert document["logger"] == "plugbay.calls"
    assert {key: document[key] for key in ("kind", "name", "instance", "principal")} == {
        "kind": "tool",
        "name": "crm_search_people",
        "instance": "crm",
        "principal": "ada",
    }
    assert document["outcome"] == "ok"
    assert document["duration_ms"] >= 0
    assert document["message"].startswith("tool crm_search_people instance=crm principal=ada ")
    assert "secret-argument-value" not in line


@pytest.mark.parametrize(
    ("result", "state", "outcome"),
    [
        (types.CallToolResult(content=[], is_error=True), {}, "tool_error"),
        (ToolError("no such person"), {}, "tool_error"),
        (ToolError("cut"), {TIMED_OUT: True}, "timeout"),
        (CallRefused("not yours", outcome="denied"), {}, "denied"),
        (CallRefused("slow down", outcome="rate_limited"), {}, "rate_limited"),
        (RuntimeError("bug"), {}, "error"),
    ],
)
async def test_outcomes(
    stderr: Callable[[], str], result: Any, state: dict[str, Any], outcome: str
) -> None:
    setup_logging("info", "text")
    chain = await answer(result)
    the_call = call()
    the_call.state.update(state)
    if isinstance(result, BaseException):
        with pytest.raises(type(result)):
            await chain(the_call)
    else:
        await chain(the_call)
    assert stderr().rstrip().endswith(f"ms {outcome}")


async def test_a_cancelled_call_is_logged_as_cancelled(stderr: Callable[[], str]) -> None:
    setup_logging("info", "text")

    async def forever(call: Call) -> Any:
        await anyio.sleep_forever()

    chain = compose([log_call], forever)
    with anyio.move_on_after(0.01):
        await chain(call())
    assert stderr().rstrip().endswith("ms cancelled")


async def test_nothing_is_logged_or_timed_when_info_is_off(stderr: Callable[[], str]) -> None:
    setup_logging("warning", "text")
    await (await answer(types.CallToolResult(content=[])))(call())
    assert stderr() == ""


def test_cli_lines_follow_the_format(stderr: Callable[[], str]) -> None:
    setup_logging("info", "text")
    echo_lines(["plugbay: serving MCP over stdio", "warning: notes failed: gone"])
    assert stderr() == "plugbay: serving MCP over stdio\nwarning: notes failed: gone\n"
    setup_logging("info", "json")
    echo_lines(["plugbay: serving MCP over stdio", "warning: notes failed: gone"], "plugbay.banner")
    first, second = (json.loads(line) for line in stderr().splitlines())
    assert (first["level"], first["logger"], first["message"]) == (
        "INFO",
        "plugbay.banner",
        "serving MCP over stdio",
    )
    assert (second["level"], second["message"]) == ("WARNING", "notes failed: gone")
