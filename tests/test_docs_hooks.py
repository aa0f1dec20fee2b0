"""The hook reference documents every hook the host defines, and nothing that is not one."""

import inspect
import re
from pathlib import Path

from plugbay import hookspecs

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs" / "hooks.md"


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
        # The docstrings are reStructuredText (``code``), the page Markdown (`code`).
        summary = inspect.getdoc(getattr(hookspecs, name)).split("\n", 1)[0].replace("``", "`")
        assert summary in text, f"docs/hooks.md does not carry the summary of {name}: {summary!r}"


def test_no_section_documents_a_hook_that_does_not_exist() -> None:
    text = DOCS.read_text()
    documented = {
        s
        for s in re.findall(r"^## (\w+)$", text, flags=re.MULTILINE)
        if s.startswith(("register_", "provide_"))
    }
    assert documented == _hookspec_names()


def test_every_hook_docstring_documents_its_arguments() -> None:
    for name in _hookspec_names():
        spec = getattr(hookspecs, name)
        doc = inspect.getdoc(spec)
        assert "Args:" in doc, f"{name} docstring has no Args: section"
        for parameter in inspect.signature(spec).parameters:
            assert f"{parameter}:" in doc, f"{name} docstring does not document {parameter}"


def _implementations_in_tests(name: str) -> list[Path]:
    """Test files that implement hook ``name`` (a function or a hookimpl'd attribute)."""
    pattern = re.compile(rf"def {name}\(|\b{name}=hookimpl\b|hookimpl\(\s*{name}\b")
    test_files = [
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("host/tests/**/*.py"),
        *ROOT.glob("plugins/*/tests/**/*.py"),
        *ROOT.glob("packages/*/tests/**/*.py"),
    ]
    return [path for path in test_files if pattern.search(path.read_text(encoding="utf-8"))]


def test_every_hook_is_implemented_by_a_test() -> None:
    # As datasette does: a hook that no test implements is a hook nobody has checked.
    untested = [name for name in sorted(_hookspec_names()) if not _implementations_in_tests(name)]
    assert untested == [], f"no test implements these hooks: {untested}"


def test_the_tested_check_finds_implementations_and_misses_absent_hooks() -> None:
    assert _implementations_in_tests("register_connectors")
    assert _implementations_in_tests("register_no_such_hook") == []
