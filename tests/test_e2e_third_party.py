"""Third-party plugins, built as their own distributions and pip-installed at test time.

Nothing in the host knows about them: they are found through their entry points only.
``plugbay-acme-weather`` works; ``plugbay-acme-broken`` ships two plugins, one that
fails to import and one whose hook raises. The broken ones are reported with their
errors and the working one is served regardless.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PLUGINS = ("acme_weather", "acme_broken_import", "acme_broken_hook")

WEATHER = '''
"""A third-party plugin, written only against the documented plugbay API."""

from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from plugbay import Connector, Settings, ToolError, hookimpl, tool


class Forecast(TypedDict):
    city: str
    celsius: int


class WeatherSettings(Settings):
    unit_offset: int = 0


class WeatherConnector(Connector[WeatherSettings]):
    """Made-up weather."""

    name = "weather"

    @tool(read_only=True, open_world=False)
    async def forecast(self, city: str) -> Forecast:
        """Tomorrow's temperature.

        Args:
            city: Where.
        """
        if not city:
            raise ToolError("Name a city.")
        return {"city": city, "celsius": len(city) + self.settings.unit_offset}


@hookimpl
def register_connectors(register):
    register(WeatherConnector)
'''

BROKEN_IMPORT = """
raise RuntimeError("acme broken on purpose")
"""

BROKEN_HOOK = """
from plugbay import hookimpl


@hookimpl
def register_tools(register):
    raise ValueError("hook exploded")
"""


@pytest.fixture(scope="module")
def site(e2e: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    sources = tmp_path_factory.mktemp("third-party-src")
    distributions = [
        e2e.distribution(
            sources, "acme-weather", {"acme_weather": ("acme_weather_plugin", WEATHER)}
        ),
        e2e.distribution(
            sources,
            "acme-broken",
            {
                "acme_broken_import": ("acme_broken", BROKEN_IMPORT),
                "acme_broken_hook": ("acme_hooky", BROKEN_HOOK),
            },
        ),
    ]
    return e2e.pip_install(distributions, tmp_path_factory.mktemp("third-party-site"))


@pytest.fixture
def env(e2e: Any, site: Path) -> dict[str, str]:
    return e2e.child_env(PLUGINS, [site])


def test_plugins_command_reports_the_good_and_the_broken(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    report = e2e.run_json(["plugins", "--json"], cwd=tmp_path, env=env)
    plugins = {info["name"]: info for info in report["plugins"]}

    weather = plugins["acme_weather"]
    assert weather["status"] == "loaded"
    assert weather["version"] == "1.2.3"
    assert weather["distribution"] == "plugbay-acme-weather"
    assert weather["hooks"] == ["register_connectors"]
    assert weather["errors"] == []

    broken = plugins["acme_broken_import"]
    assert broken["status"] == "failed"
    assert broken["distribution"] == "plugbay-acme-broken"
    (error,) = broken["errors"]
    assert error.startswith("import failed: RuntimeError: acme broken on purpose")
    assert "acme_broken" in error  # where it was raised

    hooky = plugins["acme_broken_hook"]
    assert hooky["status"] == "failed"
    assert hooky["distribution"] == "plugbay-acme-broken"
    (error,) = hooky["errors"]
    assert error.startswith("register_tools: ValueError: hook exploded")

    # Installed plugins that were not selected are reported as such, not loaded.
    assert all(
        info["status"] in {"blocked", "builtin"}
        for name, info in plugins.items()
        if name not in PLUGINS
    )
    instances = {state["name"]: state for state in report["instances"]}
    assert instances == {
        "weather": {
            "name": "weather",
            "connector": "weather",
            "plugin": "acme_weather",
            "status": "configured",
            "problems": [],
        }
    }


def test_tools_command_lists_the_plugin_tool(e2e: Any, env: dict[str, str], tmp_path: Path) -> None:
    (forecast,) = e2e.run_json(["tools", "--json"], cwd=tmp_path, env=env)
    assert forecast["name"] == "weather_forecast"
    assert forecast["description"] == "Tomorrow's temperature."
    assert forecast["inputSchema"]["properties"]["city"] == {
        "type": "string",
        "description": "Where.",
    }
    assert forecast["outputSchema"]["required"] == ["city", "celsius"]


async def test_server_serves_the_working_plugin(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    # A setting from the environment reaches the third-party connector too.
    env = {**env, "PLUGBAY_WEATHER__UNIT_OFFSET": "10"}
    async with Client(e2e.stdio_server(tmp_path, env)) as client:
        listed = await client.list_tools()
        assert [tool.name for tool in listed.tools] == ["weather_forecast"]
        result = await client.call_tool("weather_forecast", {"city": "Oslo"})
        assert not result.is_error
        assert result.structured_content == {"city": "Oslo", "celsius": 14}
        refused = await client.call_tool("weather_forecast", {"city": ""})
        assert refused.is_error
        assert refused.content[0].text == "Name a city."


def test_call_command_runs_the_plugin_tool_in_process(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    done = e2e.run_plugbay(["call", "weather_forecast", "city=Lima"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert '"celsius": 4' in done.stdout
    # The broken plugins are reported on standard error; they do not stop the call.
    assert "plugin acme_broken_import failed" in done.stderr
