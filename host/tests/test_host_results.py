"""Return values become tool results, resource contents and prompt messages."""

import base64
import inspect
import json
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from pydantic import BaseModel
from typing_extensions import TypedDict

from plugbay import Audio, File, Image, Message
from plugbay.results import ToolOutput, prompt_messages, resource_contents, text_result
from plugbay.server import PlugbayServer


class Person(BaseModel):
    name: str
    age: int


class Totals(TypedDict):
    count: int
    label: str


# Marked here, not only by the root conftest's late marking, so that parametrized
# async tests keep their parameters (anyio re-creates late-marked items).
pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n-image-"
WAV = b"RIFF-audio-"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_str_is_text_without_schema() -> None:
    output = ToolOutput(str)
    assert output.schema is None
    result = output.convert("hello")
    assert result.content == [types.TextContent(type="text", text="hello")]
    assert result.structured_content is None
    assert not result.is_error


@pytest.mark.parametrize("annotation", [None, type(None)])
def test_none_is_empty_content(annotation: Any) -> None:
    output = ToolOutput(annotation)
    assert output.schema is None
    assert output.convert(None).content == []


def test_model_is_structured_with_object_schema() -> None:
    output = ToolOutput(Person)
    assert output.schema == {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    result = output.convert(Person(name="Ada", age=36))
    assert result.structured_content == {"name": "Ada", "age": 36}
    assert json.loads(result.content[0].text) == {"name": "Ada", "age": 36}


def test_typed_dict_is_structured() -> None:
    output = ToolOutput(Totals)
    assert output.schema is not None
    assert output.schema["type"] == "object"
    assert set(output.schema["properties"]) == {"count", "label"}
    result = output.convert({"count": 2, "label": "x"})
    assert result.structured_content == {"count": 2, "label": "x"}


def test_list_is_wrapped_as_result() -> None:
    output = ToolOutput(list[int])
    assert output.schema == {
        "type": "object",
        "properties": {"result": {"type": "array", "items": {"type": "integer"}}},
        "required": ["result"],
    }
    result = output.convert([1, 2, 3])
    assert result.structured_content == {"result": [1, 2, 3]}
    assert json.loads(result.content[0].text) == {"result": [1, 2, 3]}


def test_list_of_models_keeps_defs_at_the_top() -> None:
    output = ToolOutput(list[Person])
    assert output.schema is not None
    assert output.schema["properties"]["result"]["items"] == {"$ref": "#/$defs/Person"}
    assert "Person" in output.schema["$defs"]
    result = output.convert([Person(name="a", age=1)])
    assert result.structured_content == {"result": [{"name": "a", "age": 1}]}


def test_int_is_wrapped() -> None:
    output = ToolOutput(int)
    assert output.schema == {
        "type": "object",
        "properties": {"result": {"type": "integer"}},
        "required": ["result"],
    }
    assert output.convert(7).structured_content == {"result": 7}


def test_structured_tool_may_still_return_a_call_tool_result() -> None:
    output = ToolOutput(Person)
    custom = text_result("custom", is_error=True)
    assert output.convert(custom) is custom


def test_image_audio_file_become_content_blocks() -> None:
    assert ToolOutput(Image).convert(Image(PNG, "image/png")).content == [
        types.ImageContent(type="image", data=_b64(PNG), mime_type="image/png")
    ]
    assert ToolOutput(Audio).convert(Audio(WAV, "audio/wav")).content == [
        types.AudioContent(type="audio", data=_b64(WAV), mime_type="audio/wav")
    ]
    (block,) = ToolOutput(File).convert(File(b"%PDF", "application/pdf", "file:///a.pdf")).content
    assert isinstance(block, types.EmbeddedResource)
    assert block.resource == types.BlobResourceContents(
        uri="file:///a.pdf", mime_type="application/pdf", blob=_b64(b"%PDF")
    )


def test_lists_and_unions_of_content_become_several_blocks() -> None:
    output = ToolOutput(list[Image | types.TextContent])
    assert output.schema is None
    result = output.convert(
        [Image(PNG, "image/png"), types.TextContent(type="text", text="caption")]
    )
    assert [block.type for block in result.content] == ["image", "text"]
    assert result.content[1].text == "caption"
    # Values that slip into a content list anyway are sent as text.
    stray = ToolOutput(list[Image]).convert(["caption", {"a": 1}])
    assert [block.text for block in stray.content] == ["caption", '{"a":1}']
    # A list that mixes in plain values is data, not content: it is structured.
    assert ToolOutput(list[Image | str]).schema is not None
    link = types.ResourceLink(type="resource_link", uri="file:///x", name="x")
    assert ToolOutput(types.ResourceLink).convert(link).content == [link]
    assert ToolOutput(tuple[Image, ...]).schema is None


def test_call_tool_result_annotation_passes_through() -> None:
    output = ToolOutput(types.CallToolResult)
    result = types.CallToolResult(content=[], structured_content={"k": 1}, is_error=True)
    assert output.convert(result) is result


@pytest.mark.parametrize("annotation", [inspect.Signature.empty, Any])
def test_undeclared_return_is_converted_by_looking(annotation: Any) -> None:
    convert = ToolOutput(annotation).convert
    assert ToolOutput(annotation).schema is None
    passthrough = text_result("as is")
    assert convert(passthrough) is passthrough
    assert convert(None).content == []
    assert convert("text").content[0].text == "text"
    assert convert(Image(PNG, "image/png")).content[0].type == "image"
    both = [Audio(WAV, "audio/wav"), types.TextContent(type="text", text="x")]
    assert [b.type for b in convert(both).content] == ["audio", "text"]
    assert convert({"a": 1}).structured_content == {"a": 1}
    assert convert([1, 2]).structured_content == {"result": [1, 2]}
    assert convert([]).structured_content == {"result": []}
    assert convert(Person(name="b", age=2)).structured_content == {"name": "b", "age": 2}
    result = convert({"word": "café"})
    assert result.content[0].text == '{"word": "café"}'


def test_resource_contents_by_value_type() -> None:
    uri = "notes://n/1"
    (text,) = resource_contents("hi", uri=uri, mime_type=None)
    assert text == types.TextResourceContents(uri=uri, mime_type="text/plain", text="hi")
    (markdown,) = resource_contents("# hi", uri=uri, mime_type="text/markdown")
    assert markdown.mime_type == "text/markdown"
    (blob,) = resource_contents(b"\x00\x01", uri=uri, mime_type=None)
    assert blob == types.BlobResourceContents(
        uri=uri, mime_type="application/octet-stream", blob=_b64(b"\x00\x01")
    )
    (model,) = resource_contents(Person(name="c", age=3), uri=uri, mime_type=None)
    assert model.mime_type == "application/json"
    assert json.loads(model.text) == {"name": "c", "age": 3}
    (data,) = resource_contents({"x": [1]}, uri=uri, mime_type=None)
    assert json.loads(data.text) == {"x": [1]}
    given = types.TextResourceContents(uri="other://1", text="t")
    assert resource_contents(given, uri=uri, mime_type=None) == [given]
    several = [given, types.BlobResourceContents(uri="other://2", blob="AA==")]
    assert resource_contents(several, uri=uri, mime_type=None) == several


def test_prompt_messages() -> None:
    ready = types.PromptMessage(role="assistant", content=types.TextContent(type="text", text="a"))
    messages = prompt_messages(["hello", Message("reply", role="assistant"), ready])
    assert [(m.role, m.content.text) for m in messages] == [
        ("user", "hello"),
        ("assistant", "reply"),
        ("assistant", "a"),
    ]
    assert prompt_messages("just one")[0].role == "user"
    with pytest.raises(TypeError, match="a prompt returns str, Message or PromptMessage"):
        prompt_messages([42])


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_results_over_mcp(build, bundle, era) -> None:
    def person() -> Person:
        """Who."""
        return Person(name="Ada", age=36)

    def numbers() -> list[int]:
        return [1, 2]

    def picture() -> Image:
        return Image(PNG, "image/png")

    def nothing() -> None:
        return None

    def raw() -> types.CallToolResult:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text="raw")], structured_content={"r": 1}
        )

    server = PlugbayServer(build(bundle(tools=[person, numbers, picture, nothing, raw])))
    async with Client(server.sdk, mode=era) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert listed["person"].output_schema["required"] == ["name", "age"]
        assert listed["numbers"].output_schema["properties"]["result"]["type"] == "array"
        assert listed["picture"].output_schema is None
        result = await client.call_tool("person", {})
        assert result.structured_content == {"name": "Ada", "age": 36}
        assert (await client.call_tool("numbers", {})).structured_content == {"result": [1, 2]}
        (image,) = (await client.call_tool("picture", {})).content
        assert isinstance(image, types.ImageContent)
        assert base64.b64decode(image.data) == PNG
        assert (await client.call_tool("nothing", {})).content == []
        passthrough = await client.call_tool("raw", {})
        assert passthrough.structured_content == {"r": 1}
        assert passthrough.content[0].text == "raw"
