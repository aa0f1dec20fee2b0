"""Every TOML example in docs/hosting.md is a valid configuration."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from plugbay.config import parse_config

HOSTING = Path(__file__).resolve().parents[1] / "docs" / "hosting.md"
BLOCKS = re.findall(r"```toml\n(.*?)```", HOSTING.read_text(encoding="utf-8"), re.DOTALL)
ENVIRON = {"CI_BOT_KEY": "pbk_" + "c" * 43, "INTROSPECTION_SECRET": "s3cret"}


def test_the_guide_has_examples() -> None:
    assert len(BLOCKS) >= 7


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block-{n}" for n in range(len(BLOCKS))])
def test_each_example_parses(block: str) -> None:
    parse_config(tomllib.loads(block), environ=ENVIRON)
