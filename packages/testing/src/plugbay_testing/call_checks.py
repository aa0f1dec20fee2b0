"""Checks that call the server: bad arguments, sample calls, resources and prompts.

A tool that receives bad arguments must answer with an ``isError`` result that names
the tool and the offending argument, so that the model calling it can correct itself;
it must not crash, and it must not turn into a protocol error. The bad arguments are
derived from each tool's own input schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import mcp_types as types
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.shared.exceptions import MCPError

from plugbay_testing.checks import check_structured_content, raise_problems
from plugbay_testing.harness import result_text

UNKNOWN_ARGUMENT = "plugbay_unexpected_argument"
"""The argument name no tool declares, sent to see that it is refused."""

CaseKind = Literal["missing", "wrong_type", "unknown"]
CASE_KINDS: tuple[CaseKind, ...] = ("missing", "wrong_type", "unknown")

# Values of different JSON types, tried in turn until one breaks the property's schema.
_WRONG_VALUES: tuple[Any, ...] = (
    {"unexpected": "object"},
    12345,
    "not-a-valid-value",
    [12345],
    True,
)


@dataclass(frozen=True, slots=True)
class ArgumentCase:
    """One call with bad arguments and the argument its error message must name."""

    kind: CaseKind
    label: str
    tool: str
    arguments: dict[str, Any]
    field: str


def _rejected_value(schema: Mapping[str, Any], field: str) -> Any | None:
    """A value of the wrong type for ``field``: one the tool's input schema rejects there."""
    validator = Draft202012Validator(schema)
    for value in _WRONG_VALUES:
        errors = validator.iter_errors({field: value})
        if any(error.absolute_path and error.absolute_path[0] == field for error in errors):
            return value
    return None


def invalid_argument_cases(
    tool: types.Tool, valid_arguments: Mapping[str, Any] | None = None
) -> list[ArgumentCase]:
    """The bad calls a tool must refuse cleanly, derived from its input schema.

    * ``{}``, when the tool has required arguments: must name the first required one.
    * A wrongly-typed value for the first argument whose schema rejects one.
    * An argument the tool does not declare: must name it.

    Args:
        tool: The tool as listed.
        valid_arguments: Arguments known to be valid (a sample call), used around the
            bad one so that it is the only problem.

    Returns:
        The cases; a case is left out when the schema gives no way to build it.
    """
    schema = tool.input_schema
    properties: dict[str, Any] = schema.get("properties") or {}
    required = [name for name in schema.get("required") or [] if name in properties]
    base = dict(valid_arguments or {})
    cases = []
    if required:
        cases.append(
            ArgumentCase("missing", "missing required arguments", tool.name, {}, required[0])
        )
    for field in properties:
        value = _rejected_value(schema, field)
        if value is not None:
            label = f"wrongly-typed {field}={value!r}"
            cases.append(
                ArgumentCase("wrong_type", label, tool.name, {**base, field: value}, field)
            )
            break
    if UNKNOWN_ARGUMENT not in properties:
        arguments = {**base, UNKNOWN_ARGUMENT: 1}
        cases.append(
            ArgumentCase("unknown", "an unknown argument", tool.name, arguments, UNKNOWN_ARGUMENT)
        )
    return cases


def rejection_problem(case: ArgumentCase, result: types.CallToolResult) -> str | None:
    """Why ``result`` is not a clean refusal of ``case``, or ``None`` when it is."""
    text = result_text(result)
    where = f"tool {case.tool!r} called with {case.label} ({case.arguments!r})"
    if not result.is_error:
        return f"{where} did not report an error (isError is false): {text[:200]!r}"
    if "failed unexpectedly" in text:
        return (
            f"{where} crashed instead of reporting the bad argument: {text!r}; validate it "
            "(type hints, Field constraints) or raise ToolError with a message naming it"
        )
    missing = []
    if case.tool not in text:
        missing.append(f"the tool name {case.tool!r}")
    if not re.search(rf"\b{re.escape(case.field)}\b", text):
        missing.append(f"the argument {case.field!r}")
    if missing:
        return f"{where} reported an error that does not name {' or '.join(missing)}: {text!r}"
    return None


async def bad_argument_problems(
    client: Client,
    tools: Iterable[types.Tool],
    *,
    kinds: Sequence[CaseKind] = CASE_KINDS,
    valid_arguments: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[str]:
    """Call each tool with bad arguments; list every call that was not cleanly refused.

    Args:
        client: A connected client.
        tools: The tools to try.
        kinds: Which cases to run: ``"missing"``, ``"wrong_type"``, ``"unknown"``.
        valid_arguments: Known-good arguments by full tool name (sample calls).

    Returns:
        One problem per call that crashed, raised a protocol error, succeeded, or
        gave an error that does not name the tool and the argument.
    """
    problems = []
    for tool in tools:
        known = (valid_arguments or {}).get(tool.name)
        for case in invalid_argument_cases(tool, known):
            if case.kind not in kinds:
                continue
            try:
                result = await client.call_tool(case.tool, case.arguments)
            except MCPError as error:
                problems.append(
                    f"tool {case.tool!r} called with {case.label} raised a protocol error "
                    f"({error}) instead of returning an isError result"
                )
                continue
            if (problem := rejection_problem(case, result)) is not None:
                problems.append(problem)
    return problems


async def check_rejects_bad_arguments(
    client: Client,
    tools: Iterable[types.Tool],
    *,
    kinds: Sequence[CaseKind] = CASE_KINDS,
    valid_arguments: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Assert that every tool refuses bad arguments with a clear ``isError`` result.

    See :func:`bad_argument_problems` for the arguments.

    Raises:
        AssertionError: Listing every call that was not refused cleanly.
    """
    __tracebackhide__ = True
    problems = await bad_argument_problems(
        client, tools, kinds=kinds, valid_arguments=valid_arguments
    )
    raise_problems("bad arguments were not refused cleanly", problems)


async def check_tool_call(
    client: Client, tool: types.Tool, arguments: Mapping[str, Any]
) -> types.CallToolResult:
    """Call ``tool`` and assert it succeeds with content matching its output schema.

    Returns:
        The result, for further assertions.

    Raises:
        AssertionError: The call raised, reported an error, or returned structured
            content its output schema rejects.
    """
    __tracebackhide__ = True
    try:
        result = await client.call_tool(tool.name, dict(arguments))
    except (MCPError, RuntimeError) as error:
        # The client raises RuntimeError itself when structured content breaks the schema.
        raise AssertionError(
            f"tool {tool.name!r} called with {dict(arguments)!r} raised: {error}"
        ) from None
    if result.is_error:
        raise AssertionError(
            f"tool {tool.name!r} called with {dict(arguments)!r} returned an error: "
            f"{result_text(result)}"
        )
    check_structured_content(tool, result)
    return result


async def check_resource_readable(client: Client, uri: str) -> types.ReadResourceResult:
    """Assert that ``uri`` reads without error and has contents for that URI.

    Raises:
        AssertionError: The read raised or returned no contents.
    """
    __tracebackhide__ = True
    try:
        result = await client.read_resource(uri)
    except MCPError as error:
        raise AssertionError(f"resource {uri!r} could not be read: {error}") from None
    if not result.contents:
        raise AssertionError(f"resource {uri!r} returned no contents")
    return result


async def check_prompt_renders(
    client: Client, name: str, arguments: Mapping[str, str] | None = None
) -> types.GetPromptResult:
    """Assert that the prompt renders to at least one message.

    Raises:
        AssertionError: The prompt raised or returned no messages.
    """
    __tracebackhide__ = True
    try:
        result = await client.get_prompt(name, dict(arguments) if arguments else None)
    except MCPError as error:
        raise AssertionError(
            f"prompt {name!r} with {arguments!r} could not be rendered: {error}"
        ) from None
    if not result.messages:
        raise AssertionError(f"prompt {name!r} with {arguments!r} rendered no messages")
    return result
