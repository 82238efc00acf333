"""Who is calling: bearer tokens checked against the registry's hashed tokens.

Only authentication lives here; what a caller may do is the registry's role matrix,
enforced in the schema. A recognised token is remembered for a few seconds so that a
busy dashboard does not cost a database query per request; a revoked token stops
working within that time.
"""

import time
from dataclasses import dataclass

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


class Authenticator:
    def __init__(self, database: Database, clock: Clock):
        self._database = database
        self._clock = clock
        self._recent: dict[str, tuple[Caller, float]] = {}

    async def identify(self, authorization: str | None) -> Caller | AuthFailure:
        """The caller named by an Authorization header, or why there is none."""
        if not authorization:
            return AuthFailure("Authentication required: send Authorization: Bearer <token>.")
        scheme, _, secret = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return AuthFailure("The Authorization header must be 'Bearer <token>'.")
        caller = await self._lookup(secret.strip())
        return caller or AuthFailure("The token is unknown, revoked or expired.")

    async def _lookup(self, secret: str) -> Caller | None:
        digest = hash_token(secret)
        remembered = self._recent.get(digest)
        if remembered and remembered[1] > time.monotonic():
            return remembered[0]
        async with self._database.session() as session:
            token = await tokens.authenticate(session, secret, now=self._clock.now())
        if token is None:
            self._recent.pop(digest, None)
            return None
        if len(self._recent) >= CACHE_SIZE:
            self._recent.clear()
        caller = Caller(name=token.name, role=token.role)
        self._recent[digest] = (caller, time.monotonic() + CACHE_SECONDS)
        return caller
