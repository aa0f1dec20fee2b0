"""The fake's database name, users, API keys and access rights."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_DATABASE = "odoo18"
ADMIN_API_KEY = "5f1d0c3b9a8e7d6c5b4a39281706f5e4d3c2b1a0"
"""The administrator's API key (40 hex digits, like Odoo's 160-bit keys)."""
DEMO_API_KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
"""The restricted user's API key."""
SERVER_VERSION: dict[str, Any] = {
    "server_version": "18.0",
    "server_version_info": [18, 0, 0, "final", 0, ""],
    "server_serie": "18.0",
    "protocol_version": 1,
}
ALL_OPERATIONS = frozenset({"read", "write", "create", "unlink"})
DEMO_RIGHTS: dict[str, frozenset[str]] = {
    "res.partner": frozenset({"read", "write", "create"}),
    "res.users": frozenset({"read"}),
    "product.product": frozenset({"read"}),
    "sale.order": frozenset({"read", "write", "create"}),
    "sale.order.line": ALL_OPERATIONS,
    "crm.lead": frozenset({"read", "write", "create"}),
    "crm.stage": frozenset({"read"}),
    "crm.tag": frozenset({"read"}),
    "ir.model": frozenset({"read"}),
    "ir.model.fields": frozenset({"read"}),
}
"""What the restricted user (``demo``) may do: a salesperson, without accounting."""


@dataclass
class FakeUser:
    """A user of the fake: login, password, API keys and access rights."""

    uid: int
    login: str
    password: str
    api_keys: list[str] = field(default_factory=list)
    rights: dict[str, frozenset[str]] | None = None
    """Per-model operations; ``None`` for an administrator (everything)."""
    active: bool = True

    def accepts(self, secret: Any) -> bool:
        """Whether ``secret`` is this user's password or one of their API keys."""
        if not isinstance(secret, str) or not secret or not self.active:
            return False
        return secret == self.password or secret in self.api_keys
