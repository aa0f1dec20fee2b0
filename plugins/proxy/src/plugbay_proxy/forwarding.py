"""Forwarding calls to an upstream: tools, resources, prompts and completions.

A call goes out on the lean HTTP path (:mod:`plugbay_proxy.fastpath`) when the
connection has one and the tool does not need the SDK, otherwise through the MCP
SDK's session. Either way the caller's progress and log messages come back to it.

A call that fails on the wire does not by itself say the upstream is down: one
response stream can break while the server and its session are fine. The
connection is probed at once; only when the probe fails too is it reported as
lost, so that the supervisor reconnects while the caller gets a message that
names the upstream. Transport failures of the SDK client's own streams (the stdio
process exited, its write stream broke) mark it lost directly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

import anyio
import mcp_types as types
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import TypeAdapter, ValidationError

from plugbay import Context, ToolError
from plugbay.redaction import redact_text
from plugbay_proxy.asking import MAX_INPUT_ROUNDS, UpstreamQuestions, Waiting, wire
from plugbay_proxy.errors import UpstreamUnavailable, describe_error
from plugbay_proxy.fastpath import FastPathUnsupported, HttpToolCaller, UpstreamGone
from plugbay_proxy.state import CLOSE_TIMEOUT

# The logger the upstream has always used, so that operators' logging settings still apply.
logger = logging.getLogger("plugbay_proxy.upstream")

_CALL_RESULT: TypeAdapter[types.CallToolResult | types.InputRequiredResult] = TypeAdapter(
    types.CallToolResult | types.InputRequiredResult
)
_READ_RESULT: TypeAdapter[types.ReadResourceResult | types.InputRequiredResult] = TypeAdapter(
    types.ReadResourceResult | types.InputRequiredResult
)
_PROMPT_RESULT: TypeAdapter[types.GetPromptResult | types.InputRequiredResult] = TypeAdapter(
    types.GetPromptResult | types.InputRequiredResult
)
_PYTHON_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": logging.CRITICAL,
    "emergency": logging.CRITICAL,
}


class RequestForwarding(UpstreamQuestions):
    """Sends callers' requests upstream and brings back their results, progress and logs."""

    # -- log messages from the upstream --------------------------------------------

    async def _on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        await self._deliver_log(params, list(self._in_flight))

    async def _deliver_log(
        self, params: types.LoggingMessageNotificationParams, callers: list[Context]
    ) -> None:
        """Write an upstream log message to plugbay's log, and pass it on to ``callers``."""
        self._log.log(
            _PYTHON_LEVELS.get(params.level, logging.INFO),
            "%s%s",
            f"[{params.logger}] " if params.logger else "",
            params.data,
        )
        if not self.settings.forward_logs:
            return
        for context in callers:
            try:
                await context.log(params.level, params.data, logger=params.logger or self.name)
            except Exception:
                logger.debug("could not forward a log message of %s", self.name, exc_info=True)

    # -- requests ------------------------------------------------------------------

    def _ready_client(self) -> Client:
        client = self._client
        if client is None or self.phase != "ready":
            raise UpstreamUnavailable(self.unavailable())
        return client

    async def _request(self, request: Any, result_type: Any, context: Context | None) -> Any:
        """Send one request upstream, translating connection failures."""
        client = self._ready_client()
        progress = context.report_progress if context is not None else None
        waiting = Waiting()
        if context is not None:
            self._in_flight.add(context)
            self._waiting[context] = waiting
        try:
            with waiting.scope:
                result = await client.session.send_request(
                    request, result_type, progress_callback=progress
                )
            if waiting.ending is not None:
                # An upstream's question must first go to this 2026-07-28 caller.
                raise waiting.ending
            return result
        except MCPError as error:
            if error.error.code == types.CONNECTION_CLOSED:
                # The SDK's word for a response stream that ended without an answer,
                # as well as for a transport that closed: the probe tells them apart.
                reason = f"it closed the connection during the request ({error.error.message})"
                raise await self._call_failed(reason) from None
            raise
        except ValidationError:
            raise UpstreamUnavailable(
                f"upstream {self.name!r} answered with a result that is not valid MCP"
            ) from None
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as error:
            self._connection_lost(describe_error(error))
            raise UpstreamUnavailable(
                f"upstream {self.name!r} ({self.settings.target}) could not be reached: "
                f"{describe_error(error)}; plugbay is reconnecting"
            ) from None
        finally:
            if context is not None:
                self._in_flight.discard(context)
                self._waiting.pop(context, None)

    async def _interactive(self, make: Any, result_type: Any, context: Context) -> Any:
        """Send ``make(responses, state)`` until the result is not a question (2026-07-28).

        A 2026-07-28 upstream answers with ``input_required`` when it needs the
        caller's client first; the caller is asked, and the request goes again with
        the answers and the upstream's ``requestState``.
        """
        responses: dict[str, Any] | None = None
        state: str | None = None
        for _ in range(MAX_INPUT_ROUNDS):
            result = await self._request(make(responses, state), result_type, context)
            if not isinstance(result, types.InputRequiredResult):
                return result
            responses = dict(await self._answers(context, result.input_requests or {}))
            state = result.request_state
        raise ToolError(
            f"upstream {self.name!r} asked for input {MAX_INPUT_ROUNDS} times in one "
            "request; plugbay gave up"
        )

    async def call_tool(
        self, name: str, arguments: Mapping[str, Any], context: Context
    ) -> types.CallToolResult:
        """Call an upstream tool; its progress and log messages go to ``context``.

        Raises:
            UpstreamUnavailable: The upstream is down or went away during the call.
            MCPError: The upstream answered with a JSON-RPC error.
        """
        fast = self._fast
        if fast is not None and self.phase == "ready" and name not in self._sdk_tools:
            try:
                return await self._fast_call(fast, name, arguments, context)
            except FastPathUnsupported as error:
                logger.warning(
                    "upstream %s: %s; its tool calls go through the MCP SDK from now on",
                    self.name,
                    error,
                )
                self._fast = None

        def request(responses: dict[str, Any] | None, state: str | None) -> Any:
            return types.CallToolRequest(
                params=types.CallToolRequestParams(
                    name=name,
                    arguments=dict(arguments),
                    input_responses=responses,
                    request_state=state,
                )
            )

        result = await self._interactive(request, _CALL_RESULT, context)
        return cast(types.CallToolResult, result)

    async def _fast_call(
        self,
        fast: HttpToolCaller,
        name: str,
        arguments: Mapping[str, Any],
        context: Context,
    ) -> types.CallToolResult:
        request_id = fast.request_id()

        async def on_notification(method: str, params: Mapping[str, Any]) -> None:
            # What the upstream sends on this call's own stream belongs to this call.
            if method == "notifications/progress":
                if params.get("progressToken") == request_id:
                    await context.report_progress(
                        params.get("progress", 0), params.get("total"), params.get("message")
                    )
            elif method == "notifications/message":
                try:
                    log = types.LoggingMessageNotificationParams.model_validate(params)
                except ValidationError:
                    return
                await self._deliver_log(log, [context])
            elif method.endswith("/list_changed"):
                self._request_relisting()
            elif method == "notifications/resources/updated" and "uri" in params:
                await self._relay_update(str(params["uri"]))

        async def on_request(message: Mapping[str, Any]) -> dict[str, Any]:
            return await self._answer_message(context, message)

        responses: dict[str, Any] | None = None
        state: str | None = None
        for _ in range(MAX_INPUT_ROUNDS):
            result = await self._fast_round(
                fast, request_id, name, arguments, on_notification, on_request, responses, state
            )
            if not isinstance(result, types.InputRequiredResult):
                return result
            answers = await self._answers(context, result.input_requests or {})
            responses = {key: wire(answer) for key, answer in answers.items()}
            state = result.request_state
            request_id = fast.request_id()
        raise ToolError(
            f"upstream {self.name!r} asked for input {MAX_INPUT_ROUNDS} times in one call; "
            "plugbay gave up"
        )

    async def _fast_round(
        self,
        fast: HttpToolCaller,
        request_id: str,
        name: str,
        arguments: Mapping[str, Any],
        on_notification: Any,
        on_request: Any,
        responses: dict[str, Any] | None,
        state: str | None,
    ) -> types.CallToolResult | types.InputRequiredResult:
        try:
            raw = await fast.call_tool(
                request_id,
                name,
                arguments,
                on_notification,
                on_request,
                input_responses=responses,
                request_state=state,
            )
        except UpstreamGone as error:
            raise await self._call_failed(redact_text(str(error))) from None
        except BaseException as error:
            # Cancelled, or ended to ask a 2026-07-28 caller first: the upstream call
            # is abandoned (a 2026-07-28 upstream learns it from the closed connection).
            if not isinstance(error, Exception) and not fast.modern:
                await self._cancel_upstream(request_id)
            raise
        try:
            return _CALL_RESULT.validate_python(raw, by_name=False)
        except ValidationError:
            raise UpstreamUnavailable(
                f"upstream {self.name!r} answered with a result that is not valid MCP"
            ) from None

    async def _call_failed(self, reason: str) -> ToolError:
        """The error for a call that failed on the wire, once a probe has judged the connection.

        When the upstream still answers, only this call is lost (it may or may not have
        run there); otherwise the connection is given up and the supervisor reconnects.
        """
        where = f"upstream {self.name!r} ({self.settings.target})"
        if await self.probe():
            return ToolError(
                f"the call to {where} failed: {reason}. The upstream is still connected, "
                "so the call may have run there; check before trying it again"
            )
        return UpstreamUnavailable(
            f"{where} could not be reached: {reason}; plugbay is reconnecting"
        )

    async def probe(self) -> bool:
        """Whether the upstream answers a health probe now; a failed probe loses the connection.

        The probe is ``ping`` (``server/discover`` on 2026-07-28) through the SDK client,
        within ``connect_timeout``.
        """
        client = self._client
        if client is None or self.phase != "ready":
            return False
        session = client.session
        try:
            with anyio.fail_after(self.settings.connect_timeout):
                if client.protocol_version in MODERN_PROTOCOL_VERSIONS:
                    await session.send_discover(client.protocol_version)
                else:
                    await session.send_ping()
        except Exception as error:
            self._connection_lost(f"failed a health probe: {describe_error(error)}")
            return False
        return True

    async def _cancel_upstream(self, request_id: str) -> None:
        """Tell a handshake-era upstream that a fast-path call was abandoned."""
        client = self._client
        if client is None:
            return
        notification = types.CancelledNotification(
            params=types.CancelledNotificationParams(
                request_id=request_id, reason="the caller cancelled"
            )
        )
        with anyio.CancelScope(shield=True), anyio.move_on_after(CLOSE_TIMEOUT):
            try:
                await client.session.send_notification(notification)
            except Exception:
                logger.debug("could not send a cancellation to %s", self.name, exc_info=True)

    async def read_resource(self, uri: str, context: Context) -> types.ReadResourceResult:
        """Read an upstream resource."""

        def request(responses: dict[str, Any] | None, state: str | None) -> Any:
            return types.ReadResourceRequest(
                params=types.ReadResourceRequestParams(
                    uri=uri, input_responses=responses, request_state=state
                )
            )

        result: types.ReadResourceResult = await self._interactive(request, _READ_RESULT, context)
        return result

    async def get_prompt(
        self, name: str, arguments: Mapping[str, str], context: Context
    ) -> types.GetPromptResult:
        """Render an upstream prompt."""

        def request(responses: dict[str, Any] | None, state: str | None) -> Any:
            return types.GetPromptRequest(
                params=types.GetPromptRequestParams(
                    name=name,
                    arguments=dict(arguments) or None,
                    input_responses=responses,
                    request_state=state,
                )
            )

        result: types.GetPromptResult = await self._interactive(request, _PROMPT_RESULT, context)
        return result

    async def complete(
        self,
        ref: types.PromptReference | types.ResourceTemplateReference,
        argument: str,
        value: str,
        other_arguments: Mapping[str, str],
    ) -> list[str]:
        """Ask the upstream to complete an argument; nothing when it cannot."""
        if not self.listing.completions or self.unavailable():
            return []
        request = types.CompleteRequest(
            params=types.CompleteRequestParams(
                ref=ref,
                argument=types.CompletionArgument(name=argument, value=value),
                context=types.CompletionContext(arguments=dict(other_arguments))
                if other_arguments
                else None,
            )
        )
        with anyio.fail_after(self.settings.connect_timeout):
            result: types.CompleteResult = await self._request(request, types.CompleteResult, None)
        return list(result.completion.values)
