"""Settings every REST connector shares: where the API is and how patient to be with it."""

from __future__ import annotations

from pydantic import Field, field_validator

from plugbay import Settings
from plugbay_http.retry import RetryPolicy


class HttpClientSettings(Settings):
    """A base for a REST connector's settings.

    Subclass it and give ``base_url`` the backend's default; add the credentials and
    the backend's published rate limit::

        class CopperSettings(HttpClientSettings):
            base_url: str = Field("https://api.copper.com/developer_api/v1", description=...)
            api_key: SecretStr = Field(description=...)
    """

    base_url: str = Field(
        description="The API's base URL; requests go to paths below it.",
    )
    timeout: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description=(
            "Seconds to wait for the API to connect, accept the request, or send the next "
            "part of its answer before the attempt counts as failed."
        ),
    )
    max_attempts: int = Field(
        default=4,
        ge=1,
        le=10,
        description=(
            "Tries per request, the first included. Only requests that are safe to repeat "
            "are tried again (never a write the API may already have carried out)."
        ),
    )

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local test server)")
        return value.rstrip("/")

    def retry_policy(self, **overrides: object) -> RetryPolicy:
        """The :class:`RetryPolicy` these settings describe (keyword overrides win)."""
        options: dict[str, object] = {"attempts": self.max_attempts, **overrides}
        return RetryPolicy(**options)  # type: ignore[arg-type]
