"""Small value types that tools and prompts return for non-text content."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal

import mcp_types as types


@dataclass(frozen=True, slots=True)
class Image:
    """An image returned by a tool; sent as MCP image content."""

    data: bytes
    mime_type: str

    def to_content(self) -> types.ImageContent:
        """The MCP content block for this image."""
        return types.ImageContent(
            type="image", data=base64.b64encode(self.data).decode(), mime_type=self.mime_type
        )


@dataclass(frozen=True, slots=True)
class Audio:
    """An audio clip returned by a tool; sent as MCP audio content."""

    data: bytes
    mime_type: str

    def to_content(self) -> types.AudioContent:
        """The MCP content block for this clip."""
        return types.AudioContent(
            type="audio", data=base64.b64encode(self.data).decode(), mime_type=self.mime_type
        )


@dataclass(frozen=True, slots=True)
class File:
    """A file returned by a tool; sent as an embedded blob resource.

    Attributes:
        data: The file's bytes.
        mime_type: Its MIME type.
        uri: A URI naming it (``file://...``), so the client can refer to it.
    """

    data: bytes
    mime_type: str
    uri: str

    def to_content(self) -> types.EmbeddedResource:
        """The MCP content block for this file."""
        blob = types.BlobResourceContents(
            uri=self.uri, mime_type=self.mime_type, blob=base64.b64encode(self.data).decode()
        )
        return types.EmbeddedResource(type="resource", resource=blob)


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a prompt."""

    text: str
    role: Literal["user", "assistant"] = "user"

    def to_prompt_message(self) -> types.PromptMessage:
        """The MCP prompt message."""
        return types.PromptMessage(
            role=self.role, content=types.TextContent(type="text", text=self.text)
        )
