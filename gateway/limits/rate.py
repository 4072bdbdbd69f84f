"""Rate limiting in cost units per window, per API key, user or client IP.

Counters live in Redis as a sliding window counter (two counters per identity and
limit, the previous window's weighted by how much of it still overlaps the sliding
window: O(1) storage, and a `cost` per hit). It is the algorithm of the `limits`
library's `SlidingWindowCounterRateLimiter`, run as one Lua script that spends and
reports in the same call: `limits` needs two round trips per request (`hit`, then
`get_window_stats` for the RateLimit headers), and on a response-cache hit those two
were a third of the gateway's CPU (bench/README.md). The in-memory fallback is
`limits` itself.

Leases: a busy identity does not pay a round trip per request. A process takes units
from Redis ahead of use (a lease, spent locally for at most `lease_seconds`), sized by
what the identity spent during its previous lease (doubling while a lease runs out
early) and capped at `lease_fraction` of the limit. Leased units are counted in Redis
when taken, so the limit is never exceeded across processes; an unspent remainder
lapses with its lease, so a busy client can be refused up to one lease's worth per
process early, and `RateLimit-Remaining` is exact as of the lease plus what is left of
it. An identity that sends one request per lease period takes exactly its cost each
time (no lease). `lease_fraction=0` turns leases off.

When Redis is down, the limiter fails over to a per-process in-memory limiter and logs
a warning: each instance keeps protecting itself (a client can get up to N times its
limit across N instances) rather than either refusing every request (Redis would become
a hard dependency, when it is only a cache and /readyz reports "degraded" without it)
or letting everything through (no protection at all during an outage). Redis calls have
a short timeout, and after a failure Redis is not retried for `retry_seconds`, so a
dead Redis costs at most one short timeout per retry period, not one per request.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from limits import RateLimitItem
from limits import parse as parse_limit
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from datasources.redis_client import create_redis
from domain.viewer import Role, Viewer

log = logging.getLogger("hiregraph.limits")

_item: Callable[[str], RateLimitItem] = lru_cache(maxsize=64)(parse_limit)

# KEYS: the previous and the current window's counters. ARGV: limit, window (s), cost.
# The current counter lives two windows; once less than one window is left it has
# become the previous one (renamed), as in `limits`' own acquire_sliding_window.lua.
_SPEND = """
local limit, expiry, amount = tonumber(ARGV[1]), tonumber(ARGV[2]) * 1000, tonumber(ARGV[3])
local current_ttl = redis.call('pttl', KEYS[2])
if current_ttl > 0 and current_ttl < expiry then
    redis.call('rename', KEYS[2], KEYS[1])
    redis.call('set', KEYS[2], 0, 'PX', current_ttl + expiry)
end
local previous = tonumber(redis.call('get', KEYS[1])) or 0
local previous_ttl = math.max(0, redis.call('pttl', KEYS[1]))
local current = tonumber(redis.call('get', KEYS[2])) or 0
current_ttl = math.max(0, redis.call('pttl', KEYS[2]))
local weighted = math.floor(previous * previous_ttl / expiry) + current
local allowed = 0
if weighted + amount <= limit then
    allowed = 1
    if current_ttl > 0 then
        current = redis.call('incrby', KEYS[2], amount)
    else
        redis.call('set', KEYS[2], amount, 'PX', expiry * 2)
        current, current_ttl = amount, expiry * 2
    end
    weighted = weighted + amount
end
return {allowed, weighted, previous, previous_ttl, current, current_ttl}
"""


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


@dataclass(slots=True)
class _Lease:
    units: int  # taken from Redis, not yet spent
    used: int  # spent from this lease (its cost included): sizes the next one
    taken_at: float
    until: float
    remaining: int  # Redis's remaining right after the lease was taken
    reset_after: float


_MAX_LEASES = 10_000  # identities with a lease held in this process (LRU)


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
        lease_fraction: float = 0.0,
        lease_seconds: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._leases: OrderedDict[tuple[str, str], _Lease] = OrderedDict()
        self._lease_fraction, self._lease_seconds = lease_fraction, lease_seconds
        self._memory = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._redis: Redis | None = None
        if redis_url is not None:
            # No per-command socket timeout: redis-py wraps every send in `wait_for` (a
            # task per command) for it. One `asyncio.timeout` per hit bounds the call.
            self._redis = create_redis(
                redis_url, socket_timeout=None, socket_connect_timeout=timeout
            )
            self._spend = self._redis.register_script(_SPEND)
        self._prefix, self._timeout = key_prefix, timeout
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
                return await self._leased(item, (identity, limit), cost)
            except (RedisError, OSError, TimeoutError) as error:
                self._redis_down_until = self._clock() + self._retry_seconds
                log.warning(
                    "rate limiter: Redis unavailable (%s); limiting per process for %.0fs",
                    error,
                    self._retry_seconds,
                )
        return await self._decide(self._memory, item, identity, cost, degraded=True)

    async def _leased(self, item: RateLimitItem, key: tuple[str, str], cost: int) -> Decision:
        now = self._clock()
        lease = self._leases.get(key)
        if lease is not None and now < lease.until and lease.units >= cost:
            lease.units -= cost
            lease.used += cost
            return Decision(
                allowed=True,
                limit=item.amount,
                remaining=lease.remaining + lease.units,
                reset_after=max(0.0, lease.reset_after - (now - lease.taken_at)),
                window=item.get_expiry(),
            )
        size = self._lease_size(item, lease, cost, now)
        decision = await self._spend_in_redis(item, key[0], size)
        if not decision.allowed and size > cost:  # near the limit: no lease, just the cost
            size = cost
            decision = await self._spend_in_redis(item, key[0], cost)
        if not decision.allowed:
            self._leases.pop(key, None)
            return decision
        self._leases[key] = _Lease(
            size - cost, cost, now, now + self._lease_seconds, decision.remaining,
            decision.reset_after,
        )  # fmt: skip
        self._leases.move_to_end(key)
        if len(self._leases) > _MAX_LEASES:
            self._leases.popitem(last=False)
        return replace(decision, remaining=decision.remaining + size - cost)

    def _lease_size(self, item: RateLimitItem, lease: _Lease | None, cost: int, now: float) -> int:
        """Units to take now: the cost plus what the identity will likely spend before the
        lease lapses (its previous lease's use; twice that if it ran out early)."""
        cap = int(item.amount * self._lease_fraction)
        if lease is None or cap <= cost or now - lease.until > self._lease_seconds:
            return cost
        wanted = lease.used * 2 if now < lease.until else lease.used
        return max(cost, min(cap, wanted))

    async def _spend_in_redis(self, item: RateLimitItem, identity: str, cost: int) -> Decision:
        window = item.get_expiry()
        # The hash tag `{...}` puts both counters in one slot: the script runs on a Redis
        # Cluster too (its keys must share a slot).
        current = f"{self._prefix}:{{{identity}:{item.amount}/{window}}}"
        async with asyncio.timeout(self._timeout):
            reply = await self._spend(
                keys=[f"{current}:prev", current], args=[item.amount, window, cost]
            )
        allowed, weighted, previous, previous_ttl, count, count_ttl = map(int, reply)
        # When capacity frees up next: the previous window's weight drops by one unit
        # every window/previous seconds; the current counter starts to decay once it
        # becomes the previous one, window seconds before it expires.
        resets = [math.inf]
        if previous:
            resets.append((previous_ttl / 1000) % (window / previous))
        if count:
            resets.append(max(0.001, count_ttl / 1000 - window))
        reset = min(resets)
        return Decision(
            allowed=bool(allowed),
            limit=item.amount,
            remaining=max(0, item.amount - weighted),
            reset_after=0.0 if reset == math.inf else reset,
            window=window,
        )

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
        if self._redis is not None:
            await self._redis.aclose()
