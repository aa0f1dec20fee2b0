"""The suite checks the plugin as installed, and one assembly mistake is one failed test.

The plugins here are real distributions as far as ``importlib.metadata`` can tell: a
module and a ``.dist-info`` directory with ``entry_points.txt`` on ``sys.path``, which
is what ``pip install`` leaves behind. The suite runs the way an author runs it, in a
separate pytest session (``pytester``).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from plugbay_testing.installed import check_installed_plugin, find_entry_point

pytest_plugins = ["pytester"]

CONNECTOR = '''
from pydantic import Field

from plugbay import Connector, Settings, hookimpl, tool


class CountSettings(Settings):
    start: int = Field(description="The first number.")


class CountConnector(Connector[CountSettings]):
    """Counts."""

    name = "count"

    @tool(read_only=True, open_world=False)
    def next_number(self, after: int) -> int:
        """The number after another.

        Args:
            after: The number before.
        """
        return max(after, self.settings.start) + 1
'''


def _hook(
    name: str = "register_connectors", registers: str = "CountConnector", mark: bool = True
) -> str:
    marker = "@hookimpl\n" if mark else ""
    return f"\n\n{marker}def {name}(register):\n    register({registers})\n"


OTHER = "\n\nclass Other(CountConnector):\n    '''Another.'''\n\n    name = 'other'\n"
HOOKS = {
    "good": _hook(),
    "misspelled": _hook("register_connector"),
    "unmarked": _hook(mark=False),
    "other": OTHER + _hook(registers="Other"),
}


def install(site: Path, module: str, hook: str, entry_point: str = "count") -> None:
    """Write ``module`` and its distribution's metadata into ``site``, as pip would."""
    (site / f"{module}.py").write_text(CONNECTOR + HOOKS[hook])
    dist_info = site / f"{module}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(f"[plugbay]\n{entry_point} = {module}\n")


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, hook: str) -> Any:
    install(tmp_path, module, hook)
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module(module).CountConnector


def test_a_good_plugin_is_found_by_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = load(tmp_path, monkeypatch, "plugbay_count_good", "good")
    assert check_installed_plugin(connector) == "count"
    assert check_installed_plugin(connector, "count") == "count"
    assert find_entry_point(connector).value == "plugbay_count_good"


@pytest.mark.parametrize(
    ("hook", "expected"),
    [
        (
            "misspelled",
            "register_connector is not a plugbay hook: did you mean register_connectors?",
        ),
        ("unmarked", "register_connectors is not marked @plugbay.hookimpl"),
        ("other", "it does not register CountConnector (it registers ['Other'])"),
    ],
)
def test_a_plugin_that_would_serve_nothing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: str, expected: str
) -> None:
    connector = load(tmp_path, monkeypatch, f"plugbay_count_{hook}", hook)
    with pytest.raises(AssertionError) as raised:
        check_installed_plugin(connector)
    assert expected in str(raised.value)
    assert "the plugin 'count' (plugbay_count_" in str(raised.value)


def test_a_plugin_that_is_not_installed_is_named_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = load(tmp_path, monkeypatch, "plugbay_count_alone", "good")
    with pytest.raises(AssertionError, match="no plugin is installed under the entry point 'nope'"):
        check_installed_plugin(connector, "nope")
    monkeypatch.setattr(connector, "__module__", "somewhere_else.connector")
    with pytest.raises(AssertionError) as raised:
        check_installed_plugin(connector)
    message = str(raised.value)
    assert "no installed entry point in the group 'plugbay' points into the package" in message
    assert "pip install -e ." in message
    assert 'entry_point = "NAME"' in message


SUITE = """
from plugbay_testing import ConnectorConformance
from {module} import CountConnector


class TestCountConformance(ConnectorConformance):
    connector = CountConnector
    config = {config}
    sample_calls = {{"next_number": {{"after": 1}}}}
"""


def run_suite(pytester: pytest.Pytester, hook: str, config: str = '{"start": 3}') -> Any:
    module = f"plugbay_suite_{hook}"
    install(pytester.path, module, hook)
    pytester.syspathinsert()
    pytester.makepyfile(test_count=SUITE.format(module=module, config=config))
    return pytester.runpytest("-q", "-p", "no:cacheprovider", "-rfs")


def assert_in_output(result: pytest.RunResult, expected: list[str]) -> None:
    output = result.stdout.str()
    missing = [text for text in expected if text not in output]
    assert not missing, f"not in the output: {missing}\n{output}"


def failures(result: pytest.RunResult) -> set[str]:
    return {
        line.split("::")[-1].split(" ")[0] for line in result.outlines if line.startswith("FAILED")
    }


def test_the_suite_passes_an_installed_plugin(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "good")
    result.assert_outcomes(passed=29, skipped=4)
    assert failures(result) == set()


@pytest.mark.parametrize("hook", ["misspelled", "unmarked"])
def test_the_suite_fails_a_plugin_that_serves_nothing(pytester: pytest.Pytester, hook: str) -> None:
    result = run_suite(pytester, hook)
    result.assert_outcomes(passed=28, failed=1, skipped=4)
    assert failures(result) == {"test_plugin_is_installed"}


def test_one_assembly_mistake_is_one_failure_and_the_rest_skip(
    pytester: pytest.Pytester,
) -> None:
    result = run_suite(pytester, "good", config="{}")  # the required setting is missing
    failed = failures(result)
    assert failed == {"test_assembles"}, result.stdout.str()
    # The class checks and the installed plugin pass; every server check skips.
    result.assert_outcomes(passed=3, failed=1, skipped=29)
    reason = (
        "the connector does not assemble (see test_assembles): the plugins under test did not "
        "assemble: - [connectors.count]: start is required: set 'start' in [connectors.count]"
    )
    skips = [line for line in result.outlines if line.startswith("SKIPPED")]
    assert skips, result.stdout.str()
    assert all(reason in line for line in skips), skips


def test_of_several_entry_points_in_the_package_the_one_that_registers_it_is_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = load(tmp_path, monkeypatch, "plugbay_count_two", "good")
    extra = tmp_path / "plugbay_count_two_extra.py"  # another package: not a candidate
    extra.write_text("from plugbay import hookimpl\n" + _hook("register_tools", "len"))
    with (tmp_path / "plugbay_count_two-1.0.dist-info" / "entry_points.txt").open("a") as file:
        file.write("extra = plugbay_count_two_extra\nzzz = plugbay_count_two:nothing\n")
    # The top-level package of "plugbay_count_two:nothing" is the connector's too.
    assert find_entry_point(connector).name == "count"
    monkeypatch.setattr(importlib.import_module("plugbay_count_two"), "register_connectors", None)
    with pytest.raises(AssertionError, match=r"several entry points point into the package"):
        find_entry_point(connector)
