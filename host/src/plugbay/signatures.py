"""Turn a Python function's signature and docstring into MCP schemas and validators.

Everything here runs once per tool at assembly time; what it returns is what the
per-call path uses: a pydantic validator for the arguments and a serializer for the
result.
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model
from pydantic.fields import FieldInfo

from plugbay.context import Context
from plugbay.describing import markdown

_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Returns|Raises|Yields|Examples?|Notes?):\s*$"
)
_ARG_LINE = re.compile(r"^(\s*)(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


@dataclass(frozen=True, slots=True)
class Docstring:
    """A Google-style docstring split into what MCP needs."""

    summary: str
    """Everything before the first section (``Args:``, ``Returns:``, ...)."""
    arguments: dict[str, str]
    """Argument descriptions from the ``Args:`` section, by parameter name."""


def parse_docstring(function: Callable[..., Any]) -> Docstring:
    """Split a function's docstring into its description and argument descriptions.

    Both come back as Markdown (see :func:`plugbay.describing.markdown`).
    """
    text = inspect.getdoc(function) or ""
    summary_lines: list[str] = []
    arguments: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    indent: int | None = None
    for line in text.splitlines():
        heading = _SECTION.match(line)
        if heading:
            section = heading.group(1)
            current = None
            indent = None
            continue
        if section is None:
            summary_lines.append(line)
        elif section in ("Args", "Arguments", "Parameters"):
            match = _ARG_LINE.match(line)
            line_indent = len(line) - len(line.lstrip())
            if match and (indent is None or line_indent <= indent):
                indent = line_indent
                current = match.group(2).lstrip("*")
                arguments[current] = match.group(3).strip()
            elif current is not None and line.strip():
                arguments[current] = f"{arguments[current]} {line.strip()}".strip()
    return Docstring(
        summary=markdown("\n".join(summary_lines)),
        arguments={name: markdown(text) for name, text in arguments.items()},
    )


@dataclass(frozen=True, slots=True)
class Parameters:
    """The validated-arguments model of a function and how to call it."""

    model: type[BaseModel]
    """Validates the ``arguments`` of a call; unknown arguments are rejected."""
    schema: dict[str, Any]
    """The JSON schema of the arguments (an ``object`` schema)."""
    context_parameter: str | None
    """The name of the parameter that receives the :class:`Context`, if any."""
    names: tuple[str, ...]
    """Parameter names in order, without ``self`` and the context parameter."""


def _is_context(annotation: Any) -> bool:
    """Whether a parameter asks for the call context (``Context`` or ``Context | None``)."""
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_context(arg) for arg in get_args(annotation) if arg is not type(None))
    return isinstance(annotation, type) and issubclass(annotation, Context)


def function_parameters(
    function: Callable[..., Any], *, model_name: str, descriptions: dict[str, str]
) -> Parameters:
    """Build the argument model and JSON schema of ``function``.

    Args:
        function: A function or bound method; ``self`` is already bound away.
        model_name: A name for the generated model (shows up in error messages).
        descriptions: Parameter descriptions, usually from the docstring.

    Returns:
        The model, the schema, and the context parameter's name.

    Raises:
        TypeError: A parameter has no type hint, or is ``*args``/``**kwargs``.
    """
    signature = inspect.signature(function)
    hints = get_type_hints(function, include_extras=True)
    fields: dict[str, Any] = {}
    context_parameter: str | None = None
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"{model_name}: *args and **kwargs cannot be described as a schema")
        if parameter.name not in hints:
            raise TypeError(f"{model_name}: parameter {parameter.name!r} needs a type hint")
        annotation = hints[parameter.name]
        if _is_context(annotation):
            context_parameter = parameter.name
            continue
        default = parameter.default
        if isinstance(default, FieldInfo):
            info = default
            if info.description is None and parameter.name in descriptions:
                # Setting ``info.description`` would be lost when pydantic merges the
                # field (and would mutate the function's default); add it as metadata.
                annotation = Annotated[annotation, Field(description=descriptions[parameter.name])]
        elif parameter.name in descriptions:
            info = Field(
                default=... if default is parameter.empty else default,
                description=descriptions[parameter.name],
            )
        else:
            # No ``description=None`` here: it would erase one given in ``Annotated[..., Field()]``.
            info = Field(default=... if default is parameter.empty else default)
        fields[parameter.name] = (annotation, info)
    with warnings.catch_warnings():
        # A parameter may well be called ``schema`` or ``json``: on this internal model
        # that only hides BaseModel's deprecated methods of those names, which nothing calls.
        warnings.filterwarnings(
            "ignore", message=r"Field name .* shadows an attribute in parent", category=UserWarning
        )
        model = create_model(
            model_name,
            __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=False),
            **fields,
        )
    schema = strip_titles(model.model_json_schema())
    schema.setdefault("properties", {})
    return Parameters(
        model=model,
        schema=schema,
        context_parameter=context_parameter,
        names=tuple(fields),
    )


def strip_titles(schema: Any) -> Any:
    """Drop the ``title`` pydantic puts on every schema: it repeats the name and costs tokens."""
    if isinstance(schema, list):
        return [strip_titles(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "definitions", "patternProperties") and isinstance(
            value, dict
        ):
            cleaned[key] = {name: strip_titles(item) for name, item in value.items()}
        else:
            cleaned[key] = strip_titles(value)
    return cleaned


def return_annotation(function: Callable[..., Any]) -> Any:
    """The function's return type hint, or ``inspect.Signature.empty`` when absent."""
    hints = get_type_hints(function, include_extras=True)
    return hints.get("return", inspect.Signature.empty)


def schema_of(annotation: Any) -> tuple[TypeAdapter[Any], dict[str, Any]]:
    """A serializer for values of ``annotation`` and their JSON schema."""
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    schema = strip_titles(adapter.json_schema(mode="serialization"))
    return adapter, schema
