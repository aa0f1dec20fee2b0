"""Every Python example in README.md, docs/ and the plugin READMEs runs, or says why not.

A ```python block is run as a module of its own; a block that defines a connector
(and may register it with ``@hookimpl``) is then served and put through the
conformance suite. A fragment (a method, a test that needs a plugin that is not
here) is marked in the Markdown, on the line before the block, with
``<!-- compile-only: why -->`` (it must still compile) or, rarely,
``<!-- not-run: why -->`` (a signature, not code). A block that neither runs nor is
marked fails here, so an example cannot rot unnoticed.
"""

from __future__ import annotations

import ast
import re
import sys
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from plugbay import Connector
from plugbay_testing import ConnectorConformance, serve

ROOT = Path(__file__).parents[1]
DOCUMENTS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "plugins").glob("*/README.md")]
)
_BLOCK = re.compile(
    r"(?:^<!--\s*(?P<mark>compile-only|not-run):(?P<why>[^>]*)-->\n)?^```python\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    """One ```python block of a document."""

    document: str
    line: int
    mark: str | None
    why: str
    code: str

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"


def _blocks() -> list[Block]:
    found = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            found.append(
                Block(
                    document=str(path.relative_to(ROOT)),
                    line=text.count("\n", 0, match.start("code")),
                    mark=match["mark"],
                    why=(match["why"] or "").strip(),
                    code=textwrap.dedent(match["code"]),
                )
            )
    return found


BLOCKS = _blocks()
RUN = [block for block in BLOCKS if block.mark is None]


def _module_name(block: Block) -> str:
    return "docs_example_" + re.sub(r"\W", "_", block.where)


def _module(block: Block) -> types.ModuleType:
    """Run ``block`` as a fresh module (registered, so pydantic can resolve its names)."""
    name = _module_name(block)
    module = types.ModuleType(name)
    module.__file__ = block.where
    sys.modules[name] = module
    try:
        exec(compile(block.code, block.where, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _connectors(module: types.ModuleType) -> list[type[Connector[Any]]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Connector)
        and value.__module__ == module.__name__
    ]


def test_there_are_examples_and_the_readme_plugin_is_run() -> None:
    assert len(BLOCKS) >= 10
    assert any(block.document == "README.md" for block in RUN)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.where)
def test_an_example_runs_or_says_why_not(block: Block) -> None:
    if block.mark is not None:
        assert len(block.why) >= 10, (
            f"{block.where}: say why the example is {block.mark} (<!-- {block.mark}: why -->)"
        )
    if block.mark == "not-run":
        return
    # Fragments may await at the top level, as in a test's body.
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT if block.mark else 0
    compile(block.code, block.where, "exec", flags=flags)
    if block.mark is None:
        try:
            _module(block)
        except Exception as error:
            pytest.fail(
                f"{block.where}: the example does not run ({type(error).__name__}: {error}); "
                "fix it, or mark a fragment <!-- compile-only: why --> on the line before it"
            )


def _plugins() -> list[tuple[Block, type[Connector[Any]]]]:
    found = []
    for block in RUN:
        try:
            module = _module(block)
        except Exception:
            continue
        found += [(block, connector) for connector in _connectors(module)]
    return found


PLUGINS = _plugins()


async def test_the_readme_plugin_registers_and_serves_its_connector() -> None:
    (block,) = [block for block, _ in PLUGINS if block.document == "README.md"]
    module = sys.modules[_module_name(block)]
    # As a plugin module, as the entry point gives it: its @hookimpl registers the connector.
    async with serve(module) as harness:
        assert await harness.call_ok("greeter_greet", who="Ada") == "Hello, Ada!"


def _conformance_class(block: Block, connector: type[Connector[Any]]) -> type:
    return type(
        f"TestConformance_{connector.__name__}_{_module_name(block)}",
        (ConnectorConformance,),
        {
            "__doc__": f"The conformance suite on {connector.__name__} of {block.where}.",
            "connector": connector,
            "entry_point": False,  # not installed; the test above loads it as a plugin
        },
    )


# One conformance class per example connector, collected by pytest like any other.
for _block, _connector in PLUGINS:
    _class = _conformance_class(_block, _connector)
    globals()[_class.__name__] = _class
