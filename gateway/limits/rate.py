"""Rate limiting in cost units per window, per API key, user or client IP.

Counters live in Redis (the `limits` library's sliding window counter, which takes a
`cost` per hit in O(1) storage; the moving window would store one entry per unit).

When Redis is down, the limiter fails over to a per-process in-memory limiter and logs
a warning: each instance keeps protecting itself (a client can get up to N times its
limit across N instances) rather than either refusing every request (Redis would become
a hard dependency, when it is only a cache and /readyz reports "degraded" without it)
or letting everything through (no protection at all during an outage). Redis calls have
a short timeout, and after a failure Redis is not retried for `retry_seconds`, so a
dead Redis costs at most one short timeout per retry period, not one per request.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem
from limits import parse as parse_limit
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool

from domain.viewer import Role, Viewer

log = logging.getLogger("hiregraph.limits")

_item: Callable[[str], RateLimitItem] = lru_cache(maxsize=64)(parse_limit)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int  # cost units per window
    remaining: int
    reset_after: float  # seconds until capacity frees up
    window: int  # the window's length in seconds
    degraded: bool = False  # decided by the in-memory fallback

    def headers(self) -> dict[str, str]:
        """IETF draft RateLimit-* headers, and Retry-After when refused."""
        reset = max(1, math.ceil(self.reset_after)) if self.remaining < self.limit else 0
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": f"{self.limit};w={self.window}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, reset))
        return headers


def rate_identity(viewer: Viewer, client_ip: str | None) -> str:
    """The bucket: the API key or user, else the client's IP."""
    return viewer.rate_identity or f"ip:{client_ip or 'unknown'}"


def rate_limit_for(viewer: Viewer, limits: Mapping[Role, str]) -> str:
    """The viewer's own limit (an API key's) if set, else its role's."""
    return viewer.rate_limit or limits[viewer.role]


class RateLimiter:
    """`hit` spends cost units of an identity's limit; Redis first, memory as fallback."""

    def __init__(
        self,
        redis_url: str | None,
        *,
        key_prefix: str = "hiregraph:rate",
        timeout: float = 0.25,
        retry_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._memory = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._pool: ConnectionPool | None = None
        self._redis: SlidingWindowCounterRateLimiter | None = None
        if redis_url is not None:
            self._pool = ConnectionPool.from_url(
                redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
            storage = RedisStorage(
                "async+redis://",  # the pool carries the address
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix=key_prefix,
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
            self._redis = SlidingWindowCounterRateLimiter(storage)
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._redis_down_until = -math.inf

    @property
    def redis_in_use(self) -> bool:
        return self._redis is not None and self._clock() >= self._redis_down_until

    async def hit(self, identity: str, limit: str, cost: int) -> Decision:
        """Spend `cost` (at least 1: every request costs something) units of `limit`
        (e.g. "20000/minute") for `identity`; refused hits spend nothing."""
        item, cost = _item(limit), max(1, cost)
        if self._redis is not None and self.redis_in_use:
            try:
                return await self._decide(self._redis, item, identity, cost, degraded=False)
            except (StorageError, OSError, TimeoutError) as error:
                self._redis_down_until = self._clock() + self._retry_seconds
                log.warning(
                    "rate limiter: Redis unavailable (%s); limiting per process for %.0fs",
                    error,
                    self._retry_seconds,
                )
        return await self._decide(self._memory, item, identity, cost, degraded=True)

    async def _decide(
        self,
        strategy: SlidingWindowCounterRateLimiter,
        item: RateLimitItem,
        identity: str,
        cost: int,
        *,
        degraded: bool,
    ) -> Decision:
        allowed = await strategy.hit(item, identity, cost=cost)
        stats = await strategy.get_window_stats(item, identity)
        return Decision(
            allowed=allowed,
            limit=item.amount,
            remaining=stats.remaining,
            reset_after=max(0.0, stats.reset_time - time.time()),
            window=item.get_expiry(),
            degraded=degraded,
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
