"""Turn what a tool, resource or prompt returns into MCP results.

The choice of conversion is made once per component from its return type; the
per-call work is only the conversion itself.
"""

from __future__ import annotations

import base64
import inspect
import json
import types as pytypes
from collections.abc import Callable, Sequence
from typing import Any, Union, get_args, get_origin

import mcp_types as types
from pydantic import BaseModel, TypeAdapter
from pydantic_core import to_json

from plugbay.content import Audio, File, Image, Message
from plugbay.signatures import schema_of

_CONTENT_BLOCKS = (
    types.TextContent,
    types.ImageContent,
    types.AudioContent,
    types.EmbeddedResource,
    types.ResourceLink,
)
_CONTENT_VALUES = (Image, Audio, File)
_CONTENT_TYPES = (*_CONTENT_BLOCKS, *_CONTENT_VALUES)

ContentBlock = (
    types.TextContent
    | types.ImageContent
    | types.AudioContent
    | types.EmbeddedResource
    | types.ResourceLink
)


def text_result(text: str, *, is_error: bool = False) -> types.CallToolResult:
    """A tool result holding one text block."""
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], is_error=is_error
    )


def _is_content_type(annotation: Any) -> bool:
    """Whether ``annotation`` is a content type, a union of them, or a list of them."""
    origin = get_origin(annotation)
    if origin in (list, Sequence, tuple):
        return all(_is_content_type(arg) for arg in get_args(annotation) if arg is not Ellipsis)
    if origin in (Union, pytypes.UnionType):
        return all(_is_content_type(arg) for arg in get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, _CONTENT_TYPES)


def _to_block(value: Any) -> ContentBlock:
    if isinstance(value, _CONTENT_BLOCKS):
        return value
    if isinstance(value, _CONTENT_VALUES):
        return value.to_content()
    if isinstance(value, str):
        return types.TextContent(type="text", text=value)
    return types.TextContent(type="text", text=to_json(value).decode())


def _content_result(value: Any) -> types.CallToolResult:
    items = value if isinstance(value, list | tuple) else [value]
    return types.CallToolResult(content=[_to_block(item) for item in items])


def _dynamic_result(value: Any) -> types.CallToolResult:
    """Convert a value whose type was not declared, by looking at it."""
    if isinstance(value, types.CallToolResult):
        return value
    if value is None:
        return types.CallToolResult(content=[])
    if isinstance(value, str):
        return text_result(value)
    if isinstance(value, _CONTENT_TYPES) or (
        isinstance(value, list)
        and value
        and all(isinstance(item, _CONTENT_TYPES) for item in value)
    ):
        return _content_result(value)
    structured = TypeAdapter(type(value)).dump_python(value, mode="json")
    if not isinstance(structured, dict):
        structured = {"result": structured}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=json.dumps(structured, ensure_ascii=False))],
        structured_content=structured,
    )


class ToolOutput:
    """How one tool's return values become ``CallToolResult``s.

    Attributes:
        schema: The ``outputSchema`` to advertise, or ``None`` for unstructured tools.
    """

    __slots__ = ("_adapter", "_wrap", "convert", "schema")

    def __init__(self, annotation: Any) -> None:
        self.schema: dict[str, Any] | None = None
        self._adapter: TypeAdapter[Any] | None = None
        self._wrap = False
        self.convert: Callable[[Any], types.CallToolResult]
        if annotation is inspect.Signature.empty or annotation is Any:
            self.convert = _dynamic_result
        elif annotation is None or annotation is type(None):
            self.convert = lambda _value: types.CallToolResult(content=[])
        elif annotation is str:
            self.convert = lambda value: text_result(str(value))
        elif annotation is types.CallToolResult:
            self.convert = _dynamic_result
        elif _is_content_type(annotation):
            self.convert = _content_result
        else:
            adapter, schema = schema_of(annotation)
            self._adapter = adapter
            if schema.get("type") != "object":
                # MCP output schemas describe objects: other values travel as {"result": value}.
                self._wrap = True
                defs = schema.pop("$defs", None)
                schema = {
                    "type": "object",
                    "properties": {"result": schema},
                    "required": ["result"],
                }
                if defs:
                    schema["$defs"] = defs
            schema.pop("title", None)
            self.schema = schema
            self.convert = self._structured

    def _structured(self, value: Any) -> types.CallToolResult:
        if isinstance(value, types.CallToolResult):
            return value
        assert self._adapter is not None
        structured = self._adapter.dump_python(value, mode="json")
        if self._wrap:
            structured = {"result": structured}
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=to_json(structured).decode())],
            structured_content=structured,
        )


def resource_contents(
    value: Any, *, uri: str, mime_type: str | None
) -> list[types.TextResourceContents | types.BlobResourceContents]:
    """Turn what a resource function returned into ``ReadResourceResult.contents``."""
    if isinstance(value, types.TextResourceContents | types.BlobResourceContents):
        return [value]
    if isinstance(value, list) and all(
        isinstance(item, types.TextResourceContents | types.BlobResourceContents) for item in value
    ):
        return value
    if isinstance(value, str):
        return [
            types.TextResourceContents(uri=uri, mime_type=mime_type or "text/plain", text=value)
        ]
    if isinstance(value, bytes | bytearray):
        return [
            types.BlobResourceContents(
                uri=uri,
                mime_type=mime_type or "application/octet-stream",
                blob=base64.b64encode(value).decode(),
            )
        ]
    text = value.model_dump_json() if isinstance(value, BaseModel) else to_json(value).decode()
    return [
        types.TextResourceContents(uri=uri, mime_type=mime_type or "application/json", text=text)
    ]


def prompt_messages(value: Any) -> list[types.PromptMessage]:
    """Turn what a prompt function returned into ``GetPromptResult.messages``."""
    items = value if isinstance(value, list | tuple) else [value]
    messages: list[types.PromptMessage] = []
    for item in items:
        if isinstance(item, types.PromptMessage):
            messages.append(item)
        elif isinstance(item, Message):
            messages.append(item.to_prompt_message())
        elif isinstance(item, str):
            messages.append(Message(item).to_prompt_message())
        else:
            raise TypeError(
                f"a prompt returns str, Message or PromptMessage items, not {type(item)}"
            )
    return messages
