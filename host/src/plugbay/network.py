"""Network addresses: loopback checks and ``host[:port]`` parsing, for the host and plugins."""

from __future__ import annotations

import contextlib
import ipaddress
import re

_PORT = re.compile(r"\d{1,5}")
_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (``localhost`` or an IP address) is a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_authority(value: str) -> tuple[str, int | None] | None:
    """``host[:port]`` as a lower-case name (IP addresses normalised) and a port.

    ``None`` when it is not one: a name of other than letters, digits, ``-``, ``_`` and
    dots between them, a port that is not 1 to 5 digits up to 65535, an unbracketed
    IPv6 address, anything after the port.
    """
    port: int | None = None
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket:
            return None
        try:
            name = str(ipaddress.IPv6Address(name))
        except ValueError:
            return None
    else:
        name, colon, rest = value.partition(":")
        rest = colon + rest
        if not _NAME.fullmatch(name):
            return None
    if rest:
        if not rest.startswith(":") or not _PORT.fullmatch(rest[1:]):
            return None
        port = int(rest[1:])
        if port > 65535:
            return None
    name = name.lower()
    with contextlib.suppress(ValueError):  # a name, not an address
        name = str(ipaddress.ip_address(name))
    return name, port
