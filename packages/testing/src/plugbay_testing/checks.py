"""Assertion helpers for what a server lists: tools, prompts, resources, settings models.

Each ``check_*`` function looks at everything it is given and raises one
``AssertionError`` that lists every problem, each naming the component and saying
what to change. They take the objects the ``mcp`` client returns (``mcp_types.Tool``
and friends) or the equivalent JSON dictionaries, so they work on any MCP server's
listings, not only plugbay's.
"""

from __future__ import annotations

import re
import types as pytypes
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union, get_args, get_origin

import mcp_types as types
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, SecretBytes, SecretStr

# The rule the host names components by: the checks hold other servers to it too.
from plugbay.catalog import MAX_NAME_LENGTH, NAME_PATTERN

SECRET_NAME = re.compile(
    r"password|passwd|passphrase|token|api_?key|secret|private_?key|credential"
)
"""Setting names that hold secrets and so must be ``SecretStr``."""


def raise_problems(
    headline: str, problems: Sequence[str], *, error: type[Exception] = AssertionError
) -> None:
    """Raise one ``error`` (an ``AssertionError``) listing ``problems`` under ``headline``.

    Nothing is raised when there are no problems.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this helper's
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise error(f"{headline}:\n{listed}")


def _tool(value: types.Tool | Mapping[str, Any]) -> types.Tool:
    return value if isinstance(value, types.Tool) else types.Tool.model_validate(value)


def _prompt(value: types.Prompt | Mapping[str, Any]) -> types.Prompt:
    return value if isinstance(value, types.Prompt) else types.Prompt.model_validate(value)


def _missing(text: str | None) -> bool:
    return text is None or not text.strip()


# -- problem finders: each returns a list of readable problems ---------------------------


def description_problems(items: Iterable[Any], kind: str) -> list[str]:
    """Components without a description; ``kind`` names them in the messages ("tool")."""
    return [
        f"{kind} {item.name!r} has no description: give the function a docstring "
        "(its first paragraph is what a model reads to choose it)"
        for item in items
        if _missing(item.description)
    ]


def argument_description_problems(tools: Iterable[types.Tool | Mapping[str, Any]]) -> list[str]:
    """Tool arguments without a description."""
    problems = []
    for tool in map(_tool, tools):
        properties = tool.input_schema.get("properties", {}) or {}
        undescribed = [
            name for name, schema in properties.items() if _missing(_description(schema))
        ]
        if undescribed:
            problems.append(
                f"tool {tool.name!r}: arguments {undescribed} have no description; document them "
                "in the docstring's Args: section or with Field(description=...)"
            )
    return problems


def _description(schema: Any) -> str | None:
    if not isinstance(schema, Mapping):
        return None
    return schema.get("description")


def _schema_problems(schema: Any, what: str) -> list[str]:
    if not isinstance(schema, Mapping):
        return [f"{what} is not a JSON object but {type(schema).__name__}"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        path = "/".join(str(part) for part in error.absolute_path) or "(root)"
        return [f"{what} is not a valid JSON Schema (Draft 2020-12) at {path}: {error.message}"]
    if schema.get("type") != "object":
        return [f'{what} must have "type": "object", not {schema.get("type")!r}']
    return []


def input_schema_problems(tools: Iterable[types.Tool | Mapping[str, Any]]) -> list[str]:
    """Input schemas that are not valid Draft 2020-12 JSON Schemas of type object."""
    problems: list[str] = []
    for tool in map(_tool, tools):
        problems.extend(_schema_problems(tool.input_schema, f"tool {tool.name!r}: inputSchema"))
    return problems


def output_schema_problems(tools: Iterable[types.Tool | Mapping[str, Any]]) -> list[str]:
    """Output schemas (where given) that are not valid JSON Schemas of type object."""
    problems: list[str] = []
    for tool in map(_tool, tools):
        if tool.output_schema is not None:
            what = f"tool {tool.name!r}: outputSchema"
            problems.extend(_schema_problems(tool.output_schema, what))
    return problems


def name_problems(names: Iterable[str], kind: str = "tool") -> list[str]:
    """Names clients would reject: more than 64 characters, or not ``[A-Za-z0-9_-]``."""
    problems = []
    for name in names:
        if len(name) > MAX_NAME_LENGTH:
            problems.append(
                f"{kind} name {name!r} has {len(name)} characters; clients accept at most "
                f"{MAX_NAME_LENGTH} "
                "(shorten it: the instance name and '_' come in front of it)"
            )
        elif not NAME_PATTERN.match(name):
            problems.append(f"{kind} name {name!r} may use only letters, digits, '_' and '-'")
    return problems


def annotation_problems(tools: Iterable[types.Tool | Mapping[str, Any]]) -> list[str]:
    """Tools that do not declare whether they are read-only (and, if not, destructive)."""
    problems = []
    for tool in map(_tool, tools):
        annotations = tool.annotations
        if annotations is None or annotations.read_only_hint is None:
            problems.append(
                f"tool {tool.name!r} does not declare whether it is read-only: "
                "use @tool(read_only=True) or @tool(read_only=False, destructive=...)"
            )
        elif not annotations.read_only_hint and annotations.destructive_hint is None:
            problems.append(
                f"tool {tool.name!r} is not read-only but does not declare whether it is "
                "destructive: add destructive=True or destructive=False to @tool"
            )
    return problems


def tool_definition_problems(tools: Iterable[types.Tool | Mapping[str, Any]]) -> list[str]:
    """Every problem the definition checks find in ``tools``."""
    listed = [_tool(tool) for tool in tools]
    return [
        *name_problems((tool.name for tool in listed), "tool"),
        *description_problems(listed, "tool"),
        *argument_description_problems(listed),
        *input_schema_problems(listed),
        *output_schema_problems(listed),
        *annotation_problems(listed),
    ]


def prompt_definition_problems(prompts: Iterable[types.Prompt | Mapping[str, Any]]) -> list[str]:
    """Prompts with bad names or without descriptions (of their own or their arguments)."""
    listed = [_prompt(prompt) for prompt in prompts]
    return [
        *name_problems((prompt.name for prompt in listed), "prompt"),
        *description_problems(listed, "prompt"),
        *prompt_argument_problems(listed),
    ]


def prompt_argument_problems(prompts: Iterable[types.Prompt | Mapping[str, Any]]) -> list[str]:
    """Prompt arguments without a description."""
    problems = []
    for prompt in map(_prompt, prompts):
        undescribed = [arg.name for arg in prompt.arguments or [] if _missing(arg.description)]
        if undescribed:
            problems.append(
                f"prompt {prompt.name!r}: arguments {undescribed} have no description; "
                "document them in the docstring's Args: section"
            )
    return problems


def _unwrap(annotation: Any) -> list[Any]:
    """The types inside ``Optional``/``Union``/``Annotated``/containers, flattened."""
    origin = get_origin(annotation)
    if origin is None:
        return [annotation]
    found = [annotation] if origin not in (Union, pytypes.UnionType) else []
    for argument in get_args(annotation):
        found.extend(_unwrap(argument))
    return found


def _holds_secret(annotation: Any) -> bool:
    return any(
        isinstance(item, type) and issubclass(item, SecretStr | SecretBytes)
        for item in _unwrap(annotation)
    )


def settings_problems(model: type[BaseModel]) -> list[str]:
    """Settings without a description, and secret-looking settings that are not ``SecretStr``."""
    problems = []
    for name, field in model.model_fields.items():
        if _missing(field.description):
            problems.append(
                f"setting {name!r} of {model.__name__} has no description: use "
                "Field(description=...) (it is what `plugbay config check` shows users)"
            )
        if SECRET_NAME.search(name.lower()) and not _holds_secret(field.annotation):
            problems.append(
                f"setting {name!r} of {model.__name__} looks like a secret but is "
                f"{getattr(field.annotation, '__name__', field.annotation)!s}: declare it as "
                "pydantic.SecretStr so it never appears in logs or reprs"
            )
    return problems


# -- the assertions ----------------------------------------------------------------------


def check_tool_definitions(tools: Iterable[types.Tool | Mapping[str, Any]]) -> None:
    """Assert that every tool is well named, described, schema'd and annotated.

    Checks names (``^[A-Za-z0-9_-]{1,64}$``), descriptions of tools and their
    arguments, input and output schemas (valid Draft 2020-12 JSON Schema, of type
    object) and annotations (``readOnlyHint`` declared; ``destructiveHint`` declared
    for tools that are not read-only).

    Args:
        tools: Tools as listed by a client (``mcp_types.Tool``) or as JSON dicts.

    Raises:
        AssertionError: Listing every problem found.
    """
    __tracebackhide__ = True
    raise_problems("tool definitions have problems", tool_definition_problems(tools))


def check_descriptions(items: Iterable[Any], kind: str = "tool") -> None:
    """Assert that every item (tool, prompt, resource, template) has a description."""
    __tracebackhide__ = True
    raise_problems(f"some {kind}s have no description", description_problems(items, kind))


def check_argument_descriptions(tools: Iterable[types.Tool | Mapping[str, Any]]) -> None:
    """Assert that every tool argument has a description."""
    __tracebackhide__ = True
    raise_problems("some tool arguments have no description", argument_description_problems(tools))


def check_input_schemas(tools: Iterable[types.Tool | Mapping[str, Any]]) -> None:
    """Assert that input schemas are valid Draft 2020-12 JSON Schemas of type object."""
    __tracebackhide__ = True
    raise_problems("some input schemas are invalid", input_schema_problems(tools))


def check_output_schemas(tools: Iterable[types.Tool | Mapping[str, Any]]) -> None:
    """Assert that output schemas, where given, are valid JSON Schemas of type object."""
    __tracebackhide__ = True
    raise_problems("some output schemas are invalid", output_schema_problems(tools))


def check_names(names: Iterable[str], kind: str = "tool") -> None:
    """Assert that names match ``^[A-Za-z0-9_-]{1,64}$``."""
    __tracebackhide__ = True
    raise_problems(f"some {kind} names would be rejected by clients", name_problems(names, kind))


def check_tool_annotations(tools: Iterable[types.Tool | Mapping[str, Any]]) -> None:
    """Assert that tools declare ``read_only`` (and ``destructive`` when not read-only)."""
    __tracebackhide__ = True
    raise_problems("some tools do not declare their annotations", annotation_problems(tools))


def check_prompt_definitions(prompts: Iterable[types.Prompt | Mapping[str, Any]]) -> None:
    """Assert that prompts are well named and described, arguments included."""
    __tracebackhide__ = True
    raise_problems("prompt definitions have problems", prompt_definition_problems(prompts))


def check_resource_definitions(
    resources: Iterable[types.Resource], templates: Iterable[types.ResourceTemplate] = ()
) -> None:
    """Assert that resources and resource templates have descriptions."""
    __tracebackhide__ = True
    problems = [
        *description_problems(resources, "resource"),
        *description_problems(templates, "resource template"),
    ]
    raise_problems("resource definitions have problems", problems)


def check_settings_model(model: type[BaseModel]) -> None:
    """Assert that every setting is described and secret-looking settings are ``SecretStr``."""
    __tracebackhide__ = True
    raise_problems(f"settings model {model.__name__} has problems", settings_problems(model))


def check_structured_content(
    tool: types.Tool | Mapping[str, Any], result: types.CallToolResult
) -> None:
    """Assert that a successful result carries structured content matching the output schema."""
    __tracebackhide__ = True
    definition = _tool(tool)
    if definition.output_schema is None:
        return
    if result.structured_content is None:
        raise AssertionError(
            f"tool {definition.name!r} declares an outputSchema but returned no structuredContent"
        )
    validator = Draft202012Validator(definition.output_schema)
    problems = [
        f"at {'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(result.structured_content)
    ]
    raise_problems(
        f"tool {definition.name!r} returned structuredContent its outputSchema rejects", problems
    )
