"""Running plugbay as a hosted, multi-user server.

Each concern is one small module, registered by the built-in plugin through the same
hooks any plugin uses (see :mod:`plugbay.builtin`): authentication backends
(:mod:`~plugbay.hosting.api_keys`, :mod:`~plugbay.hosting.jwt_bearer`,
:mod:`~plugbay.hosting.introspection`), RFC 9728 metadata
(:mod:`~plugbay.hosting.resource_metadata`), authorization
(:mod:`~plugbay.hosting.policy`, :mod:`~plugbay.hosting.ip_allow`), limits
(:mod:`~plugbay.hosting.rate_limits`, :mod:`~plugbay.hosting.concurrency`,
:mod:`~plugbay.hosting.shutdown`), the audit log (:mod:`~plugbay.hosting.audit`),
and, for scale-out, readiness and the resumable-stream event store.

Nothing here is imported unless its table is configured, except the configuration
models themselves.
"""
