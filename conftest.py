"""Workspace-wide pytest setup: every coroutine test runs under anyio on asyncio."""

import inspect

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark coroutine tests for the anyio plugin so test modules need no boilerplate."""
    for item in items:
        function = getattr(item, "function", None)
        if function is not None and inspect.iscoroutinefunction(function):
            item.add_marker(pytest.mark.anyio)


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, the loop uvicorn and the SDK use in production."""
    return "asyncio"
