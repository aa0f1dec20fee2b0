"""Running plugboard as a hosted, multi-user server.

Each concern is one small module, registered by the built-in plugin through the same
hooks any plugin uses (see :mod:`plugboard.builtin`): authentication backends
(:mod:`~plugboard.hosting.api_keys`, :mod:`~plugboard.hosting.jwt_bearer`,
:mod:`~plugboard.hosting.introspection`), RFC 9728 metadata
(:mod:`~plugboard.hosting.resource_metadata`), authorization
(:mod:`~plugboard.hosting.policy`, :mod:`~plugboard.hosting.ip_allow`), limits
(:mod:`~plugboard.hosting.rate_limits`, :mod:`~plugboard.hosting.concurrency`,
:mod:`~plugboard.hosting.shutdown`), the audit log (:mod:`~plugboard.hosting.audit`),
and, for scale-out, readiness and the resumable-stream event store.

Nothing here is imported unless its table is configured, except the configuration
models themselves.
"""
