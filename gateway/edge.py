"""The edge: the one ASGI middleware every request passes before the routes.

It gives the request its ID (echoed in `X-Request-ID`), lets a GraphQL request or a download
(gateway/exports.py) with a bearer token through its token's rate limit or answers 429
(gateway/limits.py), and records the request's metrics and log line once it is answered
(gateway/observability.py). One layer rather than one per concern: each layer reads the
headers again and wraps `send` again, on every request, and a dashboard's small queries are
mostly such fixed costs.
"""

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.limits import RateLimiter, admit, bearer_secret, charge_document, too_many_requests
from gateway.observability import Metrics, record_request, request_id
from registry.tokens import hash_token

REQUEST_ID = b"x-request-id"


class Edge:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, limiter: RateLimiter,
                 limited_paths: tuple[str, ...] = ("/graphql",)):
        self.app = app
        self.metrics = metrics
        self.limiter = limiter
        self.limited_paths = frozenset(limited_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        sent_id, authorization, length = _headers(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = rid = request_id(sent_id)
        started, status, key = time.perf_counter(), 500, None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*(h for h in message.get("headers", ()) if h[0].lower() != REQUEST_ID),
                                      (REQUEST_ID, rid.encode())]
            await send(message)

        try:
            secret = bearer_secret(authorization) if scope["path"] in self.limited_paths else None
            if secret:
                key = hash_token(secret)
                wait = admit(self.limiter, key, int(length) if length and length.isdigit() else 0)
                if wait > 0:
                    key = None  # refused: nothing more to charge
                    return await too_many_requests(wait)(scope, receive, send_with_id)
            await self.app(scope, receive, send_with_id)
        finally:
            if key is not None:
                charge_document(self.limiter, key, state.get("document_seconds", 0.0))
            record_request(self.metrics, method=scope["method"], path=scope["path"], status=status,
                           seconds=time.perf_counter() - started, state=state)


def _headers(scope: Scope) -> tuple[str | None, str | None, str | None]:
    """X-Request-ID, Authorization and Content-Length, in one pass over the raw headers."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        name = name.lower()
        if name in (REQUEST_ID, b"authorization", b"content-length") and name not in found:
            found[name] = value.decode("latin-1")
    return found.get(REQUEST_ID), found.get(b"authorization"), found.get(b"content-length")
