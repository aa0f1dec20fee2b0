"""`CopperClient`: the Copper developer API over one pooled, rate-limited HTTP client.

It knows Copper's conventions: the three ``X-PW-*`` headers, searches that are POSTs
but read-only (so they are retried like GETs), bare JSON arrays with the total in
``X-PW-TOTAL``, 1-based pages, and ``{"success": false, "message": ...}`` errors.
Creates, lead conversions and activity logging are never retried after they may have
reached Copper, so a flaky network cannot create a record twice; when their outcome is
unknown (a 5xx, a reset or timeout after the request went out, an answer that cannot
be read) the error says the record may exist and names the search that finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from plugbay import ToolError, setting_variable
from plugbay_copper.settings import CopperSettings
from plugbay_http import ErrorMapper, RateLimit, RateLimiter, RestClient

ENTITY_NAMES = {
    "people": "person",
    "companies": "company",
    "opportunities": "opportunity",
    "leads": "lead",
    "tasks": "task",
    "activities": "activity",
}

_FIND = {
    "people": "{tool:search_people} for it by email or name",
    "companies": "{tool:search_companies} for it by name",
    "opportunities": "{tool:search_opportunities} for it by name",
    "leads": "{tool:search_leads} for it by email or name",
    "tasks": "{tool:search_tasks} for it by name",
}
CONVERSION_CHECK = (
    "The lead may have been converted: {tool:get_lead} (a converted lead is gone) and "
    "{tool:search_people} for the new person before converting it again."
)


def creation_check(entity: str) -> str:
    """What to do when a create's outcome is unknown: find the record it may have made."""
    if entity == "activities":
        return (
            "The activity may have been logged: {tool:search_activities} on its parent record "
            "before logging it again."
        )
    return f"The {ENTITY_NAMES[entity]} may exist: {_FIND[entity]} before creating it again."


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One page of a Copper search: the records and the total number of matches."""

    items: list[dict[str, Any]]
    total: int | None


def _total(response: httpx.Response) -> int | None:
    value = response.headers.get("X-PW-TOTAL")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _records(errors: ErrorMapper, response: httpx.Response) -> list[dict[str, Any]]:
    """The records of a search's answer, a JSON array; another answer is a clear error."""
    try:
        payload = response.json()
    except ValueError:
        raise errors.for_unreadable(response) from None
    if not isinstance(payload, list):
        raise errors.for_unreadable(response, problem="is not a JSON array")
    return [item for item in payload if isinstance(item, dict)]


class CopperClient:
    """The calls the Copper tools make.

    Args:
        settings: The instance's settings.
        instance: The instance's name, for messages naming its settings.
        transport: An httpx transport, for tests.
    """

    def __init__(
        self,
        settings: CopperSettings,
        *,
        instance: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        auth_hint = (
            f"Check the api_key and user_email settings of [connectors.{instance}] "
            f"(or {setting_variable(instance, 'api_key')} and "
            f"{setting_variable(instance, 'user_email')}): the key must be active and belong "
            "to the user with that email."
        )
        limit = RateLimit(settings.rate_limit_requests, settings.rate_limit_window_seconds)
        http = RestClient(
            settings.base_url,
            service="Copper",
            headers={
                "X-PW-AccessToken": settings.api_key.get_secret_value(),
                "X-PW-Application": "developer_api",
                "X-PW-UserEmail": settings.user_email,
                "Content-Type": "application/json",
            },
            secret_headers=("X-PW-AccessToken",),
            timeout=settings.timeout,
            # Copper counts requests per API key: share the window per key owner.
            rate_limit=RateLimiter(limit, key=f"copper:{settings.user_email.lower()}"),
            # developer.copper.com, "Requests": once the limit is reached, calls "return
            # an error response with status code 429": the limiter answers instead of the
            # call, so a write answered 429 did nothing and may be sent again.
            retry=settings.retry_policy(unprocessed_on_429=True),
            errors=ErrorMapper("Copper", auth_hint=auth_hint),
            transport=transport,
        )
        self.http = http

    async def start(self) -> None:
        """Open the connection pool."""
        await self.http.start()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    # -- generic record calls ----------------------------------------------------------

    async def search(self, entity: str, criteria: dict[str, Any]) -> SearchResult:
        """``POST /<entity>/search``: one page of records matching ``criteria``."""
        response = await self.http.request(
            "POST", f"/{entity}/search", json=criteria, idempotent=True
        )
        return SearchResult(_records(self.http.errors, response), _total(response))

    async def get(self, entity: str, record_id: int) -> dict[str, Any]:
        """``GET /<entity>/{id}``."""
        return await self._record("GET", entity, record_id)

    async def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /<entity>``: never retried once it may have reached Copper.

        Raises:
            ToolError: Copper refused it, or its outcome is unknown (the message says
                the record may exist and how to find it).
        """
        check = creation_check(entity)
        result: dict[str, Any] = await self.http.request_json(
            "POST", f"/{entity}", json=body, expect=dict, check=check
        )
        if isinstance(result.get("id"), bool) or not isinstance(result.get("id"), int):
            raise ToolError(
                f"Copper's answer to the create names no {ENTITY_NAMES[entity]} id."
                + self.http.errors.unknown_outcome("POST", check)
            )
        return result

    async def update(self, entity: str, record_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """``PUT /<entity>/{id}``: a partial update (null clears a field)."""
        return await self._record("PUT", entity, record_id, json=body)

    async def delete(self, entity: str, record_id: int) -> dict[str, Any]:
        """``DELETE /<entity>/{id}``."""
        return await self._record("DELETE", entity, record_id)

    async def _record(
        self, method: str, entity: str, record_id: int, **options: Any
    ) -> dict[str, Any]:
        subject = f"{ENTITY_NAMES[entity]} with id {record_id}"
        result: dict[str, Any] = await self.http.request_json(
            method, f"/{entity}/{record_id}", subject=subject, expect=dict, **options
        )
        return result

    # -- specific calls ----------------------------------------------------------------

    async def convert_lead(self, lead_id: int, details: dict[str, Any]) -> dict[str, Any]:
        """``POST /leads/{id}/convert``; not retried (it creates records)."""
        result: dict[str, Any] = await self.http.request_json(
            "POST",
            f"/leads/{lead_id}/convert",
            json={"details": details},
            subject=f"lead with id {lead_id}",
            expect=dict,
            check=CONVERSION_CHECK,
        )
        return result

    async def list_users(self, page_number: int, page_size: int) -> SearchResult:
        """``POST /users/search``: one page of the account's users."""
        response = await self.http.request(
            "POST",
            "/users/search",
            json={"page_number": page_number, "page_size": page_size},
            idempotent=True,
        )
        return SearchResult(_records(self.http.errors, response), _total(response))

    async def get_json(self, path: str, *, subject: str | None = None) -> Any:
        """``GET`` a lookup (``/account``, ``/pipelines``, ``/activity_types``...)."""
        return await self.http.request_json("GET", path, subject=subject)
