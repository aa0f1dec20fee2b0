"""``python -m plugbay_odoo.fake``: a real process serving the fake, printing settings that work."""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
import xmlrpc.client
from collections.abc import Iterator
from typing import Any

import pytest

from plugbay_odoo.fake import ADMIN_API_KEY, DEMO_API_KEY
from plugbay_testing.fakes import free_port

COMMAND = [sys.executable, "-m", "plugbay_odoo.fake"]


def _printed_table(process: subprocess.Popen[str]) -> dict[str, str]:
    """The ``[connectors.odoo]`` table the command prints before serving."""
    assert process.stdout is not None
    printed: list[str] = []
    while not printed or not printed[-1].startswith("api_key"):
        line = process.stdout.readline()
        assert line, f"the command stopped early after printing {printed!r}"
        printed.append(line)
    table: dict[str, str] = tomllib.loads("".join(printed[1:]))["connectors"]["odoo"]
    return table


@pytest.fixture(params=["admin", "demo"])
def served(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    port = free_port()
    argv = [*COMMAND, "--port", str(port), "--login", request.param]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        table = _printed_table(process)
        assert table["url"] == f"http://127.0.0.1:{port}"
        assert table["username"] == request.param
        yield table
    finally:
        process.terminate()
        process.wait(10)


def _authenticate(table: dict[str, str]) -> Any:
    common = xmlrpc.client.ServerProxy(table["url"] + "/xmlrpc/2/common")
    deadline = time.monotonic() + 15  # uvicorn binds just after the settings are printed
    while True:
        try:
            return common.authenticate(table["database"], table["username"], table["api_key"], {})
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_the_printed_settings_log_in(served: dict[str, str]) -> None:
    expected = {"admin": (2, ADMIN_API_KEY), "demo": (6, DEMO_API_KEY)}[served["username"]]
    assert (_authenticate(served), served["api_key"]) == expected
    assert served["plugin"] == "odoo"


def test_only_loopback_addresses_are_served() -> None:
    finished = subprocess.run(
        [*COMMAND, "--port", "8069", "--host", "10.1.2.3"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert finished.returncode == 2
    assert "10.1.2.3 is not a loopback address" in finished.stderr
