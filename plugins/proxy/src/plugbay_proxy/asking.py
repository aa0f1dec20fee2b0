"""An upstream's questions (sampling, elicitation, roots) go to the client whose call asked.

Upstreams ask in one of three ways, and each reaches the caller's own client through
:meth:`plugbay.Context.ask_client`, which asks in whatever era that client speaks:

- a 2025-11-25 upstream over HTTP sends its request on the call's own event stream,
  which the fast path reads (:meth:`UpstreamQuestions._answer_message`): the caller
  is known exactly;
- a 2025-11-25 upstream over stdio (or a call through the SDK client) sends it on the
  shared connection, where nothing says which call it belongs to. The SDK client's
  callbacks pass it to the one caller with a call in flight; with several (or none),
  the upstream is told plugbay cannot know whom to ask, since a question put to the
  wrong user would leak what another caller is doing;
- a 2026-07-28 upstream ends the call with ``input_required``; the proxy asks the
  caller, then calls again with the answers and the upstream's ``requestState``.

A 2026-07-28 *caller* is asked by ending its call with the question (the host's
``InputRequired``); plugbay runs the call again with the answer, so the upstream is
called again from the start and asks the same question, which is then answered at
once from the caller's earlier answer. That exception must end the caller's own task,
so an SDK callback (which runs in the client's task) hands it over with
:class:`Waiting`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp_types as types
from mcp.client.session import ClientRequestContext
from pydantic import TypeAdapter, ValidationError

from plugbay import Context, ToolError
from plugbay_proxy.subscriptions import ResourceSubscriptions

logger = logging.getLogger("plugbay_proxy.upstream")

MAX_INPUT_ROUNDS = 10
"""The most rounds of 2026-07-28 questions one call may ask before it is given up."""

Question = types.CreateMessageRequest | types.ElicitRequest | types.ListRootsRequest
Answer = types.CreateMessageResult | types.ElicitResult | types.ListRootsResult
_QUESTION: TypeAdapter[Question] = TypeAdapter(Question)


@dataclass
class Waiting:
    """A caller waiting on the SDK client, which a callback may end with an exception."""

    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    ending: BaseException | None = None

    def end_with(self, ending: BaseException) -> None:
        """Stop the caller's wait; it raises ``ending`` in its own task."""
        self.ending = ending
        self.scope.cancel()


def wire(model: Any) -> dict[str, Any]:
    """A result model as JSON-RPC carries it."""
    dumped: dict[str, Any] = model.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped


class UpstreamQuestions(ResourceSubscriptions):
    """Passes an upstream's sampling, elicitation and roots requests to the right caller."""

    async def _ask(self, context: Context, question: Question) -> Answer | types.ErrorData:
        """Ask the caller's client; its refusal becomes an error for the upstream.

        The host's ``InputRequired`` (a 2026-07-28 caller) is not an ``Exception``
        and passes through: it ends the call.
        """
        try:
            answer = await context.ask_client(question)
        except ToolError as error:
            return types.ErrorData(code=types.INVALID_REQUEST, message=str(error))
        return answer

    async def _answer_message(self, context: Context, message: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON-RPC response to a request the upstream sent on a call's own stream."""
        request = {"method": message.get("method"), "params": message.get("params") or {}}
        try:
            question = _QUESTION.validate_python(request, by_name=False)
        except ValidationError:
            outcome: Answer | types.ErrorData = types.ErrorData(
                code=types.METHOD_NOT_FOUND,
                message=f"plugbay does not relay {message.get('method')!r} requests",
            )
        else:
            outcome = await self._ask(context, question)
        response: dict[str, Any] = {"jsonrpc": "2.0", "id": message.get("id")}
        if isinstance(outcome, types.ErrorData):
            response["error"] = wire(outcome)
        else:
            response["result"] = wire(outcome)
        return response

    async def _answers(
        self, context: Context, questions: Mapping[str, Question]
    ) -> dict[str, Answer]:
        """The caller's answers to a 2026-07-28 upstream's ``input_required`` questions.

        Raises:
            ToolError: The caller's client cannot answer one (the call fails with why).
        """
        answers: dict[str, Answer] = {}
        for key, question in questions.items():
            answers[key] = await context.ask_client(question)
        return answers

    # -- the SDK client's callbacks (the shared connection; ``context`` is the SDK's) --

    async def _on_sampling(
        self, context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.ErrorData:
        answer = await self._relay(types.CreateMessageRequest(params=params))
        assert isinstance(answer, types.CreateMessageResult | types.ErrorData)
        return answer

    async def _on_elicitation(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        answer = await self._relay(types.ElicitRequest(params=params))
        assert isinstance(answer, types.ElicitResult | types.ErrorData)
        return answer

    async def _on_list_roots(
        self, context: ClientRequestContext
    ) -> types.ListRootsResult | types.ErrorData:
        answer = await self._relay(types.ListRootsRequest())
        assert isinstance(answer, types.ListRootsResult | types.ErrorData)
        return answer

    async def _relay(self, question: Question) -> Answer | types.ErrorData:
        """Ask the one caller with a call in flight; refuse when that is not one caller."""
        callers = list(self._in_flight)
        if len(callers) != 1:
            why = "no call is in flight" if not callers else f"{len(callers)} calls are in flight"
            logger.warning(
                "upstream %s sent %s while %s; it was refused", self.name, question.method, why
            )
            return types.ErrorData(
                code=types.INVALID_REQUEST,
                message=f"plugbay cannot tell which of its callers to ask ({why}); "
                "send it on the response stream of the call it belongs to",
            )
        context = callers[0]
        try:
            return await self._ask(context, question)
        except anyio.get_cancelled_exc_class():
            raise
        except BaseException as ending:
            waiting = self._waiting.get(context)
            if isinstance(ending, Exception) or waiting is None:
                raise
            # The caller must end (2026-07-28: it asks its client first), in its own task.
            waiting.end_with(ending)
            return types.ErrorData(
                code=types.INVALID_REQUEST, message="the caller is asked first; the call ends"
            )
