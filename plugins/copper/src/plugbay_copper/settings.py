"""The settings of one Copper connector instance."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from plugbay_http import HttpClientSettings

COPPER_API = "https://api.copper.com/developer_api/v1"
COPPER_RATE_LIMIT = 180
"""Requests Copper allows per rolling minute (developer.copper.com, "Requests")."""
MAX_PAGE_SIZE = 200


class CopperSettings(HttpClientSettings):
    """How to reach one Copper account, and how hard to use it."""

    api_key: SecretStr = Field(
        description=(
            "A Copper API key (Copper: Settings > Integrations > API Keys; only admins can "
            "create one). Requests act as the user the key belongs to."
        ),
    )
    user_email: str = Field(
        description="The email address of the Copper user the API key belongs to.",
    )
    base_url: str = Field(
        default=COPPER_API,
        description="The Copper developer API's base URL; change it only for a proxy or a fake.",
    )
    rate_limit_requests: int = Field(
        default=COPPER_RATE_LIMIT,
        ge=1,
        description=(
            "The most requests sent in any rolling window of rate_limit_window_seconds. "
            "Copper allows 180 a minute; set it lower when other tools share the API key."
        ),
    )
    rate_limit_window_seconds: int = Field(
        default=60,
        ge=1,
        description="The length of the rolling rate-limit window, in seconds (Copper's is 60).",
    )
    page_size: int = Field(
        default=50,
        ge=1,
        le=MAX_PAGE_SIZE,
        description="Records per page when a search does not say (Copper allows up to 200).",
    )

    @field_validator("user_email")
    @classmethod
    def _check_email(cls, value: str) -> str:
        value = value.strip()
        if "@" not in value:
            raise ValueError("must be the email address of the API key's owner")
        return value
