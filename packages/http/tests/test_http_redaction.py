"""No credential reaches a log record, whoever logs it."""

from __future__ import annotations

import logging

import httpx
import pytest

from plugbay_http import REDACTED, RedactingFilter, Redactor, RestClient, redact_headers

from .conftest import FAST, FaultServer

TOKEN = "sk_test_0123456789abcdef"


def test_credential_headers_are_redacted_by_name() -> None:
    headers = {
        "Authorization": "Bearer abc",
        "X-PW-AccessToken": "tok",
        "X-Api-Key": "key",
        "Cookie": "session=1",
        "X-PW-UserEmail": "me@example.com",
        "Accept": "application/json",
    }
    assert redact_headers(headers) == {
        "Authorization": REDACTED,
        "X-PW-AccessToken": REDACTED,
        "X-Api-Key": REDACTED,
        "Cookie": REDACTED,
        "X-PW-UserEmail": "me@example.com",
        "Accept": "application/json",
    }
    assert redact_headers({"X-Vendor": "v"}, extra=["x-vendor"]) == {"X-Vendor": REDACTED}


def test_the_redactor_ignores_values_too_short_to_be_secrets() -> None:
    redactor = Redactor(["", "ab", TOKEN])
    assert redactor.redact(f"ab {TOKEN} ab") == f"ab {REDACTED} ab"
    assert not Redactor([])


def test_the_filter_scrubs_formatted_messages_and_detaches() -> None:
    log_filter = RedactingFilter(Redactor([TOKEN]))
    log_filter.install(["plugbay_http.test"])
    logger = logging.getLogger("plugbay_http.test")
    # A bare record, not the process's record factory: the host may have installed its
    # own redaction there, and this tests the filter alone.
    record = logging.LogRecord("x", logging.INFO, "f", 1, "token=%s", (TOKEN,), None)
    assert log_filter.filter(record)
    assert record.getMessage() == f"token={REDACTED}"
    assert log_filter in logger.filters
    log_filter.uninstall()
    assert log_filter not in logger.filters


async def test_no_log_record_carries_the_token(
    fault_server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fault_server.script("/secret", *[])
    client = RestClient(
        fault_server.url,
        service="Example",
        headers={"X-PW-AccessToken": TOKEN, "Authorization": f"Bearer {TOKEN}"},
        secret_headers=["X-PW-AccessToken"],
        retry=FAST,
    )
    async with client:
        await client.request("GET", "/people", params={"api_key": TOKEN, "q": "ada"})
        # A third party logging the token verbatim is scrubbed as well.
        logging.getLogger("httpx").info("sent token %s", TOKEN)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "the request should have been logged at DEBUG"
    assert TOKEN not in text
    assert "api_key=%5BREDACTED%5D" in text or "api_key=[REDACTED]" in text
    assert "q=ada" in text
    # The server did receive the credentials.
    assert fault_server.headers[-1]["x-pw-accesstoken"] == TOKEN
    # Closing the client detaches its filter from the shared loggers.
    assert not any(isinstance(f, RedactingFilter) for f in logging.getLogger("httpx").filters)


async def test_mock_transport_requests_log_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="plugbay_http")
    client = RestClient(
        "https://api.example.com",
        service="Example",
        headers={"Authorization": f"Bearer {TOKEN}"},
        transport=httpx.MockTransport(lambda request: httpx.Response(204)),
    )
    async with client:
        response = await client.request("DELETE", "/people/1")
    assert response.status_code == 204
    messages = [record.getMessage() for record in caplog.records]
    assert any("'authorization': '[REDACTED]'" in message for message in messages)
    assert all(TOKEN not in message for message in messages)
