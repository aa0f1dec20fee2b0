"""What a model reads in a listing: descriptions written for it, not for Sphinx.

Three rewrites, all at assembly time:

- reStructuredText markup from docstrings becomes Markdown (:func:`markdown`), so
  ````x```` reads as `` `x` `` and Sphinx roles and field lists do not cost tokens;
- ``{tool:list_tables}`` becomes the catalog name of a sibling tool, ``<instance>_list_tables``
  (:func:`expand_tool_names`), so a description never names a tool that is not listed;
- the instance's facts (:meth:`plugbay.Connector.instance_facts`) end every tool
  description of the instance (:func:`with_facts`), so a model can tell two instances
  of one connector apart without calling anything first.
"""

from __future__ import annotations

import re
from typing import Any

from plugbay.errors import AssemblyError

_DOUBLE_BACKTICKS = re.compile(r"``(.+?)``", re.DOTALL)
# :func:`name`, :meth:`~pkg.Class.name`, :py:class:`Name`: the role goes, the name stays.
_ROLE = re.compile(r":(?:\w+:)?\w+:`(~?)([^`<]+?)(?:\s*<[^`>]*>)?`")
_FIELD_LINE = re.compile(r"^\s*:(?:param|parameter|arg|type|rtype|returns?|raises?|yields?)\b")
_TOOL_PLACEHOLDER = re.compile(r"\{tool:([A-Za-z0-9_-]+)\}")


def _role(match: re.Match[str]) -> str:
    name = match.group(2).strip()
    if match.group(1):  # ~a.b.c shows only c, as Sphinx does
        name = name.rsplit(".", 1)[-1]
    return f"`{name}`"


def markdown(text: str) -> str:
    """Rewrite the reStructuredText of a docstring as Markdown.

    ````code```` becomes `` `code` ``, roles (``:func:`name```) become `` `name` ``,
    Sphinx field lines (``:param x:``, ``:returns:``) are dropped (the ``Args:`` section
    describes arguments), and a paragraph's closing ``::`` becomes ``:``.
    """
    lines = [line for line in text.splitlines() if not _FIELD_LINE.match(line)]
    text = "\n".join(lines)
    text = _ROLE.sub(_role, text)
    text = _DOUBLE_BACKTICKS.sub(lambda match: f"`{match.group(1)}`", text)
    return re.sub(r"(?<=\S)::$", ":", text, flags=re.MULTILINE).strip()


def tool_name(instance: str | None, name: str) -> str:
    """The catalog name of tool ``name`` of ``instance`` (``<instance>_<name>``)."""
    return f"{instance}_{name}" if instance else name


def expand_tool_names(text: str, instance: str | None) -> str:
    """Replace every ``{tool:<name>}`` in ``text`` by the catalog name of that tool."""
    if "{tool:" not in text:
        return text
    return _TOOL_PLACEHOLDER.sub(lambda match: tool_name(instance, match.group(1)), text)


def describe_schema(schema: Any, instance: str | None) -> Any:
    """A JSON schema whose ``description`` strings are Markdown with tool names expanded."""
    if isinstance(schema, list):
        return [describe_schema(item, instance) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "description" and isinstance(value, str):
            # Output schemas carry the docstrings of TypedDicts and models.
            result[key] = expand_tool_names(markdown(value), instance)
        elif key in ("properties", "$defs", "definitions", "patternProperties") and isinstance(
            value, dict
        ):
            result[key] = {name: describe_schema(item, instance) for name, item in value.items()}
        else:
            result[key] = describe_schema(value, instance)
    return result


def with_facts(description: str | None, facts: str | None) -> str | None:
    """``description`` with the instance's facts as its last line (when there are any)."""
    if not facts:
        return description
    if not description:
        return facts
    return f"{description}\n\n{facts}"


def instance_facts(connector: Any) -> str | None:
    """A connector's :meth:`~plugbay.Connector.instance_facts`, as one line.

    Raises:
        AssemblyError: The method raised or returned something other than a string.
    """
    try:
        facts = connector.instance_facts()
    except Exception as error:
        raise AssemblyError(f"instance_facts() failed: {type(error).__name__}: {error}") from None
    if facts is not None and not isinstance(facts, str):
        raise AssemblyError(f"instance_facts() returned {type(facts).__name__}, not a string")
    return " ".join(facts.split()) if facts else None
