"""The per-token rate limit: a token bucket per token, in this process's memory.

Each token may send `burst` requests at once and then `per_minute` a minute on average.
Buckets are keyed by the token's hash (never the secret) and forgotten when full again,
so memory stays bounded by the tokens active in the last few seconds; with several
worker processes each enforces the limit on its own share of requests. The gateway's edge
(gateway/edge.py) applies it to every GraphQL request: `admit`, then `charge_document`.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import JSONResponse


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    MAX_BUCKETS = 100_000

    def __init__(self, *, per_minute: int, burst: int, now: Callable[[], float] = time.monotonic):
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._now = now
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, key: str) -> float:
        """Spend one request of `key`'s allowance: 0 when allowed, else seconds until it is."""
        wait = self.wait(key)
        if wait == 0.0:
            self._buckets[key].tokens -= 1.0
        return wait

    def charge(self, key: str, requests: float) -> None:
        """Spend `requests` more of `key`'s allowance, going into debt down to minus one burst:
        the key then waits until it is repaid."""
        bucket = self._refilled(key, self._now())
        bucket.tokens = max(-self._burst, bucket.tokens - requests)

    def wait(self, key: str) -> float:
        """Seconds until `key` may spend one request (0: now), spending nothing."""
        bucket = self._refilled(key, self._now())
        return 0.0 if bucket.tokens >= 1.0 else (1.0 - bucket.tokens) / self._rate

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.MAX_BUCKETS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(tokens=self._burst, at=now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        return bucket

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: forgetting them changes nobody's allowance."""
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self._rate >= self._burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.MAX_BUCKETS:
            self._buckets.clear()


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds, never 0 (a client told 0 would retry at once)."""
    return str(max(1, math.ceil(seconds)))


BODY_BYTES_PER_REQUEST = 65_536
DOCUMENT_SECONDS_PER_REQUEST = 0.002
MAX_DOCUMENT_CHARGE = 10  # requests: the costliest document within the limits takes ~20 ms to read


def admit(limiter: RateLimiter, key: str, body_bytes: int) -> float:
    """Let one request of the token whose hash is `key` in, or not: 0 when it may pass, else
    the seconds until it may (the request is then answered 429 and costs nothing).

    The rate limit runs before authentication, keyed by the hash of whatever token was sent,
    so a flood costs no database query; requests without a token (the GraphiQL page, 401s)
    are not limited. A request costs one from the bucket, plus one for every 64 KB of its
    body, plus (`charge_document`, once answered) one for every 2 ms of CPU its document
    took to parse and validate. What a request costs the server grows with both, and cannot
    be interrupted: issue 10's bench measured a bystander's p99 at 6 to 10 times its value
    alone while three tokens spent their bursts on megabyte bodies and documents at the
    limits, and under twice with these charges. Dashboards send small bodies and documents
    that are cached after their first request: each costs one.
    """
    wait = limiter.acquire(key)
    if wait == 0.0 and body_bytes >= BODY_BYTES_PER_REQUEST:
        limiter.charge(key, body_bytes // BODY_BYTES_PER_REQUEST)
    return wait


def charge_document(limiter: RateLimiter, key: str, seconds: float) -> None:
    """Bill the CPU a request's document took to read (schema/documents.py notes it on the
    request's state), capped: a garbage collection may fall inside the measure."""
    if seconds >= DOCUMENT_SECONDS_PER_REQUEST:
        limiter.charge(key, min(MAX_DOCUMENT_CHARGE, seconds // DOCUMENT_SECONDS_PER_REQUEST))


def bearer_secret(authorization: str | None) -> str | None:
    scheme, _, secret = (authorization or "").strip().partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def too_many_requests(wait: float) -> JSONResponse:
    """HTTP 429, closing the connection: the request's body, up to 2 MB, is left unread, and
    on a connection kept open the server would still receive and parse it (issue 10's bench:
    a quarter of the CPU under attack went to bodies of refused requests)."""
    retry_after = retry_after_header(wait)
    return JSONResponse(
        {"errors": [{
            "message": f"Too many requests with this token: retry in {retry_after} s.",
            "extensions": {"code": "RATE_LIMITED", "retryAfter": int(retry_after)},
        }]},
        status_code=429, headers={"Retry-After": retry_after, "Connection": "close"},
    )
