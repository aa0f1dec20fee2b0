"""Error answers become messages a person can act on, quoting the vendor and no secret."""

from __future__ import annotations

import httpx
import pytest

from plugbay_http import (
    ErrorMapper,
    HttpStatusError,
    Redactor,
    RestClient,
    UnreadableAnswer,
    vendor_message,
)

from .conftest import FAST

REQUEST = httpx.Request("GET", "https://api.example.com/v1/people/12")


def answer(status: int, body: object = None, **headers: str) -> httpx.Response:
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers, request=REQUEST)
    return httpx.Response(status, json=body, headers=headers, request=REQUEST)


MAPPER = ErrorMapper("Copper", auth_hint="Check PLUGBAY_CRM__API_KEY.")


def test_401_names_what_to_check() -> None:
    error = MAPPER.for_response(answer(401, {"success": False, "message": "Invalid credentials"}))
    assert str(error) == (
        "Copper rejected the credentials (HTTP 401): Invalid credentials. "
        "Check PLUGBAY_CRM__API_KEY."
    )
    assert error.status == 401


def test_403_says_who_can_help() -> None:
    error = MAPPER.for_response(answer(403, {"message": "Forbidden"}))
    assert "refused access (HTTP 403): Forbidden" in str(error)
    assert "ask a Copper administrator" in str(error)


def test_404_names_the_missing_record() -> None:
    error = MAPPER.for_response(answer(404, {"message": "Not found"}), subject="person with id 12")
    assert str(error).startswith("Copper has no person with id 12 (HTTP 404).")


def test_404_without_a_subject_names_the_path() -> None:
    assert "nothing at /v1/people/12" in str(MAPPER.for_response(answer(404)))


def test_422_quotes_the_vendors_field_messages() -> None:
    body = {"success": False, "message": {"name": [{"error": "invalid"}], "emails": "taken"}}
    error = MAPPER.for_response(answer(422, body))
    assert "did not accept the input (HTTP 422): name: invalid; emails: taken." in str(error)
    assert error.vendor_message == "name: invalid; emails: taken"


def test_422_with_a_list_of_errors() -> None:
    body = {"errors": [{"field": "name", "message": "is required"}, {"message": "bad date"}]}
    assert vendor_message(answer(422, body)) == "is required; bad date"


def test_429_says_how_long_to_wait() -> None:
    error = MAPPER.for_response(answer(429, {"message": "Too many"}, **{"Retry-After": "12.2"}))
    assert "rate limiting requests (HTTP 429): retry after 13 s." in str(error)
    assert error.retry_after == pytest.approx(12.2)


def test_429_without_retry_after_still_advises() -> None:
    assert "wait a minute and try again" in str(MAPPER.for_response(answer(429)))


def test_500_counts_the_attempts() -> None:
    error = MAPPER.for_response(answer(500, "upstream exploded"), attempts=3)
    assert "(HTTP 500): upstream exploded after 3 attempts" in str(error)


def test_html_error_pages_are_not_quoted() -> None:
    error = MAPPER.for_response(answer(502, "<html><body>Bad gateway</body></html>"))
    assert "<html>" not in str(error)
    assert error.vendor_message is None


def test_long_vendor_messages_are_cut() -> None:
    message = vendor_message(answer(400, {"message": "x" * 2000}))
    assert message is not None
    assert len(message) == 500
    assert message.endswith("...")


def test_other_statuses_are_reported_plainly() -> None:
    assert str(MAPPER.for_response(answer(418, {"message": "teapot"}))) == (
        "Copper answered HTTP 418: teapot."
    )


def test_409_is_a_conflict() -> None:
    assert "reported a conflict (HTTP 409): exists" in str(
        MAPPER.for_response(answer(409, {"error": "exists"}))
    )


def test_secrets_echoed_by_the_vendor_are_redacted() -> None:
    mapper = ErrorMapper("Copper", redactor=Redactor(["sk_live_secret_token"]))
    error = mapper.for_response(answer(401, {"message": "token sk_live_secret_token is revoked"}))
    assert "sk_live_secret_token" not in str(error)
    assert "token [REDACTED] is revoked" in str(error)


async def test_the_client_raises_the_mapped_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": f"bad {request.headers['X-Token']}"})

    client = RestClient(
        "https://api.example.com/v1",
        service="Example",
        headers={"X-Token": "tok_abcdef123456"},
        retry=FAST,
        transport=httpx.MockTransport(handler),
    )
    async with client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request("GET", "/me")
    assert "tok_abcdef123456" not in str(raised.value)
    assert "[REDACTED]" in str(raised.value)


async def test_an_undecodable_success_body_is_an_error() -> None:
    client = RestClient(
        "https://api.example.com",
        service="Example",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, text="not json")),
    )
    async with client:
        with pytest.raises(UnreadableAnswer) as raised:
            await client.request_json("GET", "/x")
    assert str(raised.value) == (
        "Example answered GET /x with HTTP 200, but the answer is not JSON. "
        "Check the base_url setting; if it is right, try again later."
    )
    assert not raised.value.maybe_applied
