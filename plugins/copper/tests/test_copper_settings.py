"""Configuration: what is required, what the environment can set, what never shows."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from plugbay_copper import CopperConnector, CopperSettings
from plugbay_copper.fake import CopperFake
from plugbay_testing import build_assembly, serve


def test_without_credentials_it_is_listed_as_not_configured() -> None:
    assembly = build_assembly(CopperConnector)
    state = assembly.instances["copper"]
    assert state.status == "not configured"
    assert state.problems == [
        "api_key is required: set 'api_key' in [connectors.copper] or the environment "
        "variable PLUGBAY_COPPER__API_KEY",
        "user_email is required: set 'user_email' in [connectors.copper] or the "
        "environment variable PLUGBAY_COPPER__USER_EMAIL",
    ]
    assert not assembly.catalog.tools


def test_a_named_instance_names_its_own_variables() -> None:
    assembly = build_assembly(CopperConnector, config={"connectors": {"crm": {"plugin": "copper"}}})
    assert any("PLUGBAY_CRM__API_KEY" in problem for problem in assembly.problems)


async def test_the_environment_configures_an_instance(copper_fake: CopperFake) -> None:
    environ = {
        "PLUGBAY_CRM__API_KEY": copper_fake.api_key,
        "PLUGBAY_CRM__USER_EMAIL": copper_fake.user_email,
        "PLUGBAY_CRM__BASE_URL": copper_fake.api_url,
        "PLUGBAY_CRM__PAGE_SIZE": "2",
    }
    config = {"connectors": {"crm": {"plugin": "copper"}}}
    async with serve(CopperConnector, config=config, environ=environ) as h:
        page = await h.call_ok("crm_search_people")
        await h.instance("crm").check_health()
    assert page["page_size"] == 2


def test_the_api_key_never_prints() -> None:
    settings = CopperSettings(api_key="very-secret-key-123", user_email="me@example.com")
    assert "very-secret-key-123" not in repr(settings)
    assert "very-secret-key-123" not in str(settings.model_dump())
    assert settings.base_url == "https://api.copper.com/developer_api/v1"
    assert (settings.rate_limit_requests, settings.rate_limit_window_seconds) == (180, 60)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("user_email", "not-an-email", "email address"),
        ("page_size", 500, "less than or equal to 200"),
        ("rate_limit_requests", 0, "greater than or equal to 1"),
        ("base_url", "ftp://copper", "https://"),
    ],
)
def test_bad_values_are_refused(field: str, value: object, message: str) -> None:
    values = {"api_key": "k", "user_email": "me@example.com", field: value}
    with pytest.raises(ValidationError, match=message):
        CopperSettings.model_validate(values)


async def test_health_fails_with_bad_credentials(copper_fake: CopperFake) -> None:
    settings = copper_fake.settings(api_key="revoked-key-000000")
    async with serve(CopperConnector, settings=settings) as h:
        connector = h.connector
        assert isinstance(connector, CopperConnector)
        with pytest.raises(Exception, match="HTTP 401"):
            await connector.check_health()
