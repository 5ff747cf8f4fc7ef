"""Per-user limits: request rates (token buckets) and concurrent executions.

Both are kept in the gateway process: with N gateways a user gets N times the rate (the
execution cap counts in the store, so it holds across gateways up to a race between two
of them at the same instant).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from .errors import PilotError

# Buckets that refilled to full are forgotten once there are this many.
_MAX_BUCKETS = 50_000


class RateLimitedError(PilotError):
    status_code = 429
    kind = "rate_limited"

    def __init__(self, detail: str, retry_after_s: float) -> None:
        seconds = max(1, math.ceil(retry_after_s))
        super().__init__(
            f"{detail}; retry after {seconds}s",
            extra={"retry_after_s": seconds},
            headers={"Retry-After": str(seconds)},
        )


class TooManyExecutionsError(PilotError):
    status_code = 429
    kind = "too_many_executions"

    def __init__(self, running: int, limit: int, retry_after_s: int = 5) -> None:
        super().__init__(
            f"you have {running} executions pending or running; the limit is {limit}. "
            "Wait for one to finish (or cancel one) and retry",
            extra={"limit": limit, "retry_after_s": retry_after_s},
            headers={"Retry-After": str(retry_after_s)},
        )


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per key: `burst` requests at once, then `per_minute` a minute."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        what: str = "requests",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_per_s = per_minute / 60.0
        self.burst = float(burst)
        self.what = what
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def retry_after(self, key: str) -> float | None:
        """Take a token for `key`: None when allowed, else the seconds until one is due."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_BUCKETS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(
                self.burst, bucket.tokens + (now - bucket.updated) * self.rate_per_s
            )
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate_per_s

    def check(self, key: str) -> None:
        wait = self.retry_after(key)
        if wait is not None:
            per_minute = self.rate_per_s * 60
            raise RateLimitedError(
                f"too many {self.what}: the limit is {per_minute:g} a minute "
                f"(bursts of {self.burst:g})",
                wait,
            )

    def _forget_full(self, now: float) -> None:
        full_after_s = self.burst / self.rate_per_s
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full_after_s}


class ExecutionSlots:
    """Caps the executions one user has pending or running. Counting and inserting happen
    under a per-user lock, so concurrent requests to this gateway cannot both take the
    last slot."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # user id -> (lock, number of requests holding or waiting for it); an entry is
        # dropped when the last one leaves, so idle users cost nothing.
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def reserve(
        self, user_id: str, count_active: Callable[[str], Awaitable[int]]
    ) -> AsyncIterator[None]:
        """Raises TooManyExecutionsError when the user is at the cap; otherwise runs the
        body (which stores the execution) while holding the user's slot count still."""
        lock, users = self._locks.get(user_id, (asyncio.Lock(), 0))
        self._locks[user_id] = (lock, users + 1)
        try:
            async with lock:
                running = await count_active(user_id)
                if running >= self.limit:
                    raise TooManyExecutionsError(running, self.limit)
                yield
        finally:
            lock, users = self._locks[user_id]
            if users <= 1:
                del self._locks[user_id]
            else:
                self._locks[user_id] = (lock, users - 1)


class Limits:
    """Every limit of one gateway process, built from its settings."""

    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        expensive_per_minute: float,
        expensive_burst: int,
        auth_failures_per_minute: float,
        max_concurrent_executions: int,
    ) -> None:
        self.requests = RateLimiter(per_minute, burst, what="requests")
        self.expensive = RateLimiter(
            expensive_per_minute, expensive_burst, what="generations and executions"
        )
        self.auth_failures = RateLimiter(
            auth_failures_per_minute,
            max(1, int(auth_failures_per_minute // 4)),
            what="failed authentications from this address",
        )
        self.executions = ExecutionSlots(max_concurrent_executions)
