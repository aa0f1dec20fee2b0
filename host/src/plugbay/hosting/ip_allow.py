"""Client address allow-lists: ``[policy] ip_allow``.

Checked on every HTTP request to the MCP endpoints before authentication, so a
caller from elsewhere learns nothing, not even which credentials would work.
Behind a reverse proxy the address is the one the proxy reports in
``X-Forwarded-For``, when the proxy is listed in ``[server] trusted_proxies``; from
anyone else (the loopback included) that header is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network

from plugbay.network import is_loopback

__all__ = ["ClientAllowList", "is_loopback"]


class ClientAllowList:
    """Decides whether a client address may connect.

    Args:
        networks: The networks allowed; a single address is a network of one.
    """

    def __init__(self, networks: Iterable[IPv4Network | IPv6Network]) -> None:
        self.networks = tuple(networks)
        self._seen: dict[str, bool] = {}

    def allows(self, host: str | None) -> bool:
        """Whether ``host`` (the client's IP address) is in one of the networks."""
        if host is None:
            return False
        verdict = self._seen.get(host)
        if verdict is None:
            verdict = self._check(host)
            if len(self._seen) >= 10_000:
                self._seen.clear()
            self._seen[host] = verdict
        return verdict

    def _check(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:10.0.0.1 on a dual-stack socket
        return any(address in network for network in self.networks)
