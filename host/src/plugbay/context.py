"""The per-call context a tool can ask for by adding a parameter typed :class:`Context`."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import mcp_types as types
from mcp.server.elicitation import render_elicitation_schema
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import LoggingLevel
from pydantic import BaseModel, ValidationError

from plugbay.asking import Answer, ClientQuestions, Question
from plugbay.auth import LOCAL_PRINCIPAL, Principal
from plugbay.content import Message
from plugbay.errors import CallCancelled, ToolError
from plugbay.sessions import log_wanted

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Sampled:
    """What the client's model answered to :meth:`Context.sample`.

    Attributes:
        text: The answer's text (empty when it is an image or audio).
        model: The model that answered, as the client names it.
        stop_reason: Why it stopped (``endTurn``, ``maxTokens`` ...), when known.
        content: The answer as MCP content (``TextContent``, ``ImageContent`` ...).
    """

    text: str
    model: str
    stop_reason: str | None
    content: Any


@dataclass(frozen=True, slots=True)
class Elicitation(Generic[M]):
    """The user's answer to :meth:`Context.elicit`.

    Attributes:
        action: ``accept`` (``data`` holds the answer), ``decline`` (the user said no)
            or ``cancel`` (the user dismissed the question).
        data: The answer, validated by the schema; ``None`` unless accepted.
    """

    action: Literal["accept", "decline", "cancel"]
    data: M | None = None

    @property
    def accepted(self) -> bool:
        """Whether the user answered."""
        return self.action == "accept"


class Context:
    """What a running tool, resource or prompt may know and do about its call.

    Declare a parameter typed ``Context`` to receive it; it is not part of the input
    schema. Outside a live MCP request (``plugbay call``, direct tests) progress and
    log messages are dropped quietly, so tools need no special casing.

    A sync tool runs in a worker thread, which cannot be stopped: past its timeout
    (or cancelled by the client) the call is answered at once and the thread runs on.
    The host then marks the context cancelled, so a long sync tool polls
    :attr:`cancelled` or calls :meth:`raise_if_cancelled` between steps and stops
    before its next side effect.
    """

    __slots__ = ("_cancelled", "_questions", "_request", "principal")

    def __init__(self, request: Any = None, principal: Principal = LOCAL_PRINCIPAL) -> None:
        self._request = request
        self.principal = principal
        """The authenticated caller (``local`` on stdio)."""
        # Set by the event loop, read by the tool's worker thread.
        self._cancelled = threading.Event()
        self._questions: ClientQuestions | None = None

    @property
    def cancelled(self) -> bool:
        """Whether the call was cancelled or timed out; its answer is already sent."""
        return self._cancelled.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`~plugbay.CallCancelled` if the call was cancelled or timed out.

        Call it between the steps of a long sync tool, before each side effect. What
        it raises goes nowhere (the caller has had its answer); it only ends the work.
        """
        if self._cancelled.is_set():
            raise CallCancelled("the call was cancelled or timed out; its work was stopped")

    def cancel(self) -> None:
        """Mark the call cancelled.

        The host does this when the call times out or the client cancels it; a test
        does it to check that a tool stops.
        """
        self._cancelled.set()

    @property
    def request_id(self) -> str | int | None:
        """The JSON-RPC id of the request being served, if there is one."""
        return getattr(self._request, "request_id", None)

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Tell the client how far the call has come.

        Sent only when the client asked for progress (a ``progressToken`` on the
        request); otherwise a no-op.
        """
        request = self._request
        if request is None:
            return
        # The session knows the caller's progress token however the request arrived:
        # on 2026-07-28+ (and in-process) it is not in ``request.meta`` at all.
        await request.session.report_progress(progress, total, message)

    async def log(self, level: LoggingLevel, data: Any, logger: str | None = None) -> None:
        """Send the client a log message (``notifications/message``) about this call.

        It travels with the call's response, if the client wants it: a 2025-11-25
        client gets the messages at or above the level it chose with
        ``logging/setLevel`` (every one before it chooses); a 2026-07-28 client those
        at or above the level its request opted in to (none without an opt-in).
        Outside a request it is a no-op.

        Args:
            level: ``debug``, ``info``, ``notice``, ``warning``, ``error``,
                ``critical``, ``alert`` or ``emergency``.
            data: Any JSON-able value; usually a string.
            logger: The name of the part that logs.
        """
        request = self._request
        if request is None or not log_wanted(request.session, level):
            return
        # MCP deprecates logging in 2026-07-28 but still delivers it, as above; the
        # warning is raised when the coroutine is made, so only that is wrapped.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            sending = request.session.send_log_message(
                level, data, logger=logger, related_request_id=request.request_id
            )
        await sending

    async def sample(
        self,
        messages: str | Sequence[str | Message],
        *,
        max_tokens: int = 1000,
        system_prompt: str | None = None,
        temperature: float | None = None,
        stop_sequences: Sequence[str] | None = None,
        model_hints: Sequence[str] = (),
    ) -> Sampled:
        """Ask the client's language model to answer ``messages`` (MCP sampling).

        The client decides which model answers, and may show the request to its user
        first. See :meth:`ask_client` for how the two protocol eras differ.

        Args:
            messages: One user message, or a conversation (a ``str`` is a user message).
            max_tokens: At most this many tokens in the answer.
            system_prompt: A system prompt the client may use.
            temperature: Sampling temperature, when the client lets you choose.
            stop_sequences: Where the model should stop.
            model_hints: Model names to prefer, best first (``["claude", "gpt"]``).

        Raises:
            ToolError: The client did not declare sampling, cannot be asked on this
                connection, or refused.
        """
        conversation = [messages] if isinstance(messages, str) else list(messages)
        params = types.CreateMessageRequestParams(
            messages=[
                types.SamplingMessage(
                    role=item.role if isinstance(item, Message) else "user",
                    content=types.TextContent(
                        type="text", text=item.text if isinstance(item, Message) else item
                    ),
                )
                for item in conversation
            ],
            max_tokens=max_tokens,
            system_prompt=system_prompt,
            temperature=temperature,
            stop_sequences=list(stop_sequences) if stop_sequences is not None else None,
            model_preferences=types.ModelPreferences(
                hints=[types.ModelHint(name=name) for name in model_hints]
            )
            if model_hints
            else None,
        )
        answer = await self.ask_client(types.CreateMessageRequest(params=params))
        assert isinstance(answer, types.CreateMessageResult)
        content = answer.content
        return Sampled(
            text=content.text if isinstance(content, types.TextContent) else "",
            model=answer.model,
            stop_reason=answer.stop_reason,
            content=content,
        )

    async def elicit(self, message: str, schema: type[M]) -> Elicitation[M]:
        """Ask the client's user for information, in a form made from ``schema``.

        ``schema`` is a pydantic model of flat fields (``str``, ``int``, ``float``,
        ``bool``, a ``Literal`` of strings, optional ones with defaults), as MCP
        forms allow. Never ask for secrets this way: the answer passes through the
        client. See :meth:`ask_client` for how the two protocol eras differ.

        Returns:
            The user's answer; check :attr:`Elicitation.accepted` before using
            ``data``.

        Raises:
            ToolError: The client did not declare elicitation, cannot be asked on this
                connection, or answered with something the schema rejects.
            TypeError: ``schema`` has a field a form cannot ask for.
        """
        requested = render_elicitation_schema(schema)
        answer = await self.ask_client(
            types.ElicitRequest(
                params=types.ElicitRequestFormParams(message=message, requested_schema=requested)
            )
        )
        assert isinstance(answer, types.ElicitResult)
        if answer.action != "accept":
            return Elicitation(action=answer.action)
        try:
            data = schema.model_validate(answer.content or {})
        except ValidationError as error:
            details = "; ".join(
                f"{'.'.join(map(str, problem['loc'])) or 'answer'}: {problem['msg']}"
                for problem in error.errors(include_url=False)
            )
            raise ToolError(f"The user's answer does not fit the question: {details}") from None
        return Elicitation(action="accept", data=data)

    async def ask_client(self, question: Question) -> Answer:
        """Send the client an MCP request of its own (sampling, elicitation or roots).

        :meth:`sample` and :meth:`elicit` are the friendly forms; a relay (the
        proxy) passes an upstream's request on with this. With a 2025-11-25 client
        the call waits for the answer (the wait counts toward its timeout). A
        2026-07-28 client is asked between two runs of the call: the call ends with
        the question, the client calls again with the answer, and the tool **runs
        again from the start**, getting its earlier answers back at once. So ask
        before doing anything that must happen only once.

        Raises:
            ToolError: The client did not declare the capability, cannot be asked
                on this connection, or refused; or outside an MCP request.
        """
        request = self._request
        if request is None:
            raise ToolError("There is no client to ask outside an MCP request.")
        if self._questions is None:
            self._questions = ClientQuestions(request)
        return await self._questions.ask(question)
