"""Settings described from the model: types, defaults as TOML, required and secret."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from plugbay import ConfigPath, Settings
from plugbay.connector_settings import ConnectorInfo, describe_settings, toml_value
from plugbay.connectors_doc import render_markdown


class ShopSettings(Settings):
    url: str = Field(description="Where the shop is.")
    token: SecretStr = Field(description="The API token.")
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="Extra headers.")
    mode: Literal["fast", "safe"] = Field(default="safe", description="How to | go.")
    folder: ConfigPath | None = Field(default=None, description="A <folder> *here*.")
    tags: list[str] = Field(default_factory=lambda: ['a "quoted" one', "é"])
    limits: dict[str, float] = Field(default_factory=lambda: {"res.partner": 1.5})
    roots: list[ConfigPath] = Field(default_factory=lambda: [Path("notes")])
    on: bool = True


def test_each_field_in_order_with_type_default_required_and_secret() -> None:
    settings = {s.name: s for s in describe_settings(ShopSettings)}
    assert list(settings) == list(ShopSettings.model_fields)
    assert (settings["url"].type, settings["url"].required, settings["url"].default) == (
        "string",
        True,
        None,
    )
    assert (settings["token"].type, settings["token"].secret) == ("secret string", True)
    assert settings["headers"].secret
    assert settings["headers"].type == "table of secret string"
    assert settings["mode"].type == '"fast" | "safe"'
    assert settings["folder"].type == "path (optional)"
    assert settings["folder"].default is None
    assert not settings["folder"].required
    assert settings["roots"].type == "list of path"
    assert settings["on"].description == ""
    assert settings["url"].variable("my-shop") == "PLUGBAY_MY_SHOP__URL"


def test_defaults_and_examples_are_toml_that_reads_back() -> None:
    settings = describe_settings(ShopSettings)
    examples = {s.name: tomllib.loads(f"v = {s.example}")["v"] for s in settings}
    assert examples["url"] == ""  # no default: a value of the right type
    assert examples["folder"] == ""
    assert examples["headers"] == {}
    written = {s.name: tomllib.loads(f"v = {s.default}")["v"] for s in settings if s.default}
    assert written == {
        "headers": {},
        "mode": "safe",
        "tags": ['a "quoted" one', "é"],
        "limits": {"res.partner": 1.5},
        "roots": ["notes"],
        "on": True,
    }
    assert toml_value("\x7f\n") == '"\\u007f\\n"'


def test_markdown_escapes_what_markdown_would_read() -> None:
    info = ConnectorInfo("shop", "shop", None, "A shop.", tuple(describe_settings(ShopSettings)))
    text = render_markdown([info], readme_for=lambda _: "../plugins/shop/README.md")
    row = next(line for line in text.splitlines() if line.startswith("| `folder`"))
    assert "A &lt;folder&gt; \\*here\\*." in row
    assert '"fast" \\| "safe"' in text
    assert "How to \\| go." in text
    assert "[README](../plugins/shop/README.md)" in text
