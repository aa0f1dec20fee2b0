"""The relay lane: calls of pass-through tools, served without the SDK's session machinery.

A gateway's tools (the ``proxy`` plugin's, any :class:`plugbay.DynamicTool` marked
``relay=True``) do nothing in-process but forward the call to another MCP server. For
them the SDK's streamable HTTP path (the request parsed into models, queued on memory
streams, dispatched on a task, answered on an SSE stream with a task group of its own)
costs more CPU than the forwarding itself. The lane answers such a call on the HTTP
request directly: the body is parsed once, the same catalog entry runs inside the same
middleware (the SDK server's: telemetry spans, the graceful stop's count; plugbay's:
policy, limits, audit, timeouts), and the answer goes back as one JSON body,
or as an event stream as soon as the call reports progress or logs, or stays quiet for
long enough to need keep-alive pings.

It takes only requests it can answer exactly as the SDK would (:mod:`.admission`), in
either protocol era; everything else (other methods, other tools, unknown or foreign
sessions, sessions still in their handshake, malformed bodies, wrong headers) goes to
the SDK's transport with the body replayed, so every error and edge case keeps the
SDK's behaviour. It is off when resumable streams (``[server] event_store``) are on,
since those store every message on the SDK's path, and ``[server] relay_lane = false``
turns it off altogether.

Modules: :mod:`.lane` (the ASGI middleware), :mod:`.admission` (which requests it
takes), :mod:`.sessions` (what it reads of the SDK's sessions), :mod:`.wire` (what it
writes).
"""

from plugbay.relay.lane import PING_INTERVAL, RelayLane
from plugbay.relay.sessions import SessionGate

__all__ = ["PING_INTERVAL", "RelayLane", "SessionGate"]
