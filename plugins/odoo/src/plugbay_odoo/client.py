"""`OdooClient`: one authenticated session with an Odoo database, and errors a person can act on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from plugbay import ToolError
from plugbay_odoo.errors import ErrorContext, OdooFault, tool_error, unknown_outcome_check
from plugbay_odoo.transport import OdooTransport


class OdooClient:
    """Calls Odoo as the instance's user through one :class:`OdooTransport`.

    The transport authenticates once and keeps the user id; this class adds the
    instance's context to every call and turns Odoo's faults into tool errors.

    Args:
        transport: The protocol to speak.
        errors: What error messages name (and the secret they must never contain).
        context: Context sent with every call (``lang``, ``tz``...).
    """

    def __init__(
        self,
        transport: OdooTransport,
        errors: ErrorContext,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.transport = transport
        self.errors = errors
        self.context = dict(context or {})
        self.server_version: dict[str, Any] = {}

    @property
    def uid(self) -> int | None:
        """The user id, once authenticated."""
        return self.transport.uid

    async def start(self) -> None:
        """Open the connections, ask for the server's version, then authenticate.

        Raises:
            ToolError: Odoo is unreachable or refuses the credentials.
        """
        await self.transport.start()
        self.server_version = await self.version()
        try:
            await self.transport.authenticate()
        except OdooFault as fault:
            raise tool_error(fault, "authenticate", self.errors) from None

    async def version(self) -> dict[str, Any]:
        """``common.version()``: the server's version information."""
        try:
            return await self.transport.version()
        except OdooFault as fault:
            raise tool_error(fault, "version", self.errors) from None

    async def execute(
        self,
        model: str,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        idempotent: bool,
    ) -> Any:
        """Call ``model.method`` with ``args`` and ``kwargs``, plus the instance's context.

        Raises:
            ToolError: Odoo reported an error or could not be reached; for a call that
                is not ``idempotent`` whose outcome is unknown (a 5xx, a lost or
                unreadable answer), the message says it may have been carried out
                and how to check, and the call is not sent again.
        """
        options = dict(kwargs or {})
        if self.context:
            options["context"] = {**self.context, **options.get("context", {})}
        check = None if idempotent else unknown_outcome_check(model, method)
        try:
            return await self.transport.execute_kw(
                model, method, args, options, idempotent=idempotent, check=check
            )
        except OdooFault as fault:
            raise tool_error(fault, f"{model}.{method}", self.errors) from None
        except ToolError as error:
            # Transport errors carry no secret, but a proxy's page could echo one back.
            raise ToolError(self.errors.scrub(str(error))) from None

    async def aclose(self) -> None:
        """Close the connections."""
        await self.transport.aclose()
