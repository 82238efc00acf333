"""Who is calling: bearer tokens checked against the registry's hashed tokens.

Only authentication lives here; what a caller may do is the registry's role matrix,
enforced in the schema. A recognised token is remembered for a few seconds (the setting
`auth_cache_seconds`, default 5; 0 remembers nothing) so that a busy dashboard does not
cost a database query per request: a token revoked elsewhere (`pi-gateway token revoke`
runs in another process) stops working within that time, and a token is never
remembered past its own expiry. The hashes are compared in constant time by the registry.

A token that is not remembered costs a database query, so failed lookups are limited per
client address (the setting `auth_failures_per_minute`, in bursts of a third of it): a
client sending made-up tokens gets HTTP 429 without a query once its failures run out,
while clients whose tokens work are never counted.
"""

import time
from dataclasses import dataclass

from gateway.limits import RateLimiter
from registry import tokens
from registry.clock import Clock
from registry.db import Database
from registry.tokens import hash_token
from schema.context import Caller

CACHE_SECONDS = 5.0
CACHE_SIZE = 4096


@dataclass(frozen=True)
class AuthFailure:
    reason: str
    retry_after: float = 0.0  # > 0: this client's failed lookups ran out; answer 429


class Authenticator:
    def __init__(self, database: Database, clock: Clock, *, cache_seconds: float = CACHE_SECONDS,
                 failures_per_minute: int = 60):
        self._database = database
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._recent: dict[str, tuple[Caller, float]] = {}
        self._failures = RateLimiter(per_minute=failures_per_minute, burst=max(1, failures_per_minute // 3))

    def forget(self) -> None:
        """Drop every remembered token: the next request of each is checked afresh."""
        self._recent.clear()

    async def identify(self, authorization: str | None, client: str = "") -> Caller | AuthFailure:
        """The caller named by an Authorization header, or why there is none; `client` is the
        caller's address, whose failed lookups are limited."""
        if not authorization:
            return AuthFailure("Authentication required: send Authorization: Bearer <token>.")
        scheme, _, secret = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return AuthFailure("The Authorization header must be 'Bearer <token>'.")
        digest = hash_token(secret.strip())
        remembered = self._recent.get(digest)
        if remembered and remembered[1] > time.monotonic():
            return remembered[0]
        wait = self._failures.wait(client)
        if wait > 0:
            return AuthFailure("Too many unknown tokens from this address.", retry_after=wait)
        caller = await self._lookup(secret.strip(), digest)
        if caller is None:
            self._failures.acquire(client)
            return AuthFailure("The token is unknown, revoked or expired.")
        return caller

    async def _lookup(self, secret: str, digest: str) -> Caller | None:
        async with self._database.session() as session:
            token = await tokens.authenticate(session, secret, now=self._clock.now())
        if token is None:
            self._recent.pop(digest, None)
            return None
        if len(self._recent) >= CACHE_SIZE:
            self._recent.clear()
        caller = Caller(name=token.name, role=token.role)
        if self._cache_seconds > 0:
            self._recent[digest] = (caller, time.monotonic() + self._remember_for(token.expires_at))
        return caller

    def _remember_for(self, expires_at) -> float:
        if expires_at is None:
            return self._cache_seconds
        return min(self._cache_seconds, (expires_at - self._clock.now()).total_seconds())
