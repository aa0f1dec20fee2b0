"""Workspace-wide pytest setup."""

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Run async tests on asyncio, the loop uvicorn and the SDK use in production."""
    return "asyncio"
