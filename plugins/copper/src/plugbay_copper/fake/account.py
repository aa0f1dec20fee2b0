"""A fake of the Copper CRM developer API, written from Copper's documentation.

Serve it with the ``copper_fake`` fixture (or :class:`plugbay_testing.fakes.LocalServer`)
and point a connector at ``fake.api_url``. What it reproduces, and from which page of
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

import copy
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_PREFIX = "/developer_api/v1"
DEFAULT_API_KEY = "copper-fake-api-key-0123456789"
DEFAULT_USER_EMAIL = "owner@example.com"
DEFAULT_RATE_LIMIT = 180
DEFAULT_RATE_WINDOW = 60.0
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 20

EMAIL_CATEGORIES = ("work", "personal", "other")
PHONE_CATEGORIES = ("mobile", "work", "home", "other")
SOCIAL_CATEGORIES = (
    "linkedin",
    "twitter",
    "googleplus",
    "facebook",
    "youtube",
    "quora",
    "foursquare",
    "klout",
    "gravatar",
    "other",
)
WEBSITE_CATEGORIES = ("work", "personal", "other")
OPPORTUNITY_STATUSES = ("Open", "Won", "Lost", "Abandoned")
OPPORTUNITY_PRIORITIES = ("None", "Low", "Medium", "High")
TASK_STATUSES = ("Open", "Completed")
TASK_PRIORITIES = ("None", "High")
PARENT_TYPES = ("lead", "person", "company", "opportunity", "project", "task")

KINDS = ("people", "companies", "opportunities", "leads", "tasks", "activities")
SINGULAR = {
    "people": "person",
    "companies": "company",
    "opportunities": "opportunity",
    "leads": "lead",
    "tasks": "task",
    "activities": "activity",
}
_ID_BASE = {
    "people": 1_000_000,
    "companies": 2_000_000,
    "opportunities": 3_000_000,
    "leads": 4_000_000,
    "tasks": 5_000_000,
    "activities": 6_000_000,
}
_DEFAULT_SORT = {
    "people": "first_name",
    "companies": "date_modified",
    "opportunities": "name",
    "leads": "name",
    "tasks": "due_date",
}
_CLOSE_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")


class CopperError(Exception):
    """An error answer: raised by handlers, turned into Copper's error body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _invalid(message: str) -> CopperError:
    return CopperError(422, f"Validation Error: {message}")


def _not_found(kind: str, record_id: object) -> CopperError:
    return CopperError(404, f"{SINGULAR.get(kind, kind).capitalize()} {record_id} not found")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received, and how it answered."""

    method: str
    path: str
    """The path below ``/developer_api/v1`` (``/people/search``)."""
    status: int
    body: Any = None


@dataclass(slots=True)
class _Fault:
    status: int
    remaining: int
    method: str | None
    path: str | None
    retry_after: float | None
    message: str

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self.path == path


@dataclass(slots=True)
class _Page:
    items: list[dict[str, Any]]
    total: int


# -- field checks ----------------------------------------------------------------------


def _check_str(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise _invalid(f"{name} must be a string")


def _check_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(f"{name} must be an integer")


def _check_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(f"{name} must be a number")


def _check_str_list(name: str, value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(f"{name} must be a list of strings")


def _check_categorized(name: str, key: str, categories: tuple[str, ...]) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not isinstance(value, list):
            raise _invalid(f"{name} must be a list of {{{key}, category}} objects")
        for item in value:
            _check_entry(name, key, categories, item)

    return check


def _check_entry(name: str, key: str, categories: tuple[str, ...], item: Any) -> None:
    if not isinstance(item, dict) or not isinstance(item.get(key), str) or not item[key]:
        raise _invalid(f"{name} entries need a non-empty {key!r}")
    category = item.get("category")
    if category is not None and category not in categories:
        allowed = ", ".join(categories)
        raise _invalid(f"{name} category {category!r} is not one of {allowed}")


def _check_address(value: Any) -> None:
    if not isinstance(value, dict):
        raise _invalid("address must be an object")
    for key, item in value.items():
        if key not in ("street", "city", "state", "postal_code", "country"):
            raise _invalid(f"address has no field {key!r}")
        if item is not None and not isinstance(item, str):
            raise _invalid(f"address.{key} must be a string")


def _name_parts(name: str) -> tuple[str, str | None]:
    first, _, last = name.strip().partition(" ")
    return first, last.strip() or None


def _emails_of(record: dict[str, Any]) -> list[str]:
    if "emails" in record:
        return [entry["email"].lower() for entry in record.get("emails") or []]
    email = record.get("email")
    return [email["email"].lower()] if isinstance(email, dict) and email.get("email") else []


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


_Handler = Callable[[Request, Any], tuple[Any, dict[str, str]]]


class CopperFake:
    """An in-memory Copper account behind the documented developer API.

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
            self._faults: list[_Fault] = []
            self._records: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in KINDS}
            self._deleted_activities: set[int] = set()
            self._next_id = dict(_ID_BASE)
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
                _Fault(
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

    # -- seed data --------------------------------------------------------------------

    def _seed(self) -> None:
        self.account: dict[str, Any] = {
            "id": 100_001,
            "name": "Plugbay Test Co",
            "primary_timezone": "America/New_York",
            "settings": {"setting_team_permissions_enabled": False, "setting_enable_leads": True},
        }
        self.users: list[dict[str, Any]] = [
            {
                "id": 200_001,
                "name": "Olive Owner",
                "email": self.user_email,
                "groups": [{"id": 1, "name": "Sales"}],
            },
            {
                "id": 200_002,
                "name": "Sam Seller",
                "email": "sam@example.com",
                "groups": [{"id": 1, "name": "Sales"}],
            },
            {"id": 200_003, "name": "Rita Rep", "email": "rita@example.com", "groups": []},
        ]
        self.pipelines: list[dict[str, Any]] = [
            {
                "id": 300_001,
                "name": "Sales",
                "stages": [
                    {"id": 310_001, "name": "Qualified", "win_probability": 5},
                    {"id": 310_002, "name": "Follow-up", "win_probability": 10},
                    {"id": 310_003, "name": "Presentation", "win_probability": 20},
                    {"id": 310_004, "name": "Contract Sent", "win_probability": 40},
                    {"id": 310_005, "name": "Negotiation", "win_probability": 80},
                ],
            },
            {
                "id": 300_002,
                "name": "Partnerships",
                "stages": [
                    {"id": 310_006, "name": "First Meeting", "win_probability": 10},
                    {"id": 310_007, "name": "Partner Meeting", "win_probability": 25},
                    {"id": 310_008, "name": "Negotiation", "win_probability": 60},
                ],
            },
        ]
        self.activity_types: dict[str, list[dict[str, Any]]] = {
            "user": [
                {
                    "id": 0,
                    "category": "user",
                    "name": "Note",
                    "is_disabled": False,
                    "count_as_interaction": False,
                },
                {
                    "id": 400_001,
                    "category": "user",
                    "name": "Phone Call",
                    "is_disabled": False,
                    "count_as_interaction": True,
                },
                {
                    "id": 400_002,
                    "category": "user",
                    "name": "Meeting",
                    "is_disabled": False,
                    "count_as_interaction": True,
                },
            ],
            "system": [
                {
                    "id": 1,
                    "category": "system",
                    "name": "Property Changed",
                    "is_disabled": False,
                    "count_as_interaction": False,
                },
                {
                    "id": 3,
                    "category": "system",
                    "name": "Pipeline Stage Changed",
                    "is_disabled": False,
                    "count_as_interaction": False,
                },
            ],
        }
        self.custom_field_definitions: list[dict[str, Any]] = [
            {
                "id": 500_001,
                "name": "Referral Source",
                "canonical_name": "referral_source",
                "data_type": "String",
                "available_on": ["person", "company", "lead", "opportunity"],
                "is_filterable": True,
            },
            {
                "id": 500_002,
                "name": "Deal Size",
                "canonical_name": "deal_size",
                "data_type": "Dropdown",
                "available_on": ["opportunity", "lead"],
                "is_filterable": True,
                "options": [
                    {"id": 510_001, "name": "Small", "rank": 0},
                    {"id": 510_002, "name": "Medium", "rank": 1},
                    {"id": 510_003, "name": "Large", "rank": 2},
                ],
            },
            {
                "id": 500_003,
                "name": "Renewal Date",
                "canonical_name": "renewal_date",
                "data_type": "Date",
                "available_on": ["company", "opportunity"],
                "is_filterable": True,
            },
        ]
        self.contact_types: list[dict[str, Any]] = [
            {"id": 600_001, "name": "Potential Customer"},
            {"id": 600_002, "name": "Current Customer"},
            {"id": 600_003, "name": "Uncategorized"},
        ]
        self.customer_sources: list[dict[str, Any]] = [
            {"id": 700_001, "name": "Email"},
            {"id": 700_002, "name": "Cold Call"},
            {"id": 700_003, "name": "Advertising"},
        ]
        self.lead_statuses: list[dict[str, Any]] = [
            {"id": 800_001, "name": "New", "order": 1, "is_default": True},
            {"id": 800_002, "name": "Unqualified", "order": 2, "is_default": False},
            {"id": 800_003, "name": "Contacted", "order": 3, "is_default": False},
            {"id": 800_004, "name": "Qualified", "order": 4, "is_default": False},
        ]
        acme = self._create(
            "companies",
            {
                "name": "Acme Corp",
                "email_domain": "acme.example",
                "address": {"city": "Springfield", "state": "IL", "country": "US"},
                "assignee_id": 200_001,
                "tags": ["customer"],
                "phone_numbers": [{"number": "415-555-0100", "category": "work"}],
            },
        )
        ada = self._create(
            "people",
            {
                "name": "Ada Lovelace",
                "title": "Chief Analyst",
                "company_id": acme["id"],
                "emails": [{"email": "ada@acme.example", "category": "work"}],
                "phone_numbers": [{"number": "415-555-0101", "category": "mobile"}],
                "address": {"city": "Springfield", "state": "IL", "country": "US"},
                "assignee_id": 200_001,
                "tags": ["vip"],
            },
        )
        self._create(
            "people",
            {
                "name": "Grace Hopper",
                "title": "Rear Admiral",
                "emails": [{"email": "grace@navy.example", "category": "work"}],
                "assignee_id": 200_002,
            },
        )
        self._create(
            "opportunities",
            {
                "name": "Acme renewal",
                "company_id": acme["id"],
                "primary_contact_id": ada["id"],
                "monetary_value": 12000,
                "assignee_id": 200_001,
                "close_date": "12/31/2030",
            },
        )
        self._create(
            "leads",
            {
                "name": "Linus Lead",
                "company_name": "Penguin Labs",
                "email": {"email": "linus@penguin.example", "category": "work"},
                "monetary_value": 5000,
            },
        )
        self._create(
            "tasks",
            {
                "name": "Call Ada about the renewal",
                "related_resource": {"id": ada["id"], "type": "person"},
                "assignee_id": 200_001,
                "due_date": 1_900_000_000,
            },
        )
        self._create(
            "activities",
            {
                "parent": {"id": ada["id"], "type": "person"},
                "type": {"category": "user", "id": 0},
                "details": "Met at the conference; interested in the renewal.",
            },
        )

    # -- lookups ----------------------------------------------------------------------

    def _owner(self) -> dict[str, Any]:
        for user in self.users:
            if user["email"].lower() == self.user_email.lower():
                return user
        return self.users[0]

    def _require(self, kind: str, record_id: Any, field_name: str) -> dict[str, Any]:
        _check_int(field_name, record_id)
        found = self._records[kind].get(record_id)
        if found is None:
            raise _invalid(f"{field_name} {record_id} does not exist")
        return found

    def _check_user(self, field_name: str, value: Any) -> None:
        _check_int(field_name, value)
        if value not in {user["id"] for user in self.users}:
            raise _invalid(f"{field_name} {value} is not a user of this account")

    def _check_lookup(self, field_name: str, value: Any, items: list[dict[str, Any]]) -> None:
        _check_int(field_name, value)
        if value not in {item["id"] for item in items}:
            raise _invalid(f"{field_name} {value} does not exist")

    def _pipeline(self, pipeline_id: Any) -> dict[str, Any]:
        _check_int("pipeline_id", pipeline_id)
        for pipeline in self.pipelines:
            if pipeline["id"] == pipeline_id:
                return pipeline
        raise _invalid(f"pipeline_id {pipeline_id} does not exist")

    def _check_custom_fields(self, kind: str, value: Any) -> None:
        if not isinstance(value, list):
            raise _invalid("custom_fields must be a list of {custom_field_definition_id, value}")
        definitions = {item["id"]: item for item in self.custom_field_definitions}
        for entry in value:
            if not isinstance(entry, dict) or "custom_field_definition_id" not in entry:
                raise _invalid("custom_fields entries need a custom_field_definition_id")
            definition = definitions.get(entry["custom_field_definition_id"])
            if definition is None:
                raise _invalid(
                    f"custom field definition {entry['custom_field_definition_id']} does not exist"
                )
            if SINGULAR[kind] not in definition["available_on"]:
                raise _invalid(f"custom field {definition['name']!r} is not available on {kind}")
            options = definition.get("options")
            value_given = entry.get("value") is not None
            if options and value_given and entry["value"] not in {o["id"] for o in options}:
                raise _invalid(
                    f"custom field {definition['name']!r} has no option {entry['value']!r}"
                )

    # -- records ----------------------------------------------------------------------

    def _blank(self, kind: str) -> dict[str, Any]:
        now = int(time.time())
        common: dict[str, Any] = {"tags": [], "custom_fields": [], "date_created": now}
        common["date_modified"] = now
        if kind == "people":
            return {
                "name": None,
                "prefix": None,
                "first_name": None,
                "middle_name": None,
                "last_name": None,
                "suffix": None,
                "address": None,
                "assignee_id": None,
                "company_id": None,
                "contact_type_id": 600_003,
                "details": None,
                "emails": [],
                "phone_numbers": [],
                "socials": [],
                "title": None,
                "websites": [],
                "interaction_count": 0,
                "date_last_contacted": None,
                "leads_converted_from": [],
                "date_lead_created": None,
                **common,
            }
        if kind == "companies":
            return {
                "name": None,
                "address": None,
                "assignee_id": None,
                "contact_type_id": 600_003,
                "details": None,
                "email_domain": None,
                "phone_numbers": [],
                "socials": [],
                "websites": [],
                "interaction_count": 0,
                **common,
            }
        if kind == "opportunities":
            pipeline = self.pipelines[0]
            stage = pipeline["stages"][0]
            return {
                "name": None,
                "assignee_id": None,
                "close_date": None,
                "company_id": None,
                "customer_source_id": None,
                "details": None,
                "loss_reason_id": None,
                "monetary_value": None,
                "pipeline_id": pipeline["id"],
                "pipeline_stage_id": stage["id"],
                "primary_contact_id": None,
                "priority": "None",
                "status": "Open",
                "win_probability": stage["win_probability"],
                "date_stage_changed": now,
                "date_last_contacted": None,
                "interaction_count": 0,
                **common,
            }
        if kind == "leads":
            status = self.lead_statuses[0]
            return {
                "name": None,
                "prefix": None,
                "first_name": None,
                "middle_name": None,
                "last_name": None,
                "suffix": None,
                "address": None,
                "assignee_id": None,
                "company_name": None,
                "customer_source_id": None,
                "details": None,
                "email": None,
                "monetary_value": None,
                "monetary_unit": "USD",
                "phone_numbers": [],
                "socials": [],
                "status": status["name"],
                "status_id": status["id"],
                "title": None,
                "websites": [],
                **common,
            }
        if kind == "tasks":
            return {
                "name": None,
                "related_resource": None,
                "assignee_id": None,
                "due_date": None,
                "reminder_date": None,
                "completed_date": None,
                "priority": "None",
                "status": "Open",
                "details": None,
                **common,
            }
        return {
            "parent": None,
            "type": None,
            "user_id": self._owner()["id"],
            "details": None,
            "activity_date": now,
            "old_value": None,
            "new_value": None,
            "date_created": now,
            "date_modified": now,
        }

    def _writable(self, kind: str) -> set[str]:
        blank = self._blank(kind)
        derived = {
            "date_created",
            "date_modified",
            "interaction_count",
            "date_last_contacted",
            "leads_converted_from",
            "date_lead_created",
            "date_stage_changed",
            "old_value",
            "new_value",
            "monetary_unit",
            "status_id",
        }
        writable = set(blank) - derived
        if kind == "leads":
            writable.add("status_id")
        return writable

    def _apply(
        self, kind: str, record: dict[str, Any], body: dict[str, Any], record_id: int | None
    ) -> None:
        """Validate ``body`` and write it into ``record``: only given fields, null clears.

        ``record_id`` is the record being updated (``None`` when creating one).
        """
        writable = self._writable(kind)
        changes = {key: value for key, value in body.items() if key in writable}
        for key, value in changes.items():
            if value is None:
                if key in ("name", "parent", "type") or (kind == "tasks" and key == "status"):
                    raise _invalid(f"{key} cannot be blank")
                continue
            self._check(kind, key, value, record_id)
        for key, value in changes.items():
            if value is None:
                record[key] = [] if isinstance(record.get(key), list) else None
            elif key == "custom_fields":
                # Values are set per definition; definitions not named keep theirs.
                merged = {item["custom_field_definition_id"]: item for item in record[key]}
                merged.update({item["custom_field_definition_id"]: item for item in value})
                record[key] = list(merged.values())
            else:
                record[key] = value
        self._derive(kind, record, changes)
        record["date_modified"] = int(time.time())

    def _check(self, kind: str, key: str, value: Any, record_id: int | None) -> None:
        if key in ("name", "details", "title", "prefix", "middle_name", "suffix", "company_name"):
            _check_str(key, value)
            if key == "name" and not value.strip():
                raise _invalid("name cannot be blank")
        elif key in ("first_name", "last_name", "email_domain"):
            _check_str(key, value)
        elif key == "emails":
            _check_categorized("emails", "email", EMAIL_CATEGORIES)(value)
            self._check_unique_emails(kind, value, record_id)
        elif key == "email":
            _check_entry("email", "email", EMAIL_CATEGORIES, value)
        elif key == "phone_numbers":
            _check_categorized("phone_numbers", "number", PHONE_CATEGORIES)(value)
        elif key == "socials":
            _check_categorized("socials", "url", SOCIAL_CATEGORIES)(value)
        elif key == "websites":
            _check_categorized("websites", "url", WEBSITE_CATEGORIES)(value)
        elif key == "address":
            _check_address(value)
        elif key == "tags":
            _check_str_list("tags", value)
        elif key in ("assignee_id", "user_id"):
            self._check_user(key, value)
        elif key == "company_id":
            self._require("companies", value, key)
        elif key == "primary_contact_id":
            self._require("people", value, key)
        elif key == "contact_type_id":
            self._check_lookup(key, value, self.contact_types)
        elif key == "customer_source_id":
            self._check_lookup(key, value, self.customer_sources)
        elif key == "status_id":
            self._check_lookup(key, value, self.lead_statuses)
        elif key == "custom_fields":
            self._check_custom_fields(kind, value)
        elif key == "pipeline_id":
            self._pipeline(value)
        elif key in ("pipeline_stage_id", "loss_reason_id"):
            _check_int(key, value)
        elif key in ("monetary_value", "win_probability"):
            _check_number(key, value)
        elif key in ("due_date", "reminder_date", "completed_date", "activity_date"):
            _check_int(key, value)
        elif key == "close_date":
            _check_str(key, value)
            if not _CLOSE_DATE.match(value):
                raise _invalid("close_date must be a date written MM/DD/YYYY")
            try:
                datetime.strptime(value, "%m/%d/%Y")
            except ValueError:
                raise _invalid(f"close_date {value!r} is not a valid date") from None
        elif key == "status":
            self._check_status(kind, value)
        elif key == "priority":
            allowed = OPPORTUNITY_PRIORITIES if kind == "opportunities" else TASK_PRIORITIES
            if value not in allowed:
                raise _invalid(f"priority must be one of {', '.join(allowed)}")
        elif key in ("related_resource", "parent"):
            self._check_parent(key, value)
        elif key == "type":
            self._check_activity_type(value)

    def _check_status(self, kind: str, value: Any) -> None:
        allowed: tuple[str, ...]
        if kind == "opportunities":
            allowed = OPPORTUNITY_STATUSES
        elif kind == "tasks":
            allowed = TASK_STATUSES
        else:
            allowed = tuple(item["name"] for item in self.lead_statuses)
        if value not in allowed:
            raise _invalid(f"status must be one of {', '.join(allowed)}")

    def _check_parent(self, key: str, value: Any) -> None:
        if not isinstance(value, dict) or "id" not in value or "type" not in value:
            raise _invalid(f"{key} must be an object with id and type")
        if value["type"] not in PARENT_TYPES:
            raise _invalid(f"{key}.type must be one of {', '.join(PARENT_TYPES)}")
        kinds = {singular: plural for plural, singular in SINGULAR.items()}
        plural = kinds.get(value["type"])
        if plural is None or value["id"] not in self._records[plural]:
            raise _invalid(f"{key}: no {value['type']} with id {value['id']}")

    def _check_activity_type(self, value: Any) -> None:
        if not isinstance(value, dict) or "id" not in value or "category" not in value:
            raise _invalid("type must be an activity type object with id and category")
        if value["category"] != "user":
            raise _invalid("only activities of category 'user' can be created or modified")
        known = {item["id"]: item for item in self.activity_types["user"]}
        found = known.get(value["id"])
        if found is None:
            raise _invalid(f"activity type {value['id']} does not exist")
        if found["is_disabled"]:
            raise _invalid(f"activity type {found['name']!r} is disabled")

    def _check_unique_emails(
        self, kind: str, value: list[dict[str, Any]], record_id: int | None
    ) -> None:
        if kind != "people":
            return
        wanted = {entry["email"].lower() for entry in value}
        for person in self._records["people"].values():
            if person["id"] == record_id:
                continue
            taken = wanted & set(_emails_of(person))
            if taken:
                raise _invalid(f"emails: a person with the email {sorted(taken)[0]} already exists")

    def _derive(self, kind: str, record: dict[str, Any], changes: dict[str, Any]) -> None:
        if kind in ("people", "leads") and "name" in changes and record["name"]:
            record["first_name"], record["last_name"] = _name_parts(record["name"])
        if kind == "opportunities":
            pipeline = self._pipeline(record["pipeline_id"])
            stages = {stage["id"]: stage for stage in pipeline["stages"]}
            if "pipeline_id" in changes and "pipeline_stage_id" not in changes:
                record["pipeline_stage_id"] = pipeline["stages"][0]["id"]
            stage = stages.get(record["pipeline_stage_id"])
            if stage is None:
                raise _invalid(
                    f"pipeline_stage_id {record['pipeline_stage_id']} is not a stage of "
                    f"pipeline {pipeline['id']}"
                )
            if (
                "pipeline_stage_id" in changes or "pipeline_id" in changes
            ) and "win_probability" not in changes:
                record["win_probability"] = stage["win_probability"]
                record["date_stage_changed"] = int(time.time())
        if kind == "leads":
            statuses = {item["name"]: item["id"] for item in self.lead_statuses}
            names = {item["id"]: item["name"] for item in self.lead_statuses}
            if "status" in changes and record["status"]:
                record["status_id"] = statuses[record["status"]]
            elif "status_id" in changes and record["status_id"]:
                record["status"] = names[record["status_id"]]
        if kind == "tasks" and "status" in changes:
            completed = record["status"] == "Completed"
            record["completed_date"] = int(time.time()) if completed else None

    def _new_id(self, kind: str) -> int:
        self._next_id[kind] += 1
        return self._next_id[kind]

    def _create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        required = ("parent", "type", "details") if kind == "activities" else ("name",)
        for key in required:
            if body.get(key) is None:
                raise _invalid(f"{key} is required")
        record = self._blank(kind)
        self._apply(kind, record, body, None)
        record["id"] = self._new_id(kind)
        self._records[kind][record["id"]] = record
        return self._render(kind, record)

    def _render(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        rendered = copy.deepcopy(record)
        if kind in ("people", "opportunities"):
            company = self._records["companies"].get(record.get("company_id") or -1)
            rendered["company_name"] = company["name"] if company else None
        return {"id": rendered.pop("id", None), **rendered}

    def _get(self, kind: str, record_id: int) -> dict[str, Any]:
        if kind == "activities" and record_id in self._deleted_activities:
            return {"id": record_id, "is_deleted": True}
        record = self._records[kind].get(record_id)
        if record is None:
            raise _not_found(kind, record_id)
        return self._render(kind, record)

    def _update(self, kind: str, record_id: int, body: dict[str, Any]) -> dict[str, Any]:
        if kind == "activities" and record_id in self._deleted_activities:
            raise _invalid(f"activity {record_id} was deleted and cannot be modified")
        record = self._records[kind].get(record_id)
        if record is None:
            raise _not_found(kind, record_id)
        if kind == "activities" and "type" not in body and record["type"]["category"] != "user":
            raise _invalid("system activities cannot be modified")
        candidate = copy.deepcopy(record)
        self._apply(kind, candidate, body, record_id)
        record.clear()
        record.update(candidate)
        return self._render(kind, record)

    def _delete(self, kind: str, record_id: int) -> dict[str, Any]:
        if self._records[kind].pop(record_id, None) is None:
            raise _not_found(kind, record_id)
        if kind == "activities":
            self._deleted_activities.add(record_id)
        return {"id": record_id, "is_deleted": True}

    # -- search -----------------------------------------------------------------------

    _FILTERS: dict[str, frozenset[str]] = {
        "people": frozenset(
            {
                "name",
                "phone_number",
                "emails",
                "contact_type_ids",
                "assignee_ids",
                "company_ids",
                "city",
                "state",
                "postal_code",
                "country",
                "tags",
            }
        ),
        "companies": frozenset(
            {
                "name",
                "phone_number",
                "email_domains",
                "contact_type_ids",
                "assignee_ids",
                "city",
                "state",
                "postal_code",
                "country",
                "tags",
            }
        ),
        "opportunities": frozenset(
            {
                "name",
                "assignee_ids",
                "status_ids",
                "pipeline_ids",
                "pipeline_stage_ids",
                "primary_contact_ids",
                "company_ids",
                "customer_source_ids",
                "tags",
                "minimum_monetary_value",
                "maximum_monetary_value",
            }
        ),
        "leads": frozenset(
            {
                "name",
                "phone_number",
                "emails",
                "assignee_ids",
                "status_ids",
                "customer_source_ids",
                "city",
                "state",
                "postal_code",
                "country",
                "tags",
            }
        ),
        "tasks": frozenset(
            {
                "name",
                "assignee_ids",
                "opportunity_ids",
                "project_ids",
                "statuses",
                "tags",
                "minimum_due_date",
                "maximum_due_date",
            }
        ),
        "activities": frozenset(
            {"parent", "activity_types", "minimum_activity_date", "maximum_activity_date"}
        ),
    }
    _COMMON = frozenset(
        {
            "ids",
            "page_number",
            "page_size",
            "sort_by",
            "sort_direction",
            "custom_fields",
            "minimum_created_date",
            "maximum_created_date",
            "minimum_modified_date",
            "maximum_modified_date",
            "full_result",
        }
    )

    def _search(self, kind: str, body: dict[str, Any]) -> _Page:
        unknown = sorted(set(body) - self._FILTERS[kind] - self._COMMON)
        if unknown:
            raise _invalid(f"unknown search parameter {unknown[0]!r}")
        page_number = body.get("page_number", 1)
        page_size = body.get("page_size", DEFAULT_PAGE_SIZE)
        _check_int("page_number", page_number)
        _check_int("page_size", page_size)
        if page_number < 1:
            raise _invalid("page_number starts with 1")
        if page_size < 1:
            raise _invalid("page_size must be at least 1")
        page_size = min(page_size, MAX_PAGE_SIZE)
        matches = [
            record
            for record in self._records[kind].values()
            if all(self._matches(kind, record, key, value) for key, value in body.items())
        ]
        matches = self._sorted(kind, matches, body)
        start = (page_number - 1) * page_size
        items = [self._render(kind, record) for record in matches[start : start + page_size]]
        return _Page(items=items, total=len(matches))

    def _sorted(
        self, kind: str, records: list[dict[str, Any]], body: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if kind == "activities":
            return sorted(records, key=lambda item: (-item["activity_date"], -item["id"]))
        sort_by = body.get("sort_by", _DEFAULT_SORT[kind])
        direction = body.get("sort_direction", "asc")
        if direction not in ("asc", "desc"):
            raise _invalid("sort_direction must be asc or desc")
        address_keys = ("city", "state", "postal_code", "country")
        if sort_by not in self._blank(kind) and sort_by not in address_keys:
            raise _invalid(f"cannot sort by {sort_by!r}")

        def value(record: dict[str, Any]) -> Any:
            if sort_by in address_keys and sort_by not in record:
                return (record.get("address") or {}).get(sort_by)
            found = record.get(sort_by)
            return found.lower() if isinstance(found, str) else found

        present = [record for record in records if value(record) is not None]
        absent = [record for record in records if value(record) is None]
        present.sort(key=lambda item: (value(item), item["id"]), reverse=direction == "desc")
        return present + absent

    def _matches(self, kind: str, record: dict[str, Any], key: str, value: Any) -> bool:
        if value is None or key in ("page_number", "page_size", "sort_by", "sort_direction"):
            return True
        if key == "full_result":
            return True
        if key == "ids":
            return record["id"] in _as_list(value)
        if key == "name":
            return str(value).lower() in (record.get("name") or "").lower()
        if key == "phone_number":
            digits = _digits(str(value))
            numbers = [_digits(item["number"]) for item in record.get("phone_numbers") or []]
            return bool(digits) and any(digits in number for number in numbers)
        if key == "emails":
            wanted = {str(item).lower() for item in _as_list(value)}
            return bool(wanted & set(_emails_of(record)))
        if key == "email_domains":
            domains = {str(item).lower() for item in _as_list(value)}
            return (record.get("email_domain") or "").lower() in domains
        if key in ("city", "state", "postal_code", "country"):
            address = record.get("address") or {}
            return (address.get(key) or "").lower() == str(value).lower()
        if key == "tags":
            wanted = {str(item).lower() for item in _as_list(value)}
            return bool(wanted & {tag.lower() for tag in record.get("tags") or []})
        if key == "statuses":
            return record.get("status") in _as_list(value)
        if key == "status_ids":
            if kind == "opportunities":
                return OPPORTUNITY_STATUSES.index(record["status"]) in _as_list(value)
            return record.get("status_id") in _as_list(value)
        if key.endswith("_ids"):
            return self._id_filter(kind, record, key, _as_list(value))
        if key.startswith(("minimum_", "maximum_")):
            return self._range_filter(record, key, value)
        if key == "parent":
            parent = record.get("parent") or {}
            same = parent.get("id") == value.get("id") and parent.get("type") == value.get("type")
            return bool(same)
        if key == "activity_types":
            wanted_types = {(item.get("category"), item.get("id")) for item in _as_list(value)}
            kind_of = record.get("type") or {}
            return (kind_of.get("category"), kind_of.get("id")) in wanted_types
        if key == "custom_fields":
            values = {
                item["custom_field_definition_id"]: item.get("value")
                for item in record.get("custom_fields") or []
            }
            return all(
                values.get(item.get("custom_field_definition_id")) == item.get("value")
                for item in _as_list(value)
            )
        return True

    def _id_filter(self, kind: str, record: dict[str, Any], key: str, wanted: list[Any]) -> bool:
        field_name = {
            "assignee_ids": "assignee_id",
            "company_ids": "company_id",
            "contact_type_ids": "contact_type_id",
            "pipeline_ids": "pipeline_id",
            "pipeline_stage_ids": "pipeline_stage_id",
            "primary_contact_ids": "primary_contact_id",
            "customer_source_ids": "customer_source_id",
        }.get(key)
        if kind == "tasks" and key in ("opportunity_ids", "project_ids"):
            related = record.get("related_resource") or {}
            kind_name = "opportunity" if key == "opportunity_ids" else "project"
            current = related.get("id") if related.get("type") == kind_name else None
        elif field_name is None:
            return True
        else:
            current = record.get(field_name)
        return current in wanted or (current is None and -2 in wanted)

    def _range_filter(self, record: dict[str, Any], key: str, value: Any) -> bool:
        bound, _, name = key.partition("_")
        field_name = {
            "created_date": "date_created",
            "modified_date": "date_modified",
            "monetary_value": "monetary_value",
            "due_date": "due_date",
            "activity_date": "activity_date",
        }.get(name)
        if field_name is None:
            return True
        current = record.get(field_name)
        if current is None:
            return False
        return bool(current >= value if bound == "minimum" else current <= value)

    # -- lead conversion --------------------------------------------------------------

    def _convert(self, lead_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Convert a lead; all or nothing (a failure leaves every record as it was)."""
        lead = self._records["leads"].get(lead_id)
        if lead is None:
            raise _not_found("leads", lead_id)
        details = body.get("details", {}) if isinstance(body, dict) else None
        if not isinstance(details, dict):
            raise _invalid("details must be an object")
        snapshot = (copy.deepcopy(self._records), dict(self._next_id))
        try:
            return self._convert_records(lead, details)
        except CopperError:
            self._records, self._next_id = snapshot
            raise

    def _convert_records(self, lead: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
        wanted_person = details.get("person") or {}
        if not isinstance(wanted_person, dict):
            raise _invalid("person must be an object")
        company = self._convert_company(lead, details.get("company"))
        person = self._create(
            "people",
            {
                "name": wanted_person.get("name") or lead["name"],
                "assignee_id": wanted_person.get("assignee_id", lead["assignee_id"]),
                "contact_type_id": wanted_person.get("contact_type_id", 600_001),
                "title": lead["title"],
                "details": lead["details"],
                "address": lead["address"],
                "phone_numbers": lead["phone_numbers"],
                "socials": lead["socials"],
                "websites": lead["websites"],
                "tags": lead["tags"],
                "emails": [lead["email"]] if lead["email"] else [],
                "company_id": company["id"] if company else None,
                "custom_fields": [
                    item
                    for item in lead["custom_fields"]
                    if self._definition_on(item["custom_field_definition_id"], "person")
                ],
            },
        )
        stored_person = self._records["people"][person["id"]]
        stored_person["leads_converted_from"] = [
            {"lead_id": lead["id"], "converted_timestamp": int(time.time())}
        ]
        stored_person["date_lead_created"] = lead["date_created"]
        opportunity = None
        wanted_opportunity = details.get("opportunity")
        if wanted_opportunity is not None:
            if not isinstance(wanted_opportunity, dict) or not wanted_opportunity.get("name"):
                raise _invalid("opportunity.name is required to create an opportunity")
            allowed = ("name", "pipeline_id", "pipeline_stage_id", "monetary_value", "assignee_id")
            opportunity_body = {
                key: wanted_opportunity[key] for key in allowed if key in wanted_opportunity
            }
            if "pipeline_id" in opportunity_body and "pipeline_stage_id" not in opportunity_body:
                pipeline = self._pipeline(opportunity_body["pipeline_id"])
                opportunity_body["pipeline_stage_id"] = pipeline["stages"][0]["id"]
            opportunity_body["primary_contact_id"] = person["id"]
            if company is not None:
                opportunity_body["company_id"] = company["id"]
            opportunity = self._create("opportunities", opportunity_body)
        del self._records["leads"][lead["id"]]
        return {
            "person": self._render("people", stored_person),
            "company": self._render("companies", company) if company else None,
            "opportunity": opportunity,
        }

    def _definition_on(self, definition_id: int, entity: str) -> bool:
        return any(
            item["id"] == definition_id and entity in item["available_on"]
            for item in self.custom_field_definitions
        )

    def _convert_company(self, lead: dict[str, Any], wanted: Any) -> dict[str, Any] | None:
        if wanted is None:
            name = lead.get("company_name") or ""
            wanted = {"name": name}
        if not isinstance(wanted, dict):
            raise _invalid("company must be an object with id or name")
        if "id" in wanted and "name" in wanted:
            raise _invalid("company: give id or name, not both")
        if "id" in wanted:
            return self._require("companies", wanted["id"], "company.id")
        name = wanted.get("name")
        if not name:
            return None
        _check_str("company.name", name)
        for company in self._records["companies"].values():
            if company["name"].lower() == name.lower():
                return company
        created = self._create("companies", {"name": name})
        return self._records["companies"][created["id"]]

    # -- HTTP -------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        """The ASGI application serving the API under ``/developer_api/v1``."""
        if self._app is None:
            self._app = self._build_app()
        return self._app

    def _build_app(self) -> Starlette:
        p = API_PREFIX
        routes = [
            Route(f"{p}/account", self._endpoint(self._account), methods=["GET"]),
            Route(f"{p}/users/search", self._endpoint(self._users_search), methods=["POST"]),
            Route(f"{p}/users/{{user_id}}", self._endpoint(self._user), methods=["GET"]),
            Route(f"{p}/pipelines", self._endpoint(self._list("pipelines")), methods=["GET"]),
            Route(f"{p}/pipeline_stages", self._endpoint(self._stages), methods=["GET"]),
            Route(
                f"{p}/activity_types", self._endpoint(self._list("activity_types")), methods=["GET"]
            ),
            Route(
                f"{p}/custom_field_definitions",
                self._endpoint(self._list("custom_field_definitions")),
                methods=["GET"],
            ),
            Route(
                f"{p}/custom_field_definitions/{{record_id:int}}",
                self._endpoint(self._definition),
                methods=["GET"],
            ),
            Route(
                f"{p}/contact_types", self._endpoint(self._list("contact_types")), methods=["GET"]
            ),
            Route(
                f"{p}/customer_sources",
                self._endpoint(self._list("customer_sources")),
                methods=["GET"],
            ),
            Route(
                f"{p}/lead_statuses", self._endpoint(self._list("lead_statuses")), methods=["GET"]
            ),
            Route(
                f"{p}/leads/{{record_id:int}}/convert",
                self._endpoint(self._convert_endpoint),
                methods=["POST"],
            ),
        ]
        for kind in KINDS:
            routes += [
                Route(
                    f"{p}/{kind}/search",
                    self._endpoint(self._search_endpoint(kind)),
                    methods=["POST"],
                ),
                Route(f"{p}/{kind}", self._endpoint(self._create_endpoint(kind)), methods=["POST"]),
                Route(
                    f"{p}/{kind}/{{record_id:int}}",
                    self._endpoint(self._record_endpoint(kind)),
                    methods=["GET", "PUT", "DELETE"],
                ),
            ]
        return Starlette(
            routes=routes,
            exception_handlers={404: self._no_route, 405: self._no_route},
        )

    async def _no_route(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        path = request.url.path.removeprefix(API_PREFIX)
        with self._lock:
            self.requests.append(RecordedRequest(request.method, path, status))
        message = "Resource not found" if status == 404 else "Method not allowed"
        return JSONResponse({"success": False, "status": status, "message": message}, status)

    def _endpoint(self, handler: _Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            path = request.url.path.removeprefix(API_PREFIX)
            body: Any = None
            status = 200
            headers: dict[str, str] = {}
            try:
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise CopperError(400, "Request body is not valid JSON") from None
                with self._lock:
                    self._admit(request, path)
                    payload, headers = handler(request, body)
            except CopperError as error:
                status = error.status
                payload = {"success": False, "status": error.status, "message": error.message}
                headers = error.headers
            with self._lock:
                self.requests.append(RecordedRequest(request.method, path, status, body))
            return JSONResponse(payload, status_code=status, headers=headers)

        return endpoint

    def _admit(self, request: Request, path: str) -> None:
        """Authenticate, apply injected faults, then the rolling-window rate limit."""
        headers = request.headers
        if (
            headers.get("x-pw-accesstoken") != self.api_key
            or headers.get("x-pw-application") != "developer_api"
            or (headers.get("x-pw-useremail") or "").lower() != self.user_email.lower()
        ):
            raise CopperError(401, "Invalid credentials")
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(request.method, path):
                fault.remaining -= 1
                extra = {}
                if fault.retry_after is not None:
                    extra["Retry-After"] = str(math.ceil(fault.retry_after))
                raise CopperError(fault.status, fault.message, extra)
        now = time.monotonic()
        while self._arrivals and self._arrivals[0] <= now - self.rate_window:
            self._arrivals.popleft()
        if len(self._arrivals) >= self.rate_limit:
            extra = {}
            if self.retry_after_on_429:
                wait = self._arrivals[0] + self.rate_window - now
                extra["Retry-After"] = str(max(math.ceil(wait), 1))
            raise CopperError(429, "Rate limit exceeded", extra)
        self._arrivals.append(now)
        if request.method in ("POST", "PUT") and request.headers.get("content-type", "").split(";")[
            0
        ].strip() not in ("application/json", ""):
            raise CopperError(400, "Content-Type must be application/json")

    # -- handlers (called with the lock held) -----------------------------------------

    def _account(self, request: Request, body: Any) -> tuple[Any, dict[str, str]]:
        return self.account, {}

    def _users_search(self, request: Request, body: Any) -> tuple[Any, dict[str, str]]:
        body = body or {}
        if not isinstance(body, dict):
            raise _invalid("the search body must be an object")
        unknown = sorted(set(body) - {"page_number", "page_size"})
        if unknown:
            raise _invalid(f"unknown search parameter {unknown[0]!r}")
        page_number = body.get("page_number", 1)
        page_size = min(body.get("page_size", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        _check_int("page_number", page_number)
        _check_int("page_size", page_size)
        if page_number < 1 or page_size < 1:
            raise _invalid("page_number and page_size start with 1")
        start = (page_number - 1) * page_size
        return self.users[start : start + page_size], {"X-PW-TOTAL": str(len(self.users))}

    def _user(self, request: Request, body: Any) -> tuple[Any, dict[str, str]]:
        wanted = request.path_params["user_id"]
        if wanted == "me":
            return self._owner(), {}
        for user in self.users:
            if str(user["id"]) == wanted:
                return user, {}
        raise CopperError(404, f"User {wanted} not found")

    def _list(self, attribute: str) -> _Handler:
        def handler(request: Request, body: Any) -> tuple[Any, dict[str, str]]:
            return getattr(self, attribute), {}

        return handler

    def _stages(self, request: Request, body: Any) -> tuple[Any, dict[str, str]]:
        stages = [
            {
                "id": stage["id"],
                "name": stage["name"],
                "pipeline_id": pipeline["id"],
                "win_probability": stage["win_probability"],
            }
            for pipeline in self.pipelines
            for stage in pipeline["stages"]
        ]
        return stages, {}

    def _definition(self, request: Request, body: Any) -> tuple[Any, dict[str, str]]:
        wanted = request.path_params["record_id"]
        for definition in self.custom_field_definitions:
            if definition["id"] == wanted:
                return definition, {}
        raise CopperError(404, f"Custom field definition {wanted} not found")

    def _search_endpoint(self, kind: str) -> _Handler:
        def handler(request: Request, body: Any) -> tuple[Any, dict[str, str]]:
            body = body or {}
            if not isinstance(body, dict):
                raise _invalid("the search body must be an object")
            page = self._search(kind, body)
            return page.items, {"X-PW-TOTAL": str(page.total)}

        return handler

    def _create_endpoint(self, kind: str) -> _Handler:
        def handler(request: Request, body: Any) -> tuple[Any, dict[str, str]]:
            if not isinstance(body, dict):
                raise _invalid(f"the body must be a {SINGULAR[kind]} object")
            return self._create(kind, body), {}

        return handler

    def _record_endpoint(self, kind: str) -> _Handler:
        def handler(request: Request, body: Any) -> tuple[Any, dict[str, str]]:
            record_id = request.path_params["record_id"]
            if request.method == "GET":
                return self._get(kind, record_id), {}
            if request.method == "DELETE":
                return self._delete(kind, record_id), {}
            if body is None:
                body = {}
            if not isinstance(body, dict):
                raise _invalid(f"the body must be a {SINGULAR[kind]} object")
            return self._update(kind, record_id, body), {}

        return handler

    def _convert_endpoint(self, request: Request, body: Any) -> tuple[Any, dict[str, str]]:
        return self._convert(request.path_params["record_id"], body or {}), {}
