"""``python -m plugbay_copper.fake``: a real process serving the fake, with settings that work."""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator

import httpx
import pytest

from plugbay_testing.fakes import free_port

COMMAND = [sys.executable, "-m", "plugbay_copper.fake"]


def _settings(process: subprocess.Popen[str]) -> dict[str, str]:
    """The ``[connectors.copper]`` table the command prints before serving."""
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("base_url"):
        line = process.stdout.readline()
        assert line, f"the command stopped early after printing {lines!r}"
        lines.append(line)
    table = tomllib.loads("".join(line for line in lines if " on http" not in line))
    settings: dict[str, str] = table["connectors"]["copper"]
    return settings


@pytest.fixture
def served() -> Iterator[dict[str, str]]:
    port = free_port()
    process = subprocess.Popen([*COMMAND, "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        settings = _settings(process)
        assert settings["base_url"] == f"http://127.0.0.1:{port}/developer_api/v1"
        yield settings
    finally:
        process.terminate()
        process.wait(10)


def test_the_printed_settings_reach_the_fake(served: dict[str, str]) -> None:
    headers = {
        "X-PW-AccessToken": served["api_key"],
        "X-PW-Application": "developer_api",
        "X-PW-UserEmail": served["user_email"],
    }
    deadline = time.monotonic() + 15  # uvicorn binds just after the settings are printed
    while True:
        try:
            response = httpx.get(served["base_url"] + "/account", headers=headers, timeout=5)
            break
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    assert response.status_code == 200
    assert response.json()["name"] == "Plugbay Test Co"
    assert served["plugin"] == "copper"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.com"])
def test_only_loopback_addresses_are_served(host: str) -> None:
    finished = subprocess.run(
        [*COMMAND, "--port", "8765", "--host", host], capture_output=True, text=True, timeout=30
    )
    assert finished.returncode == 2
    assert f"{host} is not a loopback address" in finished.stderr
    assert finished.stdout == ""
