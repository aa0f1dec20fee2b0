"""Check that descriptions and error messages name sibling tools as the catalog lists them.

A connector's tools are listed as ``<instance>_<tool>``: a description or an error that
says ``list_tables`` names a tool the model cannot call. Authors write
``{tool:list_tables}`` in descriptions and ``self.tool_name("list_tables")`` in
messages; this finds the places that do not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from plugbay import Connector
from plugbay.components import tool_spec
from plugbay_testing.call_checks import invalid_argument_cases
from plugbay_testing.harness import Harness, result_text


def tool_base_names(connector: type[Connector[Any]]) -> list[str]:
    """The names of a connector's decorated tools, without any instance prefix."""
    names = []
    for attribute, function in connector.members():
        spec = tool_spec(function)
        if spec is not None:
            names.append(spec.name or attribute)
    return names


def _pattern(name: str) -> re.Pattern[str]:
    # A name with '_' (list_tables) is a tool name wherever it stands; a one-word name
    # (query, execute) only where it is written as code, since it is also an English word.
    if "_" in name or "-" in name:
        return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
    return re.compile(rf"`{re.escape(name)}`|(?<![\w-]){re.escape(name)}\(")


def sibling_name_problems(
    texts: Iterable[tuple[str, str | None]],
    instance: str,
    names: Iterable[str],
    own: str | None = None,
) -> list[str]:
    """The texts that name one of ``names`` without the ``<instance>_`` prefix.

    Args:
        texts: ``(where, text)`` pairs: a description or an error message and what it is.
        instance: The instance the tools are listed under.
        names: The connector's tool names, unprefixed.
        own: The tool the texts belong to: its own name is not a sibling's (an Odoo
            ``read_group`` tool may well name Odoo's ``read_group``).

    Returns:
        One line per text and name found bare.
    """
    patterns = {name: _pattern(name) for name in names if name and name != own}
    problems = []
    for where, text in texts:
        if not text:
            continue
        for name, pattern in patterns.items():
            if pattern.search(text):
                problems.append(
                    f"{where} names the tool {name!r}, which is listed as "
                    f"{instance + '_' + name!r}: write {{tool:{name}}} in descriptions and "
                    f"self.tool_name({name!r}) in messages: {text[:160]!r}"
                )
    return problems


def schema_descriptions(schema: Any, where: str) -> list[tuple[str, str | None]]:
    """Every ``description`` in a JSON schema, with where it is."""
    found: list[tuple[str, str | None]] = []
    if isinstance(schema, list):
        for item in schema:
            found.extend(schema_descriptions(item, where))
    elif isinstance(schema, dict):
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                found.append((where, value))
            else:
                found.extend(schema_descriptions(value, where))
    return found


async def listed_sibling_problems(
    harness: Harness,
    connector: type[Connector[Any]],
    instance: str,
    valid_arguments: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """Check what a server lists (input and output schemas too) and bad-argument errors.

    Args:
        harness: The server under test.
        connector: The connector class whose tool names are looked for.
        instance: The instance it serves as.
        valid_arguments: Known-good arguments by full tool name (sample calls).

    Returns:
        The problems :func:`sibling_name_problems` finds.
    """
    tools = await harness.list_tools()
    names = tool_base_names(connector)
    problems = []
    for tool in tools:
        own = tool.name.removeprefix(f"{instance}_")
        texts = [(f"tool {tool.name!r}'s description", tool.description)]
        texts.extend(schema_descriptions(tool.input_schema, f"tool {tool.name!r}'s arguments"))
        texts.extend(schema_descriptions(tool.output_schema, f"tool {tool.name!r}'s output"))
        for case in invalid_argument_cases(tool, valid_arguments.get(tool.name)):
            result = await harness.client.call_tool(case.tool, case.arguments)
            if result.is_error:
                where = f"the error of {case.tool!r} called with {case.label}"
                texts.append((where, result_text(result)))
        problems.extend(sibling_name_problems(texts, instance, names, own))
    others: list[tuple[str, str | None]] = []
    for kind, items in (
        ("prompt", await harness.list_prompts()),
        ("resource", await harness.list_resources()),
        ("resource template", await harness.list_resource_templates()),
    ):
        others.extend((f"{kind} {item.name!r}", item.description) for item in items)
    return [*problems, *sibling_name_problems(others, instance, names)]
