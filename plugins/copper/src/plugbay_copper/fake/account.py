"""A fake of the Copper CRM developer API, written from Copper's documentation.

Serve it with the ``copper_fake`` fixture (:mod:`plugbay_copper.fake.fixtures`), with
``python -m plugbay_copper.fake --port N``, or with any ASGI server, and point a
connector at ``fake.api_url``. What it reproduces, and from which page of
the documentation (https://developer.copper.com/):

* Requests (``introduction/requests.html``): the ``X-PW-AccessToken``,
  ``X-PW-Application: developer_api`` and ``X-PW-UserEmail`` headers, JSON bodies on
  POST and PUT, and the limit of 180 requests a minute "evaluated on a rolling window
  basis", answered with 429 past it (configurable with :meth:`CopperFake.set_rate_limit`).
  A request with a wrong or missing header is answered 401.
* Searches (``people/list-people-search.html``, ``companies/list-companies-search.html``,
  ``opportunities/list-opportunities-search.html``, ``leads/list-leads-search.html``,
  ``tasks/list-tasks-search.html``, ``activities/list-activities-search.html``):
  ``POST /<entity>/search`` with ``page_number`` (starting with 1, default 1),
  ``page_size`` (default 20, at most 200), ``sort_by`` / ``sort_direction`` with the
  documented defaults, the documented filters (AND-ed; ``-2`` in an id list matches
  records without one), a bare JSON array as the answer and the total number of
  matches in the ``X-PW-TOTAL`` header.
* Records (``people/overview.html``, ``people/update-a-person.html``,
  ``tasks/update-a-task.html``, ``activities/overview.html``): realistic shapes
  (``emails``/``phone_numbers``/``socials``/``websites`` as ``{value, category}``
  objects with the categories of ``introduction/appendix.html``, Unix timestamps,
  ``custom_fields``), ``GET``/``PUT``/``DELETE /<entity>/{id}``, ``POST /<entity>``.
  Updates are partial: only the fields in the body change, and ``null`` clears a
  field. Deleting answers ``{"id": ..., "is_deleted": true}``; deleted activities stay
  readable as that stub and cannot be modified. Only "user" activities can be created.
* Leads (``leads/convert-a-lead.html``): ``POST /leads/{id}/convert`` creates a person,
  optionally a company (by id, by existing name, or new; ``""`` for none) and an
  opportunity (its stage defaulting to the pipeline's first), and removes the lead.
* Lookups: ``GET /account`` and ``POST /users/search``, ``GET /users/{id}`` with
  ``me`` (``account-and-users/overview.html``, ``account-and-users/fetch-user-by-id.html``),
  ``GET /pipelines`` and ``GET /pipeline_stages``
  (``opportunities/list-pipeline-stages.html``), ``GET /activity_types`` grouped by
  category, Note being id 0 and the system types 1 and 3
  (``activities/list-activity-types.html``), ``GET /custom_field_definitions``
  (``custom-fields/general/list-custom-field-definitions.html``), plus
  ``/contact_types``, ``/customer_sources`` and ``/lead_statuses``.

Where the documentation is silent the fake chooses and says so: error bodies are
``{"success": false, "status": <code>, "message": "..."}``; invalid input (a missing
name, an unknown category, an unknown user, company, pipeline, stage or custom
field, a second person with the same email, an unknown search parameter) is
answered 422 with a message naming the field; unknown fields in a record body are
ignored; a ``page_size`` over 200 is cut to 200; 429s carry no ``Retry-After``
unless ``retry_after_on_429`` is set, and do not count against the window.

Tests can also inject failures (:meth:`CopperFake.inject`) and read every request
the fake received (:attr:`CopperFake.requests`), to check retries and that writes
are never sent twice.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from starlette.applications import Starlette

from plugbay_copper.fake.api import CopperApi
from plugbay_copper.fake.leads import LeadConversion
from plugbay_copper.fake.recording import InjectedFault, RecordedRequest
from plugbay_copper.fake.records import RecordStore
from plugbay_copper.fake.search import RecordSearch
from plugbay_copper.fake.seed import SeedData
from plugbay_copper.fake.validation import RecordValidation
from plugbay_copper.fake.vocabulary import (
    API_PREFIX,
    DEFAULT_API_KEY,
    DEFAULT_RATE_LIMIT,
    DEFAULT_RATE_WINDOW,
    DEFAULT_USER_EMAIL,
    ID_BASE,
    KINDS,
)


class CopperFake(CopperApi, LeadConversion, RecordSearch, RecordStore, RecordValidation, SeedData):
    """An in-memory Copper account behind the documented developer API.

    Its behaviour is split by concept into the classes it mixes in, one module each;
    they share the state :meth:`reset` sets up, guarded by one lock.

    Args:
        api_key: The token ``X-PW-AccessToken`` must carry.
        user_email: The token owner's email (``X-PW-UserEmail``); a user with it exists.
        rate_limit: Requests allowed per rolling window.
        rate_window: The window's length in seconds.
        retry_after_on_429: Send ``Retry-After`` (seconds until the window frees) with 429s.

    Attributes:
        base_url: ``http://127.0.0.1:<port>`` once served (the fixtures set it).
        requests: Every request received, in order.
    """

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        user_email: str = DEFAULT_USER_EMAIL,
        rate_limit: int = DEFAULT_RATE_LIMIT,
        rate_window: float = DEFAULT_RATE_WINDOW,
        retry_after_on_429: bool = False,
    ) -> None:
        self.api_key = api_key
        self.user_email = user_email
        self.base_url: str | None = None
        self._defaults = (rate_limit, rate_window, retry_after_on_429)
        self._lock = threading.RLock()
        self._app: Starlette | None = None
        self.reset()

    # -- test controls ----------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The API's base URL, as the connector's ``base_url`` setting wants it."""
        if self.base_url is None:
            raise RuntimeError("the fake is not served yet (use the copper_fake fixture)")
        return self.base_url + API_PREFIX

    def settings(self, **extra: Any) -> dict[str, Any]:
        """Connector settings that reach this fake: ``api_key``, ``user_email``, ``base_url``."""
        return {
            "api_key": self.api_key,
            "user_email": self.user_email,
            "base_url": self.api_url,
            **extra,
        }

    def reset(self) -> None:
        """Forget everything: records back to the seed data, requests, faults, limits."""
        with self._lock:
            self.rate_limit, self.rate_window, self.retry_after_on_429 = self._defaults
            self.requests: list[RecordedRequest] = []
            self._arrivals: deque[float] = deque()
            self._faults: list[InjectedFault] = []
            self._records: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in KINDS}
            self._deleted_activities: set[int] = set()
            self._next_id = dict(ID_BASE)
            self._seed()

    def set_rate_limit(
        self, requests: int, per_seconds: float, *, retry_after: bool | None = None
    ) -> None:
        """Allow ``requests`` per rolling window of ``per_seconds`` from now on."""
        with self._lock:
            self.rate_limit = requests
            self.rate_window = per_seconds
            if retry_after is not None:
                self.retry_after_on_429 = retry_after
            self._arrivals.clear()

    def inject(
        self,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` instead of serving them.

        Args:
            status: The status to answer (429, 500, 503...).
            times: How many requests to answer so.
            method: Only requests with this method (any when ``None``).
            path: Only requests to this path below ``/developer_api/v1`` (``/people``).
            retry_after: Send ``Retry-After`` with this many seconds.
            message: The error message; a generic one by default.
        """
        with self._lock:
            self._faults.append(
                InjectedFault(
                    status=status,
                    remaining=times,
                    method=method.upper() if method else None,
                    path=path,
                    retry_after=retry_after,
                    message=message or f"Injected failure ({status})",
                )
            )

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests matched ``method`` and ``path`` (both optional)."""
        with self._lock:
            return sum(
                1
                for item in self.requests
                if (method is None or item.method == method.upper())
                and (path is None or item.path == path)
            )

    def record(self, kind: str, record_id: int) -> dict[str, Any] | None:
        """The stored record (as the API would render it), or ``None``."""
        with self._lock:
            stored = self._records[kind].get(record_id)
            return self._render(kind, stored) if stored is not None else None

    def records(self, kind: str) -> list[dict[str, Any]]:
        """Every stored record of a kind (``"people"``...), rendered."""
        with self._lock:
            return [self._render(kind, item) for item in self._records[kind].values()]

    def add(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Create a record as ``POST /<kind>`` would (validation included); returns it."""
        with self._lock:
            return self._create(kind, fields)

    def add_person(self, **fields: Any) -> dict[str, Any]:
        """Create a person (``name`` required)."""
        return self.add("people", **fields)

    def add_company(self, **fields: Any) -> dict[str, Any]:
        """Create a company (``name`` required)."""
        return self.add("companies", **fields)

    def add_lead(self, **fields: Any) -> dict[str, Any]:
        """Create a lead (``name`` required)."""
        return self.add("leads", **fields)
