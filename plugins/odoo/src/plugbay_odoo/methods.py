"""The tool that runs business methods (``action_confirm`` and the like), when allowed.

A business method can do anything its model's code does, so the access policy's
read/write/create/unlink rights say nothing about it: only the ``model.method`` pairs
an operator lists in ``allow_methods`` can run.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from plugbay import ToolError, tool
from plugbay_odoo.arguments import ModelArgument
from plugbay_odoo.instance import OdooInstance
from plugbay_odoo.results import MethodResult


class BusinessMethods(OdooInstance):
    """``call_method``."""

    @tool(
        read_only=False, destructive=True, idempotent=False, open_world=False, title="Call a method"
    )
    async def call_method(
        self,
        model: ModelArgument,
        method: Annotated[
            str,
            Field(
                min_length=1,
                max_length=128,
                pattern=r"^[A-Za-z]\w*$",
                description="The business method, e.g. action_confirm (on sale.order).",
            ),
        ],
        ids: Annotated[
            list[Annotated[int, Field(ge=1)]] | None,
            Field(description="The records to call it on; omitted for model-level methods."),
        ] = None,
        args: Annotated[
            list[Any] | None, Field(description="Further positional arguments, if any.")
        ] = None,
        kwargs: Annotated[
            dict[str, Any] | None, Field(description="Keyword arguments, if any.")
        ] = None,
    ) -> MethodResult:
        """Run a business method such as sale.order action_confirm, if the operator allows it.

        Only the model.method pairs in the instance's allow_methods setting can run.
        """
        allowed = self.settings.allow_methods
        entry = f"{model}.{method}"
        if not allowed:
            raise ToolError(
                "call_method is off on this instance. An operator can enable chosen methods "
                f'with allow_methods = ["{entry}"] under [connectors.{self.instance}].'
            )
        if entry not in allowed:
            raise ToolError(
                f"{entry} is not one of the methods this instance may call "
                f"({', '.join(allowed)}). An operator can add it to allow_methods under "
                f"[connectors.{self.instance}]."
            )
        unique = self._check_ids(ids) if ids else []
        call_args: list[Any] = [unique] if ids else []
        call_args += list(args or [])
        result = await self.client.execute(
            model, method, call_args, dict(kwargs or {}), idempotent=False
        )
        return {"model": model, "method": method, "ids": unique, "result": result}
