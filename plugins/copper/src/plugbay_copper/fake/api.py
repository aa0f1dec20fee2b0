"""The HTTP side: routes, authentication, rate limit, injected faults and handlers."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plugbay_copper.fake.errors import CopperError, invalid
from plugbay_copper.fake.fields import (
    check_int,
)
from plugbay_copper.fake.recording import RecordedRequest
from plugbay_copper.fake.state import AccountState
from plugbay_copper.fake.vocabulary import (
    API_PREFIX,
    DEFAULT_PAGE_SIZE,
    KINDS,
    MAX_PAGE_SIZE,
    SINGULAR,
)

_Handler = Callable[[Request, Any], tuple[Any, dict[str, str]]]


class CopperApi(AccountState):
    """The HTTP side of the fake (mixed into :class:`CopperFake`)."""

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
            raise invalid("the search body must be an object")
        unknown = sorted(set(body) - {"page_number", "page_size"})
        if unknown:
            raise invalid(f"unknown search parameter {unknown[0]!r}")
        page_number = body.get("page_number", 1)
        page_size = min(body.get("page_size", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        check_int("page_number", page_number)
        check_int("page_size", page_size)
        if page_number < 1 or page_size < 1:
            raise invalid("page_number and page_size start with 1")
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
                raise invalid("the search body must be an object")
            page = self._search(kind, body)
            return page.items, {"X-PW-TOTAL": str(page.total)}

        return handler

    def _create_endpoint(self, kind: str) -> _Handler:
        def handler(request: Request, body: Any) -> tuple[Any, dict[str, str]]:
            if not isinstance(body, dict):
                raise invalid(f"the body must be a {SINGULAR[kind]} object")
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
                raise invalid(f"the body must be a {SINGULAR[kind]} object")
            return self._update(kind, record_id, body), {}

        return handler

    def _convert_endpoint(self, request: Request, body: Any) -> tuple[Any, dict[str, str]]:
        return self._convert(request.path_params["record_id"], body or {}), {}
