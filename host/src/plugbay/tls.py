"""TLS served by plugbay itself: ``--ssl-certfile`` / ``--ssl-keyfile`` and ``[server]``.

The files are checked before the port is bound, by loading them the way uvicorn will,
so a missing, unreadable or mismatched certificate is one clear line and exit 1
rather than a traceback after the server has claimed its address.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from plugbay.config import ServerConfig

F = TypeVar("F", bound=Callable[..., Any])


class TlsError(Exception):
    """The certificate or key cannot be served with; the message says why."""


def tls_options(
    settings: ServerConfig, certfile: Path | None = None, keyfile: Path | None = None
) -> dict[str, Any]:
    """The uvicorn ``ssl_*`` options, checked; empty when TLS is not configured.

    Args:
        settings: The ``[server]`` table (``ssl_certfile``, ``ssl_keyfile``,
            ``ssl_keyfile_password``).
        certfile: ``--ssl-certfile``, which wins over the table's.
        keyfile: ``--ssl-keyfile``, which wins over the table's.

    Raises:
        TlsError: A key without a certificate, or files that cannot be loaded.
    """
    cert = certfile if certfile is not None else settings.ssl_certfile
    key = keyfile if keyfile is not None else settings.ssl_keyfile
    secret = settings.ssl_keyfile_password
    password = secret.get_secret_value() if secret is not None else None
    if cert is None:
        if key is not None:
            raise TlsError("an SSL key file needs a certificate: set --ssl-certfile too")
        return {}
    cert, key = cert.absolute(), key.absolute() if key is not None else None
    for label, path in (("certificate", cert), ("key", key)):
        if path is not None and not path.is_file():
            raise TlsError(f"SSL {label} file {path}: no such file")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key, password)
    except PermissionError as error:
        raise TlsError(f"SSL file {error.filename or cert}: cannot read it") from None
    except (ssl.SSLError, OSError, ValueError):
        # The library's reason ("[SSL] PEM lib") says nothing useful, and a password
        # must not be echoed: name the files and the usual causes instead.
        where = f"{cert} and {key}" if key is not None else str(cert)
        raise TlsError(
            f"SSL certificate {where}: not a PEM certificate with its private key "
            "(or the key does not match it, or ssl_keyfile_password is wrong)"
        ) from None
    options: dict[str, Any] = {"ssl_certfile": str(cert)}
    if key is not None:
        options["ssl_keyfile"] = str(key)
    if password is not None:
        options["ssl_keyfile_password"] = password
    return options


def tls_problems(settings: ServerConfig) -> list[str]:
    """What :func:`tls_options` would refuse in ``[server]``, for ``plugbay config check``."""
    try:
        tls_options(settings)
    except TlsError as error:
        return [str(error)]
    return []


_META_KEY = "plugbay.tls"


def _remember(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None and param.name is not None:
        ctx.meta.setdefault(_META_KEY, {})[param.name] = value


def tls_option(command: F) -> F:
    """``--ssl-certfile`` and ``--ssl-keyfile``, read back by :func:`checked_tls`."""
    path = click.Path(dir_okay=False, path_type=Path)
    for name, text in (
        ("--ssl-keyfile", "PEM private key of --ssl-certfile (default [server] ssl_keyfile)."),
        (
            "--ssl-certfile",
            "Serve HTTPS with this PEM certificate (default [server] ssl_certfile).",
        ),
    ):
        command = click.option(name, type=path, expose_value=False, callback=_remember, help=text)(
            command
        )
    return command


def checked_tls(settings: ServerConfig, *, stdio: bool) -> dict[str, Any]:
    """:func:`tls_options` for ``plugbay serve``'s options: on a problem, one line and exit 1.

    Call it before the port is bound.
    """
    given = click.get_current_context().meta.get(_META_KEY, {})
    if stdio:  # [server]'s files are for HTTP; only asking for TLS on stdio is a mistake
        if given:
            raise click.UsageError("--ssl-certfile applies to HTTP; stdio has no TLS")
        return {}
    try:
        options = tls_options(settings, given.get("ssl_certfile"), given.get("ssl_keyfile"))
    except TlsError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
    return options


def tls_url(url: str, options: dict[str, Any]) -> str:
    """``url`` with ``https`` when ``options`` (from :func:`checked_tls`) turn TLS on."""
    return "https" + url.removeprefix("http") if options else url
