"""The audit log: one JSON line per call, with secrets redacted and the outcome named."""

from __future__ import annotations

import contextlib
import json
import stat
from pathlib import Path
from typing import Any

import anyio
import pytest

import plugbay_guard
from plugbay import Call, CallRefused, Principal, ToolError
from plugbay.config import load_config
from plugbay_guard import AuditConfig, AuditLog, Redactor
from plugbay_testing.harness import build_assembly, serve

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl"


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_secrets_are_redacted_by_name_and_by_shape() -> None:
    redact = Redactor(["pin*"], max_chars=20)
    arguments = {
        "query": "acme",
        "password": "hunter2",
        "API_Key": "abc",
        "nested": {"client_secret": "s3", "items": [{"access_token": "t"}, JWT]},
        "header": "Bearer abc.def",
        "key": "pbk_" + "x" * 43,
        "pin_code": 1234,
        "long": "y" * 50,
        "count": 3,
        "flag": None,
    }
    assert redact(arguments) == {
        "query": "acme",
        "password": "[redacted]",
        "API_Key": "[redacted]",
        "nested": {
            "client_secret": "[redacted]",
            "items": [{"access_token": "[redacted]"}, "[redacted]"],
        },
        "header": "[redacted]",
        "key": "[redacted]",
        "pin_code": "[redacted]",
        "long": "y" * 20 + "... (50 characters)",
        "count": 3,
        "flag": None,
    }


def test_deep_values_are_cut_short() -> None:
    deep: Any = "bottom"
    for _ in range(12):
        deep = {"down": deep}
    flattened = json.dumps(Redactor([], 100)(deep))
    assert "bottom" not in flattened
    assert '"..."' in flattened


async def test_each_outcome_gets_its_line(tmp_path: Path) -> None:
    target = tmp_path / "audit" / "calls.jsonl"
    audit = AuditLog(AuditConfig(output=str(target)))
    alice = Principal(name="alice")

    async def answer(call: Call) -> str:
        return "fine"

    async def fail_plainly(call: Call) -> Any:
        raise ToolError("the record is locked; try later")

    async def refuse(call: Call) -> Any:
        raise CallRefused("not for you", outcome="denied")

    async def crash(call: Call) -> Any:
        raise RuntimeError("db password is hunter2")

    async def hang(call: Call) -> Any:
        await anyio.sleep_forever()

    for endpoint in (answer, fail_plainly, refuse, crash):
        call = Call(
            kind="tool",
            name="crm_update",
            arguments={"id": 7, "token": "t0k"},
            principal=alice,
            instance="crm",
        )
        with contextlib.suppress(Exception):
            await audit(call, endpoint)
    with anyio.move_on_after(0.05):
        await audit(Call(kind="resource", name="crm://crm/x", arguments={}), hang)

    records = lines(target)
    assert [(r["outcome"], r.get("error")) for r in records] == [
        ("ok", None),
        ("error", "the record is locked; try later"),
        ("denied", "not for you"),
        ("failed", "RuntimeError"),
        ("cancelled", None),
    ]
    first = records[0]
    assert first["principal"] == "alice"
    assert first["kind"] == "tool"
    assert first["name"] == "crm_update"
    assert first["instance"] == "crm"
    assert first["arguments"] == {"id": 7, "token": "[redacted]"}
    assert first["time"].endswith("Z")
    assert first["duration_ms"] >= 0
    assert first["trace_id"] is None
    assert records[-1]["principal"] == "local"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "hunter2" not in target.read_text()
    assert "t0k" not in target.read_text()


async def test_arguments_may_be_left_out_and_kinds_chosen(tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    audit = AuditLog(AuditConfig(output=str(target), include_arguments=False, kinds=["tool"]))

    async def answer(call: Call) -> str:
        return "fine"

    await audit(Call(kind="tool", name="t", arguments={"q": "x"}), answer)
    await audit(Call(kind="prompt", name="p", arguments={}), answer)
    (record,) = lines(target)
    assert record["name"] == "t"
    assert "arguments" not in record


async def test_a_tool_result_with_is_error_is_an_error(
    extras, capsys: pytest.CaptureFixture[str]
) -> None:
    def lookup(name: str) -> str:
        """Look a name up."""
        raise ToolError(f"no one called {name}")

    async with serve(
        plugbay_guard, extras(tools=[lookup]), config="[audit]\n", mode="legacy"
    ) as harness:
        result = await harness.call("lookup", name="zed")
    assert result.is_error
    record = json.loads(capsys.readouterr().out.strip())
    assert record["outcome"] == "error"
    assert record["error"] == "no one called zed"
    assert record["arguments"] == {"name": "zed"}
    assert record["request_id"] is not None


async def test_a_call_cut_off_by_its_timeout_is_a_timeout(extras, capsys) -> None:
    async def dawdle() -> str:
        """Take too long."""
        await anyio.sleep(5)
        return "late"

    plugin = extras(tools=[(dawdle, {"timeout": 0.05})])
    async with serve(plugbay_guard, plugin, config="[audit]\n", mode="legacy") as harness:
        result = await harness.call("dawdle")
    assert result.is_error
    record = json.loads(capsys.readouterr().out.strip())
    assert record["outcome"] == "timeout"
    assert "did not finish within 0.05 seconds" in record["error"]


async def test_a_refusal_of_the_admit_stage_is_audited(extras, capsys) -> None:
    def lookup(name: str) -> str:
        """Look a name up."""
        return name

    config = '[audit]\n[limits]\nper_principal = "1/hour"\n'
    async with serve(plugbay_guard, extras(tools=[lookup]), config=config) as harness:
        assert not (await harness.call("lookup", name="a")).is_error
        assert (await harness.call("lookup", name="b")).is_error
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (first["outcome"], second["outcome"]) == ("ok", "rate_limited")
    assert second["error"].startswith("Rate limit reached: local may make calls 1 time per hour")


def test_the_audit_log_is_on_only_when_its_table_is(build, extras) -> None:
    def layers(config: str | None) -> list[type]:
        return [type(layer) for layer in build(extras(), config=config).middleware]

    assert AuditLog not in layers(None)
    assert AuditLog in layers("[audit]\n")
    assert AuditLog not in layers("[audit]\nenabled = false\n")


def test_a_relative_audit_file_starts_from_the_configuration_folder(tmp_path: Path) -> None:
    path = tmp_path / "plugbay.toml"
    path.write_text('[audit]\noutput = "logs/audit.jsonl"\n', encoding="utf-8")
    assembly = build_assembly(plugbay_guard, config=load_config(path, environ={}))
    assert assembly.config.table("audit").output == str(tmp_path / "logs" / "audit.jsonl")


async def test_the_line_carries_the_trace_of_the_call(tmp_path: Path) -> None:
    from opentelemetry import trace

    target = tmp_path / "audit.jsonl"
    audit = AuditLog(AuditConfig(output=str(target)))
    context = trace.SpanContext(
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736, span_id=0x00F067AA0BA902B7, is_remote=False
    )

    async def answer(call: Call) -> str:
        return "fine"

    # What plugbay-telemetry's span (or any OpenTelemetry span around the call) makes current.
    with trace.use_span(trace.NonRecordingSpan(context)):
        await audit(Call(kind="tool", name="t", arguments={}), answer)
    (record,) = lines(target)
    assert record["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
