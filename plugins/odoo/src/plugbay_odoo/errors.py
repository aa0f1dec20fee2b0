"""Odoo's faults, read from either protocol, and the tool errors they become.

XML-RPC (``/xmlrpc/2``) classifies an exception by its fault code: 4 for
``AccessError``, 3 for ``AccessDenied``, 2 for ``UserError`` and its subclasses
(``ValidationError``, ``MissingError``) with the bare message, and 1 for anything
else with the server's traceback as the text. JSON-RPC names the exception class in
``error.data.name``. Both become an :class:`OdooFault`, and then a
:class:`plugbay.ToolError` that says what happened and what to do about it, in
Odoo's own words where it has them, never with a traceback or a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from plugbay import ToolError, setting_variable

FaultKind = Literal[
    "access_denied",
    "access_error",
    "missing_error",
    "validation_error",
    "user_error",
    "application_error",
]

MAX_MESSAGE = 600
"""Characters of Odoo's message quoted in a tool error."""
_XMLRPC_CODES: dict[int, FaultKind] = {2: "user_error", 3: "access_denied", 4: "access_error"}
_EXCEPTION_LINE = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$", re.DOTALL)
_MISSING = "Record does not exist or has been deleted"


class OdooUnavailable(ToolError):
    """Odoo's answer is not one of its external API: the url points somewhere else."""


class OdooFault(Exception):
    """An error Odoo reported for a call.

    Attributes:
        kind: What sort of error, whatever the protocol.
        message: Odoo's message for it (for application errors: the exception's text).
        exception: The exception's name as Odoo gave it (``odoo.exceptions.AccessError``,
            ``ValueError``), when known.
    """

    def __init__(self, kind: FaultKind, message: str, exception: str = "") -> None:
        super().__init__(kind, message, exception)
        self.kind: FaultKind = kind
        self.message = message
        self.exception = exception

    def __str__(self) -> str:
        return f"{self.exception or self.kind}: {self.message}"


def kind_of(exception: str) -> FaultKind:
    """The kind of fault an exception name stands for."""
    short = exception.rsplit(".", 1)[-1]
    if short == "AccessDenied":
        return "access_denied"
    if short == "AccessError":
        return "access_error"
    if short == "MissingError":
        return "missing_error"
    if short == "ValidationError":
        return "validation_error"
    if short in ("UserError", "RedirectWarning", "Warning", "except_orm"):
        return "user_error"
    return "application_error"


def from_xmlrpc(code: Any, text: str) -> OdooFault:
    """The fault behind an XML-RPC ``Fault(faultCode, faultString)``."""
    text = text or ""
    if isinstance(code, int) and code in _XMLRPC_CODES:
        kind = _XMLRPC_CODES[code]
        if kind == "user_error" and text.startswith(_MISSING):
            kind = "missing_error"
        return OdooFault(kind, text.strip(), _EXCEPTION_NAMES[kind])
    if isinstance(code, str) and code:
        # The legacy /xmlrpc endpoint: "warning -- AccessError\n\n<message>", "AccessDenied".
        if code == "AccessDenied":
            return OdooFault("access_denied", text.strip() or "Access Denied", "AccessDenied")
        if code.startswith("warning -- "):
            head, _, message = code.partition("\n\n")
            name = head.removeprefix("warning -- ").strip()
            return OdooFault(kind_of(name), message.strip(), name)
        return OdooFault("application_error", code.strip(), "")
    name, message = last_exception(text)
    return OdooFault(kind_of(name) if name else "application_error", message, name)


def from_jsonrpc(error: Mapping[str, Any]) -> OdooFault:
    """The fault behind a JSON-RPC ``error`` object."""
    data = error.get("data")
    if isinstance(data, Mapping):
        name = str(data.get("name") or "")
        message = str(data.get("message") or error.get("message") or "")
        kind = kind_of(name) if name else "application_error"
        if kind == "user_error" and message.startswith(_MISSING):
            kind = "missing_error"
        return OdooFault(kind, message.strip(), name)
    return OdooFault("application_error", str(error.get("message") or error), "")


def last_exception(traceback_text: str) -> tuple[str, str]:
    """The exception's name and message from the end of a Python traceback.

    A message without a traceback is returned as it is, without a name.
    """
    text = traceback_text.strip()
    if "Traceback (most recent call last)" not in text:
        return "", text
    lines = text.splitlines()
    # Frames and their source lines are indented; the exception starts after the last.
    start = 0
    for index, line in enumerate(lines):
        if line.startswith((" ", "\t")):
            start = index + 1
    tail = "\n".join(lines[start:]).strip()
    match = _EXCEPTION_LINE.match(tail)
    if match is None:
        return "", tail
    return match.group("name"), (match.group("message") or "").strip()


_EXCEPTION_NAMES: dict[FaultKind, str] = {
    "access_denied": "odoo.exceptions.AccessDenied",
    "access_error": "odoo.exceptions.AccessError",
    "missing_error": "odoo.exceptions.MissingError",
    "validation_error": "odoo.exceptions.ValidationError",
    "user_error": "odoo.exceptions.UserError",
    "application_error": "",
}


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """What a tool error names: the instance, and who it acts as where."""

    instance: str
    username: str
    database: str
    secret: str
    """A value to scrub from every message (the API key)."""

    def scrub(self, text: str) -> str:
        """``text`` without the secret, cut to a readable length."""
        if self.secret:
            text = text.replace(self.secret, "[REDACTED]")
        text = text.strip()
        if len(text) > MAX_MESSAGE:
            text = text[: MAX_MESSAGE - 3].rstrip() + "..."
        return text


def tool_error(fault: OdooFault, call: str, context: ErrorContext) -> ToolError:
    """The tool error for ``fault``, raised by the call ``call`` (``res.partner.write``)."""
    message = context.scrub(fault.message)
    if fault.kind == "access_denied":
        variable = setting_variable(context.instance, "api_key")
        return ToolError(
            f"Odoo refused the credentials of user {context.username!r} on database "
            f"{context.database!r} (Access Denied). Check the username and api_key settings "
            f"of this instance ([connectors.{context.instance}] or {variable}); an API key "
            "may have expired or been revoked (Odoo: Preferences > Account Security)."
        )
    if fault.kind == "access_error":
        return ToolError(
            f"Odoo denied {call} to user {context.username!r}: {message} "
            "(Odoo's access rights for that user decide this, not plugbay.)"
        )
    if fault.kind == "missing_error" and call.endswith(".unlink"):
        # An unlink is retried after a lost answer; the lost attempt may have deleted them.
        return ToolError(
            f"Odoo could not find the records of {call}: {message} They may be deleted "
            "already (by an earlier attempt of this call whose answer was lost, or by "
            "someone else): search for them to see which remain."
        )
    if fault.kind == "missing_error":
        return ToolError(
            f"Odoo could not find the records of {call}: {message} "
            "Search for them again to get current ids."
        )
    if fault.kind in ("user_error", "validation_error"):
        return ToolError(f"Odoo refused {call}: {message}")
    name = fault.exception.rsplit(".", 1)[-1] if fault.exception else "an error"
    hint = ""
    if "does not exist" in message and "database" in message:
        hint = f" Check the database setting ({context.database!r})."
    elif name in ("TypeError", "AttributeError"):
        hint = " Check the method's arguments against the model ({tool:describe_model})."
    elif "Invalid field" in message or "Invalid leaf" in message:
        hint = " Check the field names with {tool:describe_model}."
    return ToolError(f"Odoo failed to run {call}: {name}: {message}{hint}")


def unknown_outcome_check(model: str, method: str) -> str:
    """How to find out whether a write ``model.method`` whose outcome is unknown took effect."""
    if method == "create":
        return (
            f"The {model} record may exist: {{tool:search_read}} {model} for it (by name or "
            "another field that identifies it) before creating it again."
        )
    return (
        f"Read the records {model}.{method} works on ({{tool:search_read}}) to see whether it took "
        "effect before calling it again."
    )
