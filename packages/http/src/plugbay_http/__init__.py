"""plugbay-http: what every plugbay SaaS connector shares.

One pooled ``httpx.AsyncClient`` per connector instance (:class:`RestClient`),
timeouts, retries with exponential backoff and jitter for requests that are safe to
repeat (honouring ``Retry-After``), a rolling-window rate limiter set to the
backend's published limit (:class:`RateLimit`), pagination helpers, error answers
turned into tool errors a person can act on (:class:`ErrorMapper`), and credentials
kept out of every log::

    from plugbay_http import RateLimit, RestClient

    client = RestClient(base_url, service="Copper", headers=auth_headers,
                        rate_limit=RateLimit(180, per_seconds=60))
"""

from plugbay_http.client import RestClient
from plugbay_http.errors import (
    BackendUnavailable,
    ErrorMapper,
    HttpStatusError,
    UnreadableAnswer,
    unknown_outcome,
    vendor_message,
)
from plugbay_http.pagination import (
    PaginationError,
    collect,
    paginate_cursor,
    paginate_offset,
    paginate_pages,
)
from plugbay_http.ratelimit import RateLimit, RateLimiter
from plugbay_http.redaction import (
    REDACTED,
    RedactingFilter,
    Redactor,
    is_sensitive_header,
    redact_headers,
)
from plugbay_http.retry import (
    IDEMPOTENT_METHODS,
    RetryPolicy,
    is_idempotent,
    may_have_been_applied,
    parse_retry_after,
)
from plugbay_http.settings import HttpClientSettings

__all__ = [
    "IDEMPOTENT_METHODS",
    "REDACTED",
    "BackendUnavailable",
    "ErrorMapper",
    "HttpClientSettings",
    "HttpStatusError",
    "PaginationError",
    "RateLimit",
    "RateLimiter",
    "RedactingFilter",
    "Redactor",
    "RestClient",
    "RetryPolicy",
    "UnreadableAnswer",
    "collect",
    "is_idempotent",
    "is_sensitive_header",
    "may_have_been_applied",
    "paginate_cursor",
    "paginate_offset",
    "paginate_pages",
    "parse_retry_after",
    "redact_headers",
    "unknown_outcome",
    "vendor_message",
]
