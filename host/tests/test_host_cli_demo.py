"""The demo contract: ``Connector.demo()``, ``serve_on_loopback`` and ``running_demos``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from plugbay import Connector, Settings, tool
from plugbay.demo import banner_note, running_demos, serve_on_loopback


async def weather(request: Request) -> JSONResponse:
    return JSONResponse({"celsius": 21})


FAKE = Starlette(routes=[Route("/today", weather)])


class WeatherSettings(Settings):
    base_url: str


class Weather(Connector[WeatherSettings]):
    """Made-up weather."""

    name = "weather"

    @tool(read_only=True)
    async def today(self) -> int:
        """Today's temperature."""
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{self.settings.base_url}/today")
        return int(answer.json()["celsius"])

    @classmethod
    def demo(cls) -> AbstractAsyncContextManager[Mapping[str, Any]]:
        return _weather_demo()


@asynccontextmanager
async def _weather_demo() -> AsyncIterator[Mapping[str, Any]]:
    async with serve_on_loopback(FAKE) as url:
        yield {"base_url": url}


class Broken(Connector[WeatherSettings]):
    """A demo that cannot start."""

    name = "broken"

    @classmethod
    def demo(cls) -> AbstractAsyncContextManager[Mapping[str, Any]]:
        return _broken_demo()


@asynccontextmanager
async def _broken_demo() -> AsyncIterator[Mapping[str, Any]]:
    data: dict[str, Any] = {}
    if "seed" not in data:
        raise OSError("the fake's data file is missing")
    yield data


class Plain(Connector[WeatherSettings]):
    name = "plain"


def test_a_connector_has_no_demo_by_default() -> None:
    assert Plain.demo() is None


def test_demos_run_in_the_background_until_the_block_ends() -> None:
    with running_demos({"weather": Weather, "broken": Broken}) as demos:
        url = demos.settings["weather"]["base_url"]
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/today", timeout=5).json() == {"celsius": 21}
        assert demos.failed == {"broken": "OSError: the fake's data file is missing"}
        assert banner_note(demos) == [
            "plugbay: DEMO: weather run against fakes on this machine with sample data; "
            "nothing reaches a real account",
            "warning: the broken demo did not start: OSError: the fake's data file is missing",
        ]
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/today", timeout=2)  # stopped with the block


def test_no_demo_at_all_is_said() -> None:
    with running_demos({"plain": Plain}) as demos:
        assert banner_note(demos) == ["plugbay: DEMO: no installed connector offers a demo"]
