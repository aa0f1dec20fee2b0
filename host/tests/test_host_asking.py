"""ctx.sample and ctx.elicit: a real SDK client answers, in both protocol eras."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, Literal

import anyio
import mcp_types as types
import pytest
from mcp import Client
from pydantic import BaseModel

from plugbay import Context, ToolError, hookimpl, prompt, resource, tool
from plugbay.asking import ClientQuestions, InputRequired
from plugbay.server import PlugbayServer

pytestmark = [
    pytest.mark.anyio,
    # Sampling is deprecated by 2026-07-28, and the SDK says so on both sides.
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

ERAS = pytest.mark.parametrize("era", ["legacy", "auto"])


class Order(BaseModel):
    size: Literal["small", "large"]
    count: int = 1


RUNS: list[str] = []


@tool
async def suggest_title(topic: str, ctx: Context) -> str:
    """Ask the client's model for a title."""
    sampled = await ctx.sample(
        f"A title about {topic}", max_tokens=50, system_prompt="Be brief.", model_hints=["m1"]
    )
    return f"{sampled.text} (by {sampled.model}, {sampled.stop_reason})"


@tool
async def order_coffee(ctx: Context) -> str:
    """Ask the user twice, then order."""
    RUNS.append("run")
    first = await ctx.elicit("What should I order?", Order)
    if not first.accepted:
        return f"nothing ordered ({first.action})"
    assert first.data is not None
    again = await ctx.elicit(f"Really {first.data.count} {first.data.size}?", Order)
    if not again.accepted:
        return f"not confirmed ({again.action})"
    assert again.data is not None
    RUNS.append("ordered")  # the side effect, after every question
    return f"ordered {again.data.count} {again.data.size}"


@tool
async def ask_from_a_task(ctx: Context) -> str:
    """Ask from a task of the tool's own task group."""
    answers: list[str] = []

    async def ask() -> None:
        answer = await ctx.elicit("Size?", Order)
        answers.append(answer.data.size if answer.data else answer.action)

    async with anyio.create_task_group() as group:
        group.start_soon(ask)
    return answers[0]


@resource("ask://poem")
async def poem(ctx: Context) -> str:
    """A poem the client's model writes."""
    return (await ctx.sample("a poem")).text


@prompt
async def greeting(ctx: Context) -> str:
    """Greet the user by name."""
    answer = await ctx.elicit("Your name?", _Name)
    return f"Hello {answer.data.name if answer.data else 'stranger'}"


class _Name(BaseModel):
    name: str


class AskingPlugin:
    @hookimpl
    def register_tools(self, register: Callable[..., None]) -> None:
        register(suggest_title)
        register(order_coffee)
        register(ask_from_a_task)

    @hookimpl
    def register_resources(self, register: Callable[..., None]) -> None:
        register(poem)

    @hookimpl
    def register_prompts(self, register: Callable[..., None]) -> None:
        register(greeting)


@pytest.fixture
def server(build) -> PlugbayServer:
    RUNS.clear()
    return PlugbayServer(build({"asking": AskingPlugin()}))


def sampler(seen: list[types.CreateMessageRequestParams]) -> Any:
    async def sample(context: Any, params: types.CreateMessageRequestParams) -> Any:
        seen.append(params)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="Brew Day"),
            model="test-model",
            stop_reason="endTurn",
        )

    return sample


def answering(*answers: types.ElicitResult) -> tuple[list[str], Any]:
    asked: list[str] = []
    queue = list(answers)

    async def elicit(context: Any, params: Any) -> types.ElicitResult:
        assert params.requested_schema["properties"]["size"]["enum"] == ["small", "large"]
        asked.append(params.message)
        return queue.pop(0)

    return asked, elicit


@ERAS
async def test_a_tool_samples_the_clients_model(server: PlugbayServer, era: str) -> None:
    seen: list[types.CreateMessageRequestParams] = []
    async with Client(server.sdk, mode=era, sampling_callback=sampler(seen)) as client:
        result = await client.call_tool("suggest_title", {"topic": "coffee"})
        assert not result.is_error, result
        assert result.content[0].text == "Brew Day (by test-model, endTurn)"  # type: ignore[union-attr]
        read = await client.read_resource("ask://poem")
        assert read.contents[0].text == "Brew Day"  # type: ignore[union-attr]
    params = seen[0]
    assert params.messages[0].content.text == "A title about coffee"  # type: ignore[union-attr]
    assert params.max_tokens == 50
    assert params.system_prompt == "Be brief."
    assert params.model_preferences.hints[0].name == "m1"  # type: ignore[union-attr,index]


@ERAS
async def test_a_tool_asks_the_user_and_gets_every_answer(server: PlugbayServer, era: str) -> None:
    asked, elicit = answering(
        types.ElicitResult(action="accept", content={"size": "large", "count": 2}),
        types.ElicitResult(action="accept", content={"size": "small", "count": 3}),
    )
    async with Client(server.sdk, mode=era, elicitation_callback=elicit) as client:
        result = await client.call_tool("order_coffee", {})
    assert result.content[0].text == "ordered 3 small"  # type: ignore[union-attr]
    assert asked == ["What should I order?", "Really 2 large?"]  # each question once
    assert RUNS.count("ordered") == 1
    # 2025-11-25 asks while the call waits; 2026-07-28 runs the tool again per answer.
    assert RUNS.count("run") == (1 if era == "legacy" else 3)


@ERAS
async def test_a_tool_may_ask_from_its_own_tasks(server: PlugbayServer, era: str) -> None:
    _, elicit = answering(types.ElicitResult(action="accept", content={"size": "small"}))
    async with Client(server.sdk, mode=era, elicitation_callback=elicit) as client:
        result = await client.call_tool("ask_from_a_task", {})
    assert result.content[0].text == "small"  # type: ignore[union-attr]


@ERAS
async def test_a_declined_question_is_the_tools_to_handle(server: PlugbayServer, era: str) -> None:
    _, elicit = answering(types.ElicitResult(action="decline"))
    async with Client(server.sdk, mode=era, elicitation_callback=elicit) as client:
        result = await client.call_tool("order_coffee", {})
    assert result.content[0].text == "nothing ordered (decline)"  # type: ignore[union-attr]


@ERAS
async def test_an_answer_that_does_not_fit_is_a_tool_error(server: PlugbayServer, era: str) -> None:
    _, elicit = answering(types.ElicitResult(action="accept", content={"size": "huge"}))
    async with Client(server.sdk, mode=era, elicitation_callback=elicit) as client:
        result = await client.call_tool("order_coffee", {})
    assert result.is_error
    assert "does not fit" in result.content[0].text  # type: ignore[union-attr]
    assert "size" in result.content[0].text  # type: ignore[union-attr]


@ERAS
async def test_a_client_without_the_capability_gets_a_clear_tool_error(
    server: PlugbayServer, era: str
) -> None:
    async with Client(server.sdk, mode=era) as client:
        sampled = await client.call_tool("suggest_title", {"topic": "tea"})
        elicited = await client.call_tool("order_coffee", {})
    assert sampled.is_error
    assert "sampling" in sampled.content[0].text  # type: ignore[union-attr]
    assert "did not declare" in sampled.content[0].text  # type: ignore[union-attr]
    assert elicited.is_error
    assert "elicitation" in elicited.content[0].text  # type: ignore[union-attr]


@ERAS
async def test_a_prompt_may_ask_too(server: PlugbayServer, era: str) -> None:
    async def elicit(context: Any, params: Any) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    async with Client(server.sdk, mode=era, elicitation_callback=elicit) as client:
        result = await client.get_prompt("greeting", {})
    assert result.messages[0].content.text == "Hello Ada"  # type: ignore[union-attr]


async def test_outside_a_request_there_is_nobody_to_ask() -> None:
    with pytest.raises(ToolError, match="no client"):
        await Context().elicit("?", Order)


class _Modern:
    """The parts of an SDK request context that a 2026-07-28 round reads."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.protocol_version = "2026-07-28"
        self.method = "tools/call"
        self.params = params
        self.request_id = 1
        capabilities = types.ClientCapabilities(elicitation=types.ElicitationCapability())
        self.session = type("Session", (), {"client_capabilities": capabilities})()


def _question(text: str) -> types.ElicitRequest:
    return types.ElicitRequest(
        params=types.ElicitRequestFormParams(
            message=text, requested_schema={"type": "object", "properties": {}}
        )
    )


async def test_request_state_from_the_client_is_checked() -> None:
    """A mangled, foreign or rebound requestState only makes the tool ask again."""
    params: dict[str, Any] = {"name": "t", "arguments": {"a": 1}}
    with pytest.raises(InputRequired) as first:
        await ClientQuestions(_Modern(params)).ask(_question("one?"))
    state = first.value.result.request_state
    assert state is not None
    answer = {"action": "accept", "content": {}}

    answered = {**params, "requestState": state, "inputResponses": {"q0": answer}}
    result = await ClientQuestions(_Modern(answered)).ask(_question("one?"))
    assert isinstance(result, types.ElicitResult)

    # The same state for other arguments, garbage, or an answer to another question: ask again.
    decoded = json.loads(base64.urlsafe_b64decode(state))
    decoded["answers"] = {"q0": {"q": "forged", "a": answer}, "../x": {}}
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).decode()
    for bad in (
        {**answered, "arguments": {"a": 2}},
        {**answered, "requestState": "not base64 json!"},
        {**answered, "requestState": forged, "inputResponses": {}},
    ):
        with pytest.raises(InputRequired):
            await ClientQuestions(_Modern(bad)).ask(_question("one?"))
    with pytest.raises(InputRequired):
        await ClientQuestions(_Modern(answered)).ask(_question("a different question?"))
    # An answer that is not an elicitation result is the client's error.
    broken = {**answered, "inputResponses": {"q0": {"action": "maybe"}}}
    with pytest.raises(ToolError, match="not valid"):
        await ClientQuestions(_Modern(broken)).ask(_question("one?"))
