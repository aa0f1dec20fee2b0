"""Docstrings and type hints become descriptions, input schemas and validators."""

import enum
import inspect
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field, ValidationError

from plugbay import AssemblyError, Context, tool
from plugbay.catalog import Owner, build_tool
from plugbay.components import tool_spec
from plugbay.signatures import (
    function_parameters,
    parse_docstring,
    return_annotation,
    schema_of,
    strip_titles,
)


class Address(BaseModel):
    """A postal address."""

    street: str
    city: str = "Paris"


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


def _contains_key(value: Any, key: str) -> bool:
    if isinstance(value, dict):
        return any(k == key and isinstance(v, str) for k, v in value.items()) or any(
            _contains_key(v, key) for v in value.values()
        )
    if isinstance(value, list):
        return any(_contains_key(v, key) for v in value)
    return False


def test_docstring_summary_and_arguments() -> None:
    def search(query: str, limit: int = 10, *tags: str, **extra: str) -> None:
        """Search the people in the CRM.

        Matches names and e-mail addresses.

        Args:
            query (str): What to look for;
                continued on a second line.
            limit: How many results to return.
            *tags: Tags to filter on.
            **extra: Anything else.

        Returns:
            Nothing at all.

        Raises:
            ValueError: never.
        """

    doc = parse_docstring(search)
    assert doc.summary == "Search the people in the CRM.\n\nMatches names and e-mail addresses."
    assert doc.arguments == {
        "query": "What to look for; continued on a second line.",
        "limit": "How many results to return.",
        "tags": "Tags to filter on.",
        "extra": "Anything else.",
    }


def test_docstring_nested_key_value_lines_stay_in_their_argument() -> None:
    def run(mode: str, limit: int) -> None:
        """Run it.

        Arguments:
            mode: One of:
                fast: quickly
                slow: carefully
            limit: The most.
        """

    doc = parse_docstring(run)
    assert doc.arguments == {"mode": "One of: fast: quickly slow: carefully", "limit": "The most."}


def test_docstring_absent_or_without_sections() -> None:
    def bare(x: int) -> None:
        pass

    def short(x: int) -> None:
        """Only a summary."""

    assert parse_docstring(bare).summary == ""
    assert parse_docstring(bare).arguments == {}
    assert parse_docstring(short).summary == "Only a summary."
    assert parse_docstring(short).arguments == {}


def test_schema_from_type_hints() -> None:
    def create(
        name: str,
        count: int,
        address: Address,
        colour: Colour,
        size: Literal["s", "m", "l"] = "m",
        note: Optional[str] = None,  # noqa: UP045 - the Optional spelling is what is tested
        rating: Annotated[int, Field(ge=1, le=5)] = 3,
        ctx: Context | None = None,
    ) -> None:
        """Create one.

        Args:
            name: The name.
            count: How many.
            address: Where.
            colour: Which colour.
            size: The size.
            note: A note.
            rating: Stars.
        """

    descriptions = parse_docstring(create).arguments
    params = function_parameters(create, model_name="create_arguments", descriptions=descriptions)
    schema = params.schema
    assert schema["type"] == "object"
    assert schema["required"] == ["name", "count", "address", "colour"]
    props = schema["properties"]
    assert set(props) == {"name", "count", "address", "colour", "size", "note", "rating"}
    assert props["name"] == {"type": "string", "description": "The name."}
    assert props["count"] == {"type": "integer", "description": "How many."}
    assert props["size"]["enum"] == ["s", "m", "l"]
    assert props["size"]["default"] == "m"
    assert props["note"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert props["note"]["default"] is None
    assert props["rating"]["minimum"] == 1
    assert props["rating"]["maximum"] == 5
    assert props["rating"]["default"] == 3
    assert props["rating"]["description"] == "Stars."
    assert props["address"]["$ref"] == "#/$defs/Address"
    address = schema["$defs"]["Address"]
    assert address["required"] == ["street"]
    assert address["properties"]["city"] == {"type": "string", "default": "Paris"}
    assert schema["$defs"]["Colour"]["enum"] == ["red", "blue"]
    assert not _contains_key(schema, "title")
    # `Context | None` asks for the context too, and stays out of the schema.
    assert params.context_parameter == "ctx"
    assert params.names == ("name", "count", "address", "colour", "size", "note", "rating")


def test_context_parameter_is_hidden_and_remembered() -> None:
    def tool_fn(text: str, ctx: Context) -> str:
        return text

    params = function_parameters(tool_fn, model_name="m", descriptions={})
    assert params.context_parameter == "ctx"
    assert params.names == ("text",)
    assert "ctx" not in params.schema["properties"]


def test_validator_rejects_extra_and_checks_constraints() -> None:
    def rate(stars: Annotated[int, Field(ge=1, le=5)], address: Address) -> None:
        pass

    model = function_parameters(rate, model_name="rate_arguments", descriptions={}).model
    value = model.model_validate({"stars": "4", "address": {"street": "Rue"}})
    assert value.stars == 4
    assert value.address == Address(street="Rue")
    with pytest.raises(ValidationError) as caught:
        model.model_validate({"stars": 9, "address": {"street": "Rue"}, "other": 1})
    locations = {error["loc"] for error in caught.value.errors()}
    assert locations == {("stars",), ("other",)}


def test_field_default_keeps_its_description_and_gains_the_docstrings() -> None:
    def f(a: int = Field(1, description="explicit"), b: int = Field(2)) -> None:
        """F.

        Args:
            a: From the docstring.
            b: Also from the docstring.
        """

    params = function_parameters(f, model_name="f", descriptions=parse_docstring(f).arguments)
    assert params.schema["properties"]["a"]["description"] == "explicit"
    assert params.schema["properties"]["b"]["description"] == "Also from the docstring."
    assert params.schema["properties"]["b"]["default"] == 2
    assert "required" not in params.schema


def test_no_parameters_gives_an_empty_object_schema() -> None:
    def nothing() -> None:
        pass

    params = function_parameters(nothing, model_name="n", descriptions={})
    assert params.schema == {"type": "object", "properties": {}, "additionalProperties": False}
    assert params.names == ()


def test_missing_hint_and_var_args_are_type_errors() -> None:
    def untyped(x, y: int) -> None:  # type: ignore[no-untyped-def]
        pass

    def star(*args: int) -> None:
        pass

    with pytest.raises(TypeError, match="parameter 'x' needs a type hint"):
        function_parameters(untyped, model_name="untyped_arguments", descriptions={})
    with pytest.raises(TypeError, match=r"\*args and \*\*kwargs"):
        function_parameters(star, model_name="star_arguments", descriptions={})


def test_missing_hint_is_an_assembly_error_naming_the_plugin() -> None:
    @tool
    def untyped(x) -> str:  # type: ignore[no-untyped-def]
        return str(x)

    spec = tool_spec(untyped)
    assert spec is not None
    with pytest.raises(AssemblyError) as caught:
        build_tool(untyped, spec, Owner(plugin="acme"), middleware=[], default_timeout=None)
    message = str(caught.value)
    assert "plugin 'acme'" in message
    assert "tool 'untyped'" in message
    assert "'x' needs a type hint" in message


def test_missing_hint_via_assembly_marks_the_plugin_failed(build, bundle) -> None:
    def untyped(x) -> str:  # type: ignore[no-untyped-def]
        return str(x)

    def fine(x: int) -> int:
        return x

    assembly = build({"broken": bundle(tools=[untyped]), "good": bundle(tools=[fine])})
    assert "fine" in assembly.catalog.tools
    assert "untyped" not in assembly.catalog.tools
    info = assembly.registry.plugins["broken"]
    assert info.status == "failed"
    assert any("'x' needs a type hint" in error for error in info.errors)
    assert any(problem.startswith("plugin 'broken': ") for problem in assembly.problems)


def test_return_annotation_and_schema_of() -> None:
    def typed() -> list[int]:
        return []

    def untyped():  # type: ignore[no-untyped-def]
        return None

    assert return_annotation(typed) == list[int]
    assert return_annotation(untyped) is inspect.Signature.empty
    adapter, schema = schema_of(Address)
    assert adapter.dump_python(Address(street="x"), mode="json") == {"street": "x", "city": "Paris"}
    assert schema["type"] == "object"
    assert "title" not in schema


def test_strip_titles_keeps_a_property_named_title() -> None:
    schema = {
        "title": "Book",
        "type": "object",
        "properties": {"title": {"title": "Title", "type": "string"}},
        "$defs": {"X": {"title": "X", "type": "integer"}},
        "anyOf": [{"title": "A", "type": "string"}],
    }
    assert strip_titles(schema) == {
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "$defs": {"X": {"type": "integer"}},
        "anyOf": [{"type": "string"}],
    }


def test_annotated_description_is_kept_without_a_docstring_entry() -> None:
    def tag(label: Annotated[str, Field(description="From Annotated", min_length=1)] = "x") -> None:
        pass

    schema = function_parameters(tag, model_name="tag", descriptions={}).schema
    assert schema["properties"]["label"] == {
        "type": "string",
        "description": "From Annotated",
        "minLength": 1,
        "default": "x",
    }


def test_unsupported_types_are_assembly_errors() -> None:
    from typing import TypedDict  # pydantic refuses typing.TypedDict on Python < 3.12

    class Legacy(TypedDict):
        a: int

    def legacy(value: int) -> Legacy:
        return {"a": value}

    spec = tool_spec(tool(legacy))
    with pytest.raises(AssemblyError, match=r"plugin 'acme': tool 'legacy': .*TypedDict"):
        build_tool(legacy, spec, Owner(plugin="acme"), middleware=[], default_timeout=None)
