"""A real, local OAuth issuer for tests: signing keys, a JWKS and an introspection endpoint.

It listens on 127.0.0.1 (an ephemeral port) in a thread and serves:

- ``GET /jwks``: the public keys currently published (rotate and retire them at will);
- ``POST /introspect``: RFC 7662 verdicts the test set per token, behind HTTP Basic.

``token(...)`` signs JWTs with any of its keys (or with a key it never published, to
forge one). Nothing here is mocked: the server under test fetches over real HTTP.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

RESOURCE = "http://127.0.0.1:8000/mcp"
CLIENT_ID = "plugbay-rs"
CLIENT_SECRET = "introspection-secret-Zq81"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    def public_jwk(self) -> dict[str, Any]:
        algorithm = RSAAlgorithm if self.algorithm.startswith(("RS", "PS")) else ECAlgorithm
        jwk = json.loads(algorithm.to_jwk(self.private.public_key()))
        jwk.update(kid=self.kid, use="sig", alg=self.algorithm)
        return jwk


_POOL: dict[str, list[Any]] = {"RSA": [], "EC": []}
"""Private keys made so far, reused by later issuers (RSA keys are slow to make)."""


def new_key(algorithm: str = "RS256", index: int = 0) -> SigningKey:
    """The ``index``-th pooled key of the algorithm's type, under a fresh key id.

    One issuer takes keys 0, 1, 2... so its keys always differ from each other.
    """
    family = "EC" if algorithm.startswith("ES") else "RSA"
    pool = _POOL[family]
    while len(pool) <= index:
        if family == "EC":
            pool.append(ec.generate_private_key(ec.SECP256R1()))
        else:
            pool.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return SigningKey(uuid.uuid4().hex[:8], algorithm, pool[index])


@dataclass
class Issuer:
    """The issuer's state; :meth:`start` serves it."""

    resource: str = RESOURCE
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    keys: list[SigningKey] = field(default_factory=list)
    published: set[str] = field(default_factory=set)
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    jwks_fetches: int = 0
    introspections: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks"

    @property
    def introspection_url(self) -> str:
        return f"{self.url}/introspect"

    @property
    def issuer(self) -> str:
        return self.url

    def add_key(self, algorithm: str = "RS256", *, publish: bool = True) -> SigningKey:
        key = new_key(algorithm, index=len(self.keys))
        self.keys.append(key)
        if publish:
            self.published.add(key.kid)
        return key

    def retire(self, key: SigningKey) -> None:
        self.published.discard(key.kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.keys if key.kid in self.published]}

    def token(
        self,
        key: SigningKey | None = None,
        *,
        sub: str = "alice",
        audience: str | list[str] | None = None,
        issuer: str | None = None,
        expires_in: float = 600,
        not_before: float | None = None,
        scope: str | None = "tools",
        claims: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        omit: tuple[str, ...] = (),
    ) -> str:
        key = key or self.keys[0]
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": issuer or self.issuer,
            "sub": sub,
            "aud": audience if audience is not None else self.resource,
            "iat": now,
            "exp": int(now + expires_in),
            "jti": uuid.uuid4().hex,
        }
        if scope is not None:
            payload["scope"] = scope
        if not_before is not None:
            payload["nbf"] = int(not_before)
        payload.update(claims or {})
        for name in omit:
            payload.pop(name, None)
        header = {"kid": key.kid, **(headers or {})}
        return jwt.encode(payload, key.private, algorithm=key.algorithm, headers=header)

    def unsigned_token(self, **options: Any) -> str:
        """An ``alg: none`` token with otherwise valid claims."""
        signed = self.token(**options)
        _, payload, _ = signed.split(".")
        header = {"alg": "none", "typ": "JWT", "kid": self.keys[0].kid}
        encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
        return f"{encoded}.{payload}."

    def start(self) -> Issuer:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/jwks":
                    issuer.jwks_fetches += 1
                    self._reply(200, issuer.jwks())
                else:
                    self._reply(404, {"error": "not_found"})

            def do_POST(self) -> None:
                if self.path != "/introspect":
                    self._reply(404, {"error": "not_found"})
                    return
                length = int(self.headers.get("content-length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                credentials = f"{issuer.client_id}:{issuer.client_secret}"
                expected = base64.b64encode(credentials.encode()).decode()
                issuer.introspections.append(form)
                if self.headers.get("authorization") != f"Basic {expected}":
                    self._reply(401, {"error": "invalid_client"})
                    return
                self._reply(200, issuer.verdicts.get(form.get("token", ""), {"active": False}))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
