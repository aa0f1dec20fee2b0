"""The hook reference documents every hook the host defines, and nothing that is not one."""

import inspect
import re
from pathlib import Path

from plugbay import hookspecs

DOCS = Path(__file__).parents[1] / "docs" / "hooks.md"


def _hookspec_names() -> set[str]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return {
        name
        for name, value in vars(hookspecs).items()
        if inspect.isfunction(value) and hasattr(value, marker)
    }


def test_there_are_hooks_to_document() -> None:
    assert "register_connectors" in _hookspec_names()


def test_every_hook_has_a_section_with_its_summary() -> None:
    text = DOCS.read_text()
    sections = set(re.findall(r"^## (\w+)$", text, flags=re.MULTILINE))
    for name in _hookspec_names():
        assert name in sections, f"docs/hooks.md has no '## {name}' section"
        summary = inspect.getdoc(getattr(hookspecs, name)).split("\n", 1)[0]
        assert summary in text, f"docs/hooks.md does not carry the summary of {name}: {summary!r}"


def test_no_section_documents_a_hook_that_does_not_exist() -> None:
    text = DOCS.read_text()
    documented = {
        s for s in re.findall(r"^## (\w+)$", text, flags=re.MULTILINE) if s.startswith("register_")
    }
    assert documented == _hookspec_names()


def test_every_hook_docstring_documents_its_arguments() -> None:
    for name in _hookspec_names():
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert "Args:" in doc, f"{name} docstring has no Args: section"
        assert "register:" in doc, f"{name} docstring does not document register"
        assert "config:" in doc, f"{name} docstring does not document config"
