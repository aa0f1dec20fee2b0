"""What the host's HTTP transport guards itself with, whatever plugins are installed.

Exact Host and Origin checks (:mod:`~plugbay.hosting.host_check`), slow-client and
connection limits (:mod:`~plugbay.hosting.connections`), request bodies and reused
request ids (:mod:`~plugbay.hosting.bodies`, :mod:`~plugbay.hosting.request_ids`), the
enforcement of the registered authentication backends (:mod:`~plugbay.hosting.http_auth`),
``/readyz`` (:mod:`~plugbay.hosting.readiness`) and graceful draining at shutdown
(:mod:`~plugbay.hosting.shutdown`). Authentication backends, policy, limits, the audit
log, telemetry and the event store are plugins (plugbay-auth, plugbay-guard,
plugbay-telemetry, plugbay-redis).
"""
