"""Access control in plugbay itself: the models an instance may use, the fields it hides.

Odoo applies its own access rights to the user the instance acts as; this policy is
a second, narrower gate that needs nothing installed in Odoo: a model is usable only
when the ``models`` setting grants it (by name, or through ``"*"``), and sensitive
fields (passwords, tokens, keys, secrets, and the operator's ``hidden_fields``) are
never read, written, searched, sorted or grouped on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from plugbay import ToolError
from plugbay_odoo.settings import ALL_MODELS, PERMISSIONS

SENSITIVE_MODELS = frozenset(
    {
        "res.users.apikeys",
        "res.users.apikeys.description",
        "res.users.apikeys.show",
        "res.users.identitycheck",
        "res.users.deletion",
        "auth_totp.device",
        "auth_totp.wizard",
        "ir.config_parameter",
        "ir.mail_server",
        "fetchmail.server",
        "iap.account",
        "payment.provider",
        "auth.oauth.provider",
        "base.module.update",
        "base.module.upgrade",
        "ir.module.module",
        "res.users.settings",
    }
)
"""Models that hold credentials or change the server: ``"*"`` never covers them."""

SENSITIVE_PARTS = frozenset(
    {
        "password", "passwd", "pwd", "pass", "secret", "secrets", "token", "tokens",
        "apikey", "apikeys", "key", "keys", "credential", "credentials", "otp", "totp",
        "salt", "pin",
    }
)  # fmt: skip
"""Words that make a field sensitive wherever they appear in its name (``signup_token``)."""

VERBS = {"read": "read", "write": "modify", "create": "create", "unlink": "delete"}


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def is_sensitive_name(field: str) -> bool:
    """Whether a field's name says it holds a credential (``password``, ``api_key_ids``)."""
    parts = field.lower().split("_")
    return any(part in SENSITIVE_PARTS for part in parts)


class AccessPolicy:
    """What one instance may do with each model, and which fields it hides.

    Args:
        models: The ``models`` setting: rights by model name, ``"*"`` for the rest.
        hidden_fields: Extra fields to hide: ``"field"`` everywhere, ``"model.field"``.
        instance: The instance's name, for messages.
    """

    def __init__(
        self,
        models: Mapping[str, Sequence[str]],
        hidden_fields: Iterable[str],
        instance: str,
    ) -> None:
        self.instance = instance
        self._models = {name: frozenset(rights) for name, rights in models.items()}
        self._default = self._models.pop(ALL_MODELS, frozenset())
        self._listed = sorted(self._models)  # read in loops over every model: sorted once
        self._hidden_everywhere: set[str] = set()
        self._hidden: set[tuple[str, str]] = set()
        for entry in hidden_fields:
            model, _, field = entry.rpartition(".")
            if model:
                self._hidden.add((model, field))
            else:
                self._hidden_everywhere.add(field)

    @property
    def listed(self) -> list[str]:
        """The models granted by name, in order."""
        return self._listed

    def permissions(self, model: str) -> frozenset[str]:
        """The rights this instance has on ``model`` (empty: none)."""
        if model in self._models:
            return self._models[model]
        if model in SENSITIVE_MODELS:
            return frozenset()
        return self._default

    def allows(self, model: str, operation: str) -> bool:
        """Whether ``operation`` (read, write, create, unlink) is granted on ``model``."""
        return operation in self.permissions(model)

    def visible(self, model: str) -> bool:
        """Whether the instance may use ``model`` at all."""
        return bool(self.permissions(model))

    def require(self, model: str, operation: str, *, reason: str = "") -> None:
        """Raise a :class:`ToolError` saying how to allow ``operation`` unless it is granted.

        Args:
            model: The model.
            operation: read, write, create or unlink.
            reason: Why the model is involved, when it is not the one called
                ("the domain follows partner_id into it").
        """
        if self.allows(model, operation):
            return
        granted = self.permissions(model)
        table = f"[connectors.{self.instance}.models]"
        why = f" ({reason})" if reason else ""
        if granted:
            have = _and([VERBS[right] for right in PERMISSIONS if right in granted])
            rights = sorted({*granted, operation}, key=PERMISSIONS.index)
            entry = ", ".join(f'"{right}"' for right in rights)
            raise ToolError(
                f"This instance may not {VERBS[operation]} {model} records{why}: it may only "
                f"{have} them. An operator can allow it with "
                f'"{model}" = [{entry}] under {table}.'
            )
        if model in SENSITIVE_MODELS and self._default:
            raise ToolError(
                f'{model} holds credentials or server settings, so this instance\'s "*" '
                f"entry does not cover it{why}. An operator can list it by name under {table} "
                "if it really must be reachable."
            )
        raise ToolError(
            f"This instance may not use the model {model}{why}: its models setting does not "
            f'list it. An operator can add "{model}" = ["{operation}"] under {table}.'
        )

    def is_hidden(self, model: str, field: str) -> bool:
        """Whether ``field`` of ``model`` is sensitive or hidden by the operator."""
        return (
            field in self._hidden_everywhere
            or (model, field) in self._hidden
            or is_sensitive_name(field)
        )
