"""TLS served by ``plugbay serve`` itself (``--ssl-certfile`` / ``[server] ssl_certfile``).

The certificate is made here, self-signed for ``127.0.0.1`` and ``localhost``, with the
``cryptography`` package; clients trust exactly it. The server is a real subprocess and
every connection goes to 127.0.0.1.
"""

from __future__ import annotations

import datetime
import ipaddress
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from plugbay.config import parse_config
from plugbay.tls import TlsError, tls_options
from plugbay_testing.fakes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

START_TIMEOUT = 30.0
"""Seconds the server may take to answer ``/healthz`` over HTTPS."""


@dataclass(frozen=True)
class Pair:
    """A self-signed certificate and its key, as PEM files."""

    cert: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate only."""
        return ssl.create_default_context(cafile=str(self.cert))


def _write_pair(folder: Path, password: bytes | None = None) -> Pair:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    pair = Pair(folder / "cert.pem", folder / "key.pem")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password is not None
        else serialization.NoEncryption()
    )
    pair.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return pair


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    return _write_pair(tmp_path / "tls")


@pytest.fixture
def env(e2e: Any, filesystem_plugin: str) -> dict[str, str]:
    return e2e.child_env([filesystem_plugin])


def _config(tmp_path: Path, server: str = "") -> Path:
    notes = tmp_path / "notes"
    notes.mkdir(exist_ok=True)
    (notes / "hello.md").write_text("hello\n")
    path = tmp_path / "plugbay.toml"
    path.write_text(f'{server}[connectors.notes]\nplugin = "filesystem"\nroots = ["{notes}"]\n')
    return path


@contextmanager
def _https_server(
    tmp_path: Path, env: dict[str, str], pair: Pair, *args: str
) -> Iterator[tuple[int, Path]]:
    """``plugbay serve <args>`` on a free port, until it answers ``/healthz`` over HTTPS."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    command = [sys.executable, "-m", "plugbay.cli", "serve", "--port", str(port), *args]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"plugbay serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                url = f"https://127.0.0.1:{port}/healthz"
                if httpx.get(url, verify=pair.context(), timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no HTTPS /healthz in {START_TIMEOUT} s:\n{log.read_text()}")
            time.sleep(0.05)
        yield port, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def _tool_names(port: int, pair: Pair) -> list[str]:
    http = httpx2.AsyncClient(verify=pair.context())
    client = Client(
        streamable_http_client(f"https://127.0.0.1:{port}/mcp", http_client=http), mode="legacy"
    )
    async with http, client:
        listed = await client.list_tools()
        read = await client.call_tool("notes_read_text_file", {"path": "hello.md"})
    assert not read.is_error
    return sorted(tool.name for tool in listed.tools)


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["one", "workers"])
async def test_serves_mcp_over_https_with_the_command_line_files(
    tmp_path: Path, env: dict[str, str], pair: Pair, workers: list[str]
) -> None:
    config = _config(tmp_path)
    flags = ["--ssl-certfile", str(pair.cert), "--ssl-keyfile", str(pair.key), *workers]
    with _https_server(tmp_path, env, pair, "--config", str(config), *flags) as (port, log):
        names = await _tool_names(port, pair)
        # Plain HTTP to the TLS port gets no HTTP answer: the handshake fails.
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5.0)
        # A client that does not trust the certificate is refused too.
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"https://127.0.0.1:{port}/healthz", timeout=5.0)
        output = log.read_text()
    assert "notes_read_text_file" in names
    assert f"https://127.0.0.1:{port}/mcp" in output
    assert "Traceback" not in output


async def test_the_config_files_are_relative_to_the_config_and_the_key_may_be_encrypted(
    tmp_path: Path, env: dict[str, str]
) -> None:
    pair = _write_pair(tmp_path / "site" / "tls", password=b"s3cret-pass")
    server = (
        '[server]\nssl_certfile = "tls/cert.pem"\nssl_keyfile = "tls/key.pem"\n'
        'ssl_keyfile_password = "${TLS_PASSWORD}"\n'
    )
    config = _config(tmp_path / "site", server)
    env = {**env, "TLS_PASSWORD": "s3cret-pass"}
    # The working directory is not the configuration's folder.
    with _https_server(tmp_path, env, pair, "--config", str(config)) as (port, log):
        assert "notes_read_text_file" in await _tool_names(port, pair)
    assert "s3cret-pass" not in log.read_text()


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("missing_key", "SSL key file {missing}: no such file"),
        ("key_only", "an SSL key file needs a certificate: set --ssl-certfile too"),
        ("wrong_key", "not a PEM certificate with its private key"),
    ],
)
def test_unusable_files_are_one_line_and_exit_1_before_binding(
    e2e: Any, tmp_path: Path, env: dict[str, str], pair: Pair, problem: str, message: str
) -> None:
    missing = tmp_path / "absent.pem"
    other = _write_pair(tmp_path / "other")
    flags = {
        "missing_key": ["--ssl-certfile", str(pair.cert), "--ssl-keyfile", str(missing)],
        "key_only": ["--ssl-keyfile", str(pair.key)],
        "wrong_key": ["--ssl-certfile", str(pair.cert), "--ssl-keyfile", str(other.key)],
    }[problem]
    port = free_port()
    args = ["serve", "--port", str(port), "--config", str(_config(tmp_path)), *flags]
    done = e2e.run_plugbay(args, cwd=tmp_path, env=env)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert message.format(missing=missing) in errors[0]
    assert "Traceback" not in done.stderr
    assert "Uvicorn running" not in done.stderr
    assert "startup complete" not in done.stderr.lower()


def test_a_wrong_key_password_is_refused_without_echoing_it(tmp_path: Path) -> None:
    pair = _write_pair(tmp_path / "tls", password=b"right-one")
    document = {
        "server": {
            "ssl_certfile": str(pair.cert),
            "ssl_keyfile": str(pair.key),
            "ssl_keyfile_password": "wrong-one",
        }
    }
    settings = parse_config(document, environ={}).server
    with pytest.raises(TlsError) as refused:
        tls_options(settings)
    assert "ssl_keyfile_password is wrong" in str(refused.value)
    assert "wrong-one" not in str(refused.value)
    assert "wrong-one" not in repr(settings)


def test_the_certificate_path_comes_from_the_environment_too(tmp_path: Path) -> None:
    pair = _write_pair(tmp_path / "tls")
    environ = {
        "PLUGBAY_SERVER__SSL_CERTFILE": str(pair.cert),
        "PLUGBAY_SERVER__SSL_KEYFILE": str(pair.key),
    }
    settings = parse_config({}, environ=environ, source=tmp_path / "plugbay.toml").server
    assert tls_options(settings) == {"ssl_certfile": str(pair.cert), "ssl_keyfile": str(pair.key)}


def test_stdio_refuses_the_tls_flags(
    e2e: Any, tmp_path: Path, env: dict[str, str], pair: Pair
) -> None:
    args = [
        "serve",
        "--stdio",
        "--config",
        str(_config(tmp_path)),
        "--ssl-certfile",
        str(pair.cert),
    ]
    done = e2e.run_plugbay(args, cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert "--ssl-certfile applies to HTTP" in done.stderr


def test_config_check_reports_an_unusable_certificate(
    e2e: Any, tmp_path: Path, env: dict[str, str], pair: Pair
) -> None:
    server = f'[server]\nssl_certfile = "{pair.cert}"\nssl_keyfile = "missing.pem"\n'
    config = _config(tmp_path, server)
    done = e2e.run_plugbay(["config", "check", "--config", str(config)], cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: SSL key file {tmp_path / 'missing.pem'}: no such file"
    ]
