"""Secrets out of log records and audit values, whoever wrote them (plugbay.redaction)."""

from __future__ import annotations

import logging

import pytest
from pydantic import BaseModel, SecretStr

from plugbay.redaction import (
    install_log_redaction,
    redact_text,
    remember_secrets,
    secrets_in,
)

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
KEY = "pbk_" + "Q" * 43
CONFIGURED = "s3cr3t-Value/with+odd chars"


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        (
            "POST https://bob:hunter22@api.example.com/v1?x=1",
            "POST https://[redacted]@api.example.com/v1?x=1",
        ),
        ("redis://:pa@ss@cache:6379/0", "redis://[redacted]@cache:6379/0"),
        (
            "GET /mcp?access_token=abc.def&page=2&api_key=zzz HTTP/1.1",
            "GET /mcp?access_token=[redacted]&page=2&api_key=[redacted] HTTP/1.1",
        ),
        ("X-Amz-Signature=ab12cd&X-Amz-Date=2026", "X-Amz-Signature=[redacted]&X-Amz-Date=2026"),
        ('{"client_secret": "shh", "name": "n"}', '{"client_secret": "[redacted]", "name": "n"}'),
        ("Authorization: Basic Ym9iOmh1bnRlcjI=", "Authorization: [redacted]"),
        ("x-api-key=sk_live_123456", "x-api-key=[redacted]"),
        ("connect(password='hunter22', user='bob')", "connect(password='[redacted]', user='bob')"),
        ("{'api_key': 'it\\'s-a-key', 'n': 1}", "{'api_key': '[redacted]', 'n': 1}"),
        ("sent Bearer abcdefghijklmnop to it", "sent Bearer [redacted] to it"),
        (f"note {KEY}, thanks", "note [redacted], thanks"),
        (f"token:{JWT}.", "token:[redacted]."),
        (f"half a token {JWT[:40]}", "half a token [redacted]"),
        # What is not a secret stays.
        ("token_cache_seconds=300 jwks_url=https://idp/certs", None),
        ('Bearer realm="plugbay", error="invalid_token"', None),
        ("authorization_servers=https://idp.example.com", None),
        ("GET /mcp?page=2 HTTP/1.1", None),
    ],
)
def test_secrets_in_text_are_replaced(text: str, clean: str | None) -> None:
    assert redact_text(text) == (text if clean is None else clean)


def test_configured_secrets_are_replaced_anywhere_also_url_encoded() -> None:
    remember_secrets([CONFIGURED, "short"])
    text = f"a{CONFIGURED}b s3cr3t-Value%2Fwith%2Bodd%20chars s3cr3t-Value%2Fwith%2Bodd+chars"
    assert redact_text(text) == "a[redacted]b [redacted] [redacted]"
    assert redact_text("a short word") == "a short word"  # too short to look for


class _Upstream(BaseModel):
    url: str
    bearer_token: SecretStr
    headers: dict[str, SecretStr]
    token_cache_seconds: int = 300
    authorization_servers: list[str] = []


def test_secrets_are_found_in_configuration_objects() -> None:
    settings = _Upstream(
        url="https://relay:pw-in-url@up.example/mcp?api_key=key-in-url&page=2",
        bearer_token=SecretStr("the-bearer"),
        headers={"X-Team": SecretStr("header-value")},
        authorization_servers=["https://idp.example.com"],
    )
    raw = {"connectors": {"crm": {"api_key": "raw-api-key", "url": "https://crm.example"}}}
    assert sorted(secrets_in(settings)) == sorted(
        ["pw-in-url", "relay:pw-in-url", "key-in-url", "the-bearer", "header-value"]
    )
    assert list(secrets_in(raw)) == ["raw-api-key"]


class _Url:
    """An object whose text holds a secret (httpx logs its URL objects)."""

    def __str__(self) -> str:
        return "http://user:object-secret@host/?token=abc"


def test_every_log_record_is_cleaned(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    remember_secrets(["object-secret"])
    logger = logging.getLogger("test.redaction")
    access = logging.getLogger("test.redaction.access")
    with caplog.at_level(logging.INFO):
        logger.info("HTTP Request: %s %s", "POST", _Url())
        logger.info(f"f-string with {KEY}")
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", f"/?key={KEY}", "1.1", 200)
        try:
            raise ValueError(f"cannot reach https://bob:{CONFIGURED}@db/")
        except ValueError:
            logger.exception("failed with %r", {"password": "pw-123456"})
    text = caplog.text
    for secret in (KEY, "object-secret", CONFIGURED, "pw-123456", "abc"):
        assert secret not in text
    url_record, _, access_record, failure = caplog.records
    assert url_record.getMessage() == "HTTP Request: POST http://[redacted]@host/?token=[redacted]"
    # Formatters that take the arguments apart (uvicorn's access log) still can.
    assert access_record.args == ("127.0.0.1:5", "GET", "/?key=[redacted]", "1.1", 200)
    assert failure.exc_text is not None
    assert "https://[redacted]@db/" in failure.exc_text


def test_a_secret_named_placeholder_keeps_its_record_formattable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # "api_key=%s" looks like a secret parameter; cleaning the template alone would
    # take its %s away and leave an argument that no longer fits.
    install_log_redaction()
    logger = logging.getLogger("test.redaction.placeholder")
    with caplog.at_level(logging.INFO):
        logger.info("api_key=%s token=%s", "sk_live_0123456789", "tok-0123456789")
    (record,) = caplog.records
    assert record.getMessage() == "api_key=[redacted] token=[redacted]"
    assert "0123456789" not in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        "GET /people?api_key=%5BREDACTED%5D&q=ada",
        "GET /people?api_key=[REDACTED]&q=ada",
        "headers={'authorization': '[REDACTED]'}",
        'headers={"x-api-key": "[REDACTED]"}',
    ],
)
def test_another_redactors_marker_is_left_as_it_is(text: str) -> None:
    assert redact_text(text) == text
