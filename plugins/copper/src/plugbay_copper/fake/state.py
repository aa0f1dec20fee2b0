"""What the parts of the fake Copper account share, declared once for the type checker.

:class:`CopperFake` mixes in one class per concept (records, validation, search, leads,
the HTTP side, the seed data). Each derives from :class:`AccountState`, which declares
the state :meth:`CopperFake.reset` sets up and the methods the parts call on each
other, so that each part type-checks on its own.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from plugbay_copper.fake.recording import InjectedFault, RecordedRequest
    from plugbay_copper.fake.search import SearchPage


class AccountState:
    """The state every part of the fake reads and writes, guarded by ``_lock``."""

    api_key: str
    user_email: str
    base_url: str | None
    rate_limit: int
    rate_window: float
    retry_after_on_429: bool
    requests: list[RecordedRequest]
    account: dict[str, Any]
    users: list[dict[str, Any]]
    pipelines: list[dict[str, Any]]
    activity_types: dict[str, list[dict[str, Any]]]
    custom_field_definitions: list[dict[str, Any]]
    contact_types: list[dict[str, Any]]
    customer_sources: list[dict[str, Any]]
    lead_statuses: list[dict[str, Any]]
    _lock: threading.RLock
    _app: Starlette | None
    _arrivals: deque[float]
    _faults: list[InjectedFault]
    _records: dict[str, dict[int, dict[str, Any]]]
    _deleted_activities: set[int]
    _next_id: dict[str, int]

    if TYPE_CHECKING:  # implemented by the parts; declared here for the others

        def _blank(self, kind: str) -> dict[str, Any]: ...
        def _writable(self, kind: str) -> set[str]: ...
        def _create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]: ...
        def _render(self, kind: str, record: dict[str, Any]) -> dict[str, Any]: ...
        def _get(self, kind: str, record_id: int) -> dict[str, Any]: ...
        def _update(self, kind: str, record_id: int, body: dict[str, Any]) -> dict[str, Any]: ...
        def _delete(self, kind: str, record_id: int) -> dict[str, Any]: ...
        def _search(self, kind: str, body: dict[str, Any]) -> SearchPage: ...
        def _convert(self, lead_id: int, body: dict[str, Any]) -> dict[str, Any]: ...
        def _owner(self) -> dict[str, Any]: ...
        def _require(self, kind: str, record_id: Any, field_name: str) -> dict[str, Any]: ...
        def _pipeline(self, pipeline_id: Any) -> dict[str, Any]: ...
        def _apply(
            self, kind: str, record: dict[str, Any], body: dict[str, Any], record_id: int | None
        ) -> None: ...
