"""The conformance suite and the check helpers catch bad connectors, with useful messages.

The suite is run the way an author runs it, in a separate pytest session (``pytester``)
with only the installed ``pytest11`` plugin: no workspace conftest helps it along.
"""

from __future__ import annotations

from typing import Annotated, Any

import mcp_types as types
import pytest
from pydantic import BaseModel, BeforeValidator, Field, SecretStr

from plugbay import Connector, NoSettings, Settings, tool
from plugbay_testing import (
    PROTOCOL_MODES,
    ArgumentCase,
    check_argument_descriptions,
    check_descriptions,
    check_input_schemas,
    check_names,
    check_output_schemas,
    check_prompt_definitions,
    check_rejects_bad_arguments,
    check_resource_definitions,
    check_settings_model,
    check_structured_content,
    check_tool_annotations,
    check_tool_call,
    check_tool_definitions,
    invalid_argument_cases,
)
from plugbay_testing.call_checks import UNKNOWN_ARGUMENT, rejection_problem

pytest_plugins = ["pytester"]


def assert_in_output(result: pytest.RunResult, expected: list[str]) -> None:
    output = result.stdout.str()
    missing = [text for text in expected if text not in output]
    assert not missing, f"not in the output: {missing}\n{output}"


SLOPPY = '''
from typing import Annotated
from pydantic import BeforeValidator
from plugbay import Connector, Settings, tool
from plugbay_testing import ConnectorConformance


class SloppySettings(Settings):
    url: str = "http://localhost"
    password: str = "hunter2"


class SloppyConnector(Connector[SloppySettings]):
    name = "sloppy"

    @tool
    def fetch_everything_from_the_remote_service_in_one_go(self, query: str) -> str:
        return query

    @tool(read_only=False)
    def tidy(self, text: Annotated[str, BeforeValidator(lambda value: value.strip())]) -> str:
        """Tidy up some text."""
        return text


class TestSloppyConformance(ConnectorConformance):
    connector = SloppyConnector
'''


def test_the_suite_catches_a_sloppy_connector(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sloppy=SLOPPY)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=15, failed=12, skipped=6)
    failed = {
        line.split("::")[-1].split(" ")[0] for line in result.outlines if line.startswith("FAILED")
    }
    assert failed == {
        "test_plugin_is_installed",
        "test_connector_is_named_and_described",
        "test_settings_are_described_and_secrets_hidden",
        "test_components_have_descriptions[modern]",
        "test_components_have_descriptions[legacy]",
        "test_arguments_have_descriptions[modern]",
        "test_arguments_have_descriptions[legacy]",
        "test_names_fit_under_a_long_instance_name",
        "test_tool_annotations_are_declared[modern]",
        "test_tool_annotations_are_declared[legacy]",
        "test_wrongly_typed_arguments_are_reported[modern]",
        "test_wrongly_typed_arguments_are_reported[legacy]",
    }
    assert_in_output(
        result,
        [
            "no installed entry point in the group 'plugbay' points into the package "
            "'test_sloppy' of SloppyConnector",
            "SloppyConnector has no docstring",
            "setting 'url' of SloppySettings has no description",
            "setting 'password' of SloppySettings looks like a secret but is str: declare it as "
            "pydantic.SecretStr",
            "tool 'sloppy_fetch_everything_from_the_remote_service_in_one_go' has no description",
            "tool 'sloppy_tidy': arguments ['text'] have no description",
            "'conformance_instance_fetch_everything_from_the_remote_service_in_one_go' has 71 "
            "characters; clients accept at most 64",
            "tool 'sloppy_fetch_everything_from_the_remote_service_in_one_go' does not declare "
            "whether it is read-only",
            "tool 'sloppy_tidy' is not read-only but does not declare whether it is destructive",
            "tool 'sloppy_tidy' called with wrongly-typed text={'unexpected': 'object'} "
            "({'text': {'unexpected': 'object'}}) crashed instead of reporting the "
            "bad argument: 'sloppy_tidy failed unexpectedly (AttributeError)",
        ],
    )


LIFECYCLE = '''
from plugbay import Connector, NoSettings, tool
from plugbay_testing import ConnectorConformance

STARTS = []


class LeakyConnector(Connector[NoSettings]):
    """Holds a process-wide resource it does not give back."""

    name = "leaky"

    async def start(self):
        if STARTS:
            raise RuntimeError("the port is still taken by the first instance")
        STARTS.append(self)

    @tool(read_only=True)
    def ping(self) -> str:
        """Answer pong."""
        return "pong"


class BrokenStop(Connector[NoSettings]):
    """Cannot stop."""

    name = "brokenstop"

    async def stop(self):
        raise OSError("socket already closed")


class TestLeaky(ConnectorConformance):
    connector = LeakyConnector

    def test_only_lifecycle(self):
        STARTS.clear()


class TestBrokenStop(ConnectorConformance):
    connector = BrokenStop
'''


def test_the_suite_catches_connectors_that_do_not_restart_or_stop(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_lifecycle=LIFECYCLE)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "-k", "starts_and_stops")
    result.assert_outcomes(failed=2)
    assert_in_output(
        result,
        [
            "second start: instance 'leaky' is failed: failed to start: RuntimeError: the port is "
            "still taken",
            "first cycle: stop() raised OSError: socket already closed",
        ],
    )


SAMPLES = '''
from plugbay import Connector, NoSettings, resource, tool
from plugbay_testing import ConnectorConformance


class Samples(Connector[NoSettings]):
    """Samples."""

    name = "samples"

    @tool(read_only=True)
    def add(self, a: int, b: int) -> int:
        """Add.

        Args:
            a: First.
            b: Second.
        """
        return a + b

    @resource("items/{id}")
    def item(self, id: str) -> str:
        """An item.

        Args:
            id: Its id.
        """
        if id == "missing":
            raise KeyError(id)
        return id


class TestSamples(ConnectorConformance):
    connector = Samples
    sample_calls = {"add": {"a": 1, "b": "two"}, "subtract": {}}
    resource_uris = ["items/1", "items/missing", "other://x"]
'''


def test_the_suite_reports_failing_samples(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_samples=SAMPLES)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "-k", "sample_calls or templates")
    result.assert_outcomes(failed=4)
    assert_in_output(
        result,
        [
            "sample_calls names tool 'subtract', which the server does not list",
            "resource 'samples://samples/items/missing' could not be read: "
            "samples://samples/items/missing failed unexpectedly (KeyError)",
            "tool 'samples_add' called with {'a': 1, 'b': 'two'} returned an error: Invalid "
            "arguments for samples_add: b: Input should be a valid integer",
            "resource_uris has 'other://x', which no listed resource or template serves",
        ],
    )


def test_the_suite_skips_what_it_has_no_samples_for(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_samples=SAMPLES.replace('"subtract": {}', '"add": {"a": 1, "b": 2}').replace(
            "resource_uris = [", "resource_uris = [] and ["
        )
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "-rs", "-k", "templates")
    result.assert_outcomes(skipped=2)
    assert_in_output(
        result, ["no resource_uris given for the templates ['samples://samples/items/{id}']"]
    )


# -- the helpers, called directly ------------------------------------------------------


def _tool(name: str = "t", **fields: Any) -> types.Tool:
    definition: dict[str, Any] = {
        "name": name,
        "description": "Does a thing.",
        "inputSchema": {"type": "object", "properties": {}},
        "annotations": {"readOnlyHint": True},
    }
    definition.update(fields)
    return types.Tool.model_validate(definition)


def test_a_clean_tool_passes_every_definition_check() -> None:
    check_tool_definitions([_tool(outputSchema={"type": "object"})])
    check_tool_definitions([_tool().model_dump(by_alias=True, exclude_none=True)])  # dicts too


def test_missing_descriptions_are_named() -> None:
    with pytest.raises(AssertionError, match=r"tool 'vague' has no description: give the function"):
        check_descriptions([_tool("vague", description="  ")])
    with pytest.raises(
        AssertionError, match=r"tool 'vague': arguments \['q'\] have no description"
    ):
        check_argument_descriptions(
            [
                _tool(
                    "vague", inputSchema={"type": "object", "properties": {"q": {"type": "string"}}}
                )
            ]
        )


def test_missing_annotations_are_named() -> None:
    with pytest.raises(AssertionError) as caught:
        check_tool_annotations(
            [_tool("bare", annotations=None), _tool("writer", annotations={"readOnlyHint": False})]
        )
    message = str(caught.value)
    assert (
        "tool 'bare' does not declare whether it is read-only: use @tool(read_only=True)" in message
    )
    assert (
        "tool 'writer' is not read-only but does not declare whether it is destructive" in message
    )


def test_over_long_and_odd_names_are_named() -> None:
    check_names(["a" * 64, "ok-name_1"])
    with pytest.raises(
        AssertionError, match=r"tool name 'a{65}' has 65 characters; clients accept"
    ):
        check_names(["a" * 65])
    with pytest.raises(AssertionError, match=r"prompt name 'has space' may use only letters"):
        check_names(["has space"], "prompt")


def test_bad_schemas_are_named() -> None:
    with pytest.raises(AssertionError, match=r"'t': inputSchema must have \"type\": \"object\""):
        check_input_schemas([_tool(inputSchema={"type": "string"})])
    with pytest.raises(
        AssertionError, match=r"'t': inputSchema is not a valid JSON Schema .* at type"
    ):
        check_input_schemas([_tool(inputSchema={"type": 5})])
    with pytest.raises(AssertionError, match=r"'t': outputSchema must have \"type\": \"object\""):
        check_output_schemas([_tool(outputSchema={"type": "array", "items": {}})])
    check_output_schemas([_tool()])  # no output schema is fine


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(AssertionError) as caught:
        check_tool_definitions([_tool("x" * 70, description=None, annotations=None)])
    assert str(caught.value).count("\n  - ") == 3


def test_prompt_and_resource_definitions() -> None:
    prompt = types.Prompt(name="ask", arguments=[types.PromptArgument(name="topic")])
    with pytest.raises(AssertionError) as caught:
        check_prompt_definitions([prompt])
    assert "prompt 'ask' has no description" in str(caught.value)
    assert "prompt 'ask': arguments ['topic'] have no description" in str(caught.value)
    resource = types.Resource(name="r", uri="x://r")
    template = types.ResourceTemplate(name="t", uri_template="x://{id}", description="By id.")
    with pytest.raises(AssertionError, match="resource 'r' has no description"):
        check_resource_definitions([resource], [template])


class GoodSettings(Settings):
    host: str = Field(default="localhost", description="Server host.")
    api_key: SecretStr | None = Field(default=None, description="API key.")


class BadSettings(Settings):
    host: str = "localhost"
    auth_token: str | None = Field(default=None, description="Token.")


def test_settings_models() -> None:
    check_settings_model(GoodSettings)
    check_settings_model(NoSettings)
    with pytest.raises(AssertionError) as caught:
        check_settings_model(BadSettings)
    assert "setting 'host' of BadSettings has no description" in str(caught.value)
    assert "setting 'auth_token' of BadSettings looks like a secret" in str(caught.value)


def test_structured_content_is_validated_against_the_output_schema() -> None:
    definition = _tool(outputSchema={"type": "object", "properties": {"n": {"type": "integer"}}})
    check_structured_content(
        definition, types.CallToolResult(content=[], structured_content={"n": 1})
    )
    with pytest.raises(
        AssertionError, match=r"outputSchema rejects:\n  - at n: 'one' is not of type"
    ):
        check_structured_content(
            definition, types.CallToolResult(content=[], structured_content={"n": "one"})
        )
    with pytest.raises(AssertionError, match="declares an outputSchema but returned no structured"):
        check_structured_content(definition, types.CallToolResult(content=[]))


def test_invalid_argument_cases_follow_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "anything": {},
            "mapping": {"type": "object"},
            "count": {"type": "integer"},
        },
        "required": ["count"],
    }
    cases = invalid_argument_cases(_tool(inputSchema=schema), {"count": 1})
    assert [(case.kind, case.arguments, case.field) for case in cases] == [
        ("missing", {}, "count"),
        # "anything" accepts every value; a dict is fine for "mapping": a number is not.
        ("wrong_type", {"count": 1, "mapping": 12345}, "mapping"),
        ("unknown", {"count": 1, UNKNOWN_ARGUMENT: 1}, UNKNOWN_ARGUMENT),
    ]


def test_a_refusal_must_name_the_tool_and_the_argument() -> None:
    case = ArgumentCase("missing", "missing required arguments", "db_query", {}, "sql")

    def result(text: str, is_error: bool = True) -> types.CallToolResult:
        return types.CallToolResult(content=[types.TextContent(text=text)], is_error=is_error)

    assert (
        rejection_problem(case, result("Invalid arguments for db_query: sql: Field required"))
        is None
    )
    assert "does not name the argument 'sql'" in str(
        rejection_problem(case, result("db_query: bad"))
    )
    assert "does not name the tool" in str(rejection_problem(case, result("sql is required")))
    assert "did not report an error" in str(rejection_problem(case, result("ok", is_error=False)))
    crashed = rejection_problem(case, result("db_query failed unexpectedly (KeyError); ..."))
    assert "crashed instead of reporting the bad argument" in str(crashed)


class Count(BaseModel):
    n: int


class Crashy(Connector[NoSettings]):
    """Tools that misbehave on purpose."""

    name = "crashy"

    @tool(read_only=True)
    def shout(self, text: Annotated[str, BeforeValidator(lambda value: value.upper())]) -> str:
        """Shout.

        Args:
            text: What to shout.
        """
        return text

    @tool(read_only=True)
    def count(self) -> Count:
        """Count, but break its own output schema."""
        return types.CallToolResult(  # type: ignore[return-value]
            content=[types.TextContent(text="one")], structured_content={"n": "one"}
        )


@pytest.mark.parametrize("mcp_mode", PROTOCOL_MODES)
async def test_call_checks_against_a_crashing_tool(plugbay_server: Any, mcp_mode: str) -> None:
    async with plugbay_server(Crashy) as h:
        tools = {tool.name: tool for tool in await h.list_tools()}
        with pytest.raises(AssertionError) as caught:
            await check_rejects_bad_arguments(h.client, [tools["crashy_shout"]])
        message = str(caught.value)
        assert (
            "tool 'crashy_shout' called with wrongly-typed text={'unexpected': 'object'}" in message
        )
        assert "crashed instead of reporting the bad argument" in message
        assert "AttributeError" in message
        assert "missing required" not in message
        assert "unknown argument" not in message
        await check_rejects_bad_arguments(
            h.client, [tools["crashy_shout"]], kinds=["missing", "unknown"]
        )
        with pytest.raises(
            AssertionError, match=r"tool 'crashy_count' .*(raised|outputSchema rejects)"
        ):
            await check_tool_call(h.client, tools["crashy_count"], {})


AUTHOR_TESTS = '''
import pytest
from plugbay import Connector, NoSettings, tool


class Echo(Connector[NoSettings]):
    """Echo."""

    name = "echo"

    @tool(read_only=True)
    def echo(self, text: str) -> str:
        """Echo the text.

        Args:
            text: What to echo.
        """
        return text


async def test_without_any_marker(plugbay_server):
    async with plugbay_server(Echo) as h:
        assert await h.call_ok("echo", text="hi") == "hi"


async def test_mcp_client_needs_plugins(mcp_client):
    pass
'''


def test_author_async_tests_run_without_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_author=AUTHOR_TESTS)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    assert_in_output(result, ["define a `plugbay_plugins` fixture returning the connector classes"])
