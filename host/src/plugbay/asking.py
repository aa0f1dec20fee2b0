"""Asking the client during a call: sampling its model, eliciting an answer from its user.

The two protocol eras ask differently. Through 2025-11-25 the server sends the client a
request (``sampling/createMessage``, ``elicitation/create``) while the call waits. From
2026-07-28 a server may not send requests: the call ends with an ``input_required``
result carrying the question, and the client calls again with the answer. plugbay then
runs the tool again from the start; each question it asked before is answered from the
``requestState`` the client echoes, so the tool reaches the next question (or its end)
with every earlier answer in hand. :class:`ClientQuestions` hides the difference.

``requestState`` comes back from the client, so it is treated as the client's word: it
holds only the client's own earlier answers (which it could as well give again), and
every answer restored from it is validated exactly as a fresh one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import warnings
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

import mcp_types as types
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError, NoBackChannelError
from mcp.shared.message import ServerMessageMetadata
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError

from plugbay.errors import ToolError

Question = types.CreateMessageRequest | types.ElicitRequest | types.ListRootsRequest
Answer = types.CreateMessageResult | types.ElicitResult | types.ListRootsResult

_ANSWER_TYPES: dict[str, type[BaseModel]] = {
    "sampling/createMessage": types.CreateMessageResult,
    "elicitation/create": types.ElicitResult,
    "roots/list": types.ListRootsResult,
}
_STATE_VERSION = 1
T = TypeVar("T")
_KEY = re.compile(r"q[0-9]{1,4}")


class InputRequired(BaseException):
    """Ends a 2026-07-28 call that must ask the client first; its answer is the question.

    A ``BaseException``, so that neither the tool's own ``except Exception`` nor the
    host's failure handling takes it for an error; the server turns it into the call's
    ``input_required`` result.
    """

    def __init__(self, result: types.InputRequiredResult) -> None:
        super().__init__("the call asks the client a question first")
        self.result = result


async def answer_or_question(run: Awaitable[T]) -> T | types.InputRequiredResult:
    """What ``run`` returns, or the question it stopped at (2026-07-28).

    The question may come wrapped in an exception group, when the tool asked from a
    task of its own task group.
    """
    try:
        return await run
    except InputRequired as asking:
        return asking.result
    except BaseExceptionGroup as group:
        asking_group, _ = group.split(InputRequired)
        if asking_group is None:
            raise
        first: BaseException = asking_group
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        assert isinstance(first, InputRequired)
        return first.result


def _digest(value: Any) -> str:
    data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(hashlib.sha256(data.encode()).digest()[:16]).decode()


def _wire(model: BaseModel) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped


def _what_is_asked(question: Question) -> str:
    return {
        "sampling/createMessage": "to sample its model (sampling)",
        "elicitation/create": "to ask its user (elicitation)",
        "roots/list": "for its roots",
    }[question.method]


def _declared(capabilities: types.ClientCapabilities | None, question: Question) -> bool:
    """Whether the client said it can answer ``question``."""
    if capabilities is None:
        return False
    if isinstance(question, types.CreateMessageRequest):
        return capabilities.sampling is not None
    if isinstance(question, types.ListRootsRequest):
        return capabilities.roots is not None
    elicitation = capabilities.elicitation
    if elicitation is None:
        return False
    if isinstance(question.params, types.ElicitRequestURLParams):
        return elicitation.url is not None
    # A bare ``elicitation: {}`` (from before modes existed) means forms.
    return elicitation.form is not None or elicitation.url is None


def _no_way_back(question: Question) -> ToolError:
    return ToolError(
        f"This needs to ask the client {_what_is_asked(question)}, which cannot be done on "
        "this connection: stateless HTTP and JSON responses leave no way back to a "
        "2025-11-25 client (a 2026-07-28 client can be asked)."
    )


class ClientQuestions:
    """The questions one run of a call asks its client, in either era.

    Args:
        request: The SDK request context of the call.
    """

    __slots__ = ("_asked", "_request", "_state")

    def __init__(self, request: Any) -> None:
        self._request = request
        self._asked = 0
        self._state: dict[str, Any] | None = None

    async def ask(self, question: Question) -> Answer:
        """Ask the client ``question`` and return its answer.

        Raises:
            ToolError: The client did not declare it can answer such questions, cannot
                be asked on this connection, or answered with an error or nonsense.
            InputRequired: (2026-07-28) The question goes to the client first.
        """
        request = self._request
        modern = request.protocol_version in MODERN_PROTOCOL_VERSIONS
        if not modern and not request.session.can_send_request:
            # Before the capabilities: stateless HTTP has no session that declared any.
            raise _no_way_back(question)
        if not _declared(request.session.client_capabilities, question):
            raise ToolError(
                f"This needs to ask the client {_what_is_asked(question)}, and the client "
                "did not declare that it can; use a client that supports it."
            )
        if modern:
            return self._ask_by_round_trip(question)
        return await self._ask_by_request(question)

    async def _ask_by_request(self, question: Question) -> Answer:
        """2025-11-25: a server-to-client request on the call's own stream."""
        request = self._request
        answer_type = _ANSWER_TYPES[question.method]
        metadata = ServerMessageMetadata(related_request_id=request.request_id)
        try:
            with warnings.catch_warnings():
                # MCP 2026-07-28 deprecates sampling and roots; 2025-11-25 has them.
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                answer = await request.session.send_request(
                    question, answer_type, metadata=metadata
                )
        except NoBackChannelError:
            raise _no_way_back(question) from None
        except MCPError as error:
            raise ToolError(
                f"The client did not answer when asked {_what_is_asked(question)}: "
                f"{error.error.message}"
            ) from None
        except ValidationError:
            raise ToolError(
                f"The client's answer when asked {_what_is_asked(question)} was not valid."
            ) from None
        return answer  # type: ignore[no-any-return]

    def _ask_by_round_trip(self, question: Question) -> Answer:
        """2026-07-28: an earlier answer from ``requestState``, a new one, or the question."""
        state = self._round_state()
        key = f"q{self._asked}"
        self._asked += 1
        digest = _digest(_wire(question))
        answers: dict[str, Any] = state["answers"]
        recorded = answers.get(key)
        if recorded is not None and recorded.get("q") == digest:
            return self._valid_answer(question, recorded.get("a"))
        # This run took another path than the one the recorded answers belong to.
        for later in [k for k in answers if int(k[1:]) >= int(key[1:])]:
            del answers[later]
        responses = (self._request.params or {}).get("inputResponses") or {}
        if state["asked"].get(key) == digest and key in responses:
            answer = self._valid_answer(question, responses[key])
            answers[key] = {"q": digest, "a": _wire(answer)}
            return answer
        raise InputRequired(
            types.InputRequiredResult(
                input_requests={key: question},
                request_state=self._encode(answers, {key: digest}),
            )
        )

    def _valid_answer(self, question: Question, raw: Any) -> Answer:
        try:
            answer: Answer = _ANSWER_TYPES[question.method].model_validate(raw, by_name=False)  # type: ignore[assignment]
        except ValidationError:
            raise ToolError(
                f"The client's answer when asked {_what_is_asked(question)} was not valid."
            ) from None
        return answer

    def _binding(self) -> str:
        """What a ``requestState`` belongs to: this method, target and arguments."""
        request = self._request
        params: Mapping[str, Any] = request.params or {}
        return _digest(
            [request.method, params.get("name"), params.get("uri"), params.get("arguments")]
        )

    def _round_state(self) -> dict[str, Any]:
        """The earlier answers (and the last question) from the client's ``requestState``."""
        if self._state is not None:
            return self._state
        state: dict[str, Any] = {"answers": {}, "asked": {}}
        token = (self._request.params or {}).get("requestState")
        if isinstance(token, str):
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                if (
                    decoded.get("v") == _STATE_VERSION
                    and decoded.get("b") == self._binding()
                    and isinstance(decoded.get("answers"), dict)
                    and isinstance(decoded.get("asked"), dict)
                ):
                    state = {
                        "answers": {
                            key: value
                            for key, value in decoded["answers"].items()
                            if _KEY.fullmatch(key) and isinstance(value, dict)
                        },
                        "asked": decoded["asked"],
                    }
            except (ValueError, AttributeError):
                pass  # not ours, or mangled: ask again from the start
        self._state = state
        return state

    def _encode(self, answers: dict[str, Any], asked: dict[str, str]) -> str:
        document = {"v": _STATE_VERSION, "b": self._binding(), "answers": answers, "asked": asked}
        data = json.dumps(document, separators=(",", ":"), ensure_ascii=True)
        return base64.urlsafe_b64encode(data.encode()).decode()
