"""The rate limiter on a real Redis, and on a dead one (the in-memory fallback)."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from redis.asyncio import Redis

from gateway.limits.rate import RateLimiter
from tests.stores import StoreUrls

pytestmark = pytest.mark.integration


async def test_costs_are_counted_in_redis(stores: StoreUrls, redis_prefix: str) -> None:
    limiter = RateLimiter(stores.redis, key_prefix=redis_prefix)
    try:
        first = await limiter.hit("key:k1", "100/minute", 40)
        second = await limiter.hit("key:k1", "100/minute", 50)
        refused = await limiter.hit("key:k1", "100/minute", 20)
        other = await limiter.hit("key:k2", "100/minute", 100)
    finally:
        await limiter.aclose()
    assert (first.allowed, first.remaining, first.degraded) == (True, 60, False)
    assert (second.allowed, second.remaining) == (True, 10)
    assert (refused.allowed, refused.remaining) == (False, 10)  # a refusal spends nothing
    assert 0 < refused.reset_after <= 60
    assert refused.headers()["Retry-After"] == refused.headers()["RateLimit-Reset"]
    assert (other.allowed, other.remaining) == (True, 0)
    client = Redis.from_url(stores.redis)
    try:
        keys = [k async for k in client.scan_iter(match=redis_prefix + "*")]
    finally:
        await client.aclose()
    assert keys  # the counters live in Redis, under the prefix


async def test_two_instances_share_the_counters(stores: StoreUrls, redis_prefix: str) -> None:
    a = RateLimiter(stores.redis, key_prefix=redis_prefix)
    b = RateLimiter(stores.redis, key_prefix=redis_prefix)
    try:
        assert (await a.hit("ip:1.2.3.4", "10/minute", 6)).allowed
        assert not (await b.hit("ip:1.2.3.4", "10/minute", 6)).allowed
    finally:
        await a.aclose()
        await b.aclose()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once closed


async def test_a_dead_redis_falls_back_to_memory_quickly(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limiter = RateLimiter(
        f"redis://127.0.0.1:{_closed_port()}/0", timeout=0.25, clock=lambda: now[0]
    )
    started = time.perf_counter()
    try:
        decisions = [await limiter.hit("ip:9.9.9.9", "100/minute", 40) for _ in range(3)]
        assert not limiter.redis_in_use  # not retried on every request
        now[0] = 10.0
        assert limiter.redis_in_use  # retried after retry_seconds
        retried = await limiter.hit("ip:9.9.9.9", "100/minute", 1)
    finally:
        await limiter.aclose()
    assert time.perf_counter() - started < 2
    assert [d.allowed for d in decisions] == [True, True, False]  # still limited per process
    assert all(d.degraded for d in decisions)
    assert retried.degraded
    assert retried.remaining == 19
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 2  # once per failed attempt, not per request


async def test_leases_save_round_trips_and_never_exceed_the_limit(
    stores: StoreUrls, redis_prefix: str
) -> None:
    """A busy identity takes units ahead (up to 1% of its limit) and spends them in
    process; two processes together still stop at the limit."""
    now = [0.0]
    a, b = (
        RateLimiter(stores.redis, key_prefix=redis_prefix, lease_fraction=0.01,
                    lease_seconds=1.0, clock=lambda: now[0])
        for _ in range(2)
    )  # fmt: skip
    spent_in_redis: list[int] = []
    for limiter in (a, b):
        spend = limiter._spend_in_redis  # count what reaches Redis

        async def counting(item: Any, identity: str, cost: int, spend: Any = spend) -> Any:
            spent_in_redis.append(cost)
            return await spend(item, identity, cost)

        limiter._spend_in_redis = counting  # type: ignore[method-assign]
    try:
        allowed = 0
        for i in range(3000):
            decision = await (a if i % 2 else b).hit("key:busy", "2000/minute", 1)
            allowed += decision.allowed
            now[0] += 0.0001
            if i == 1799:  # well under the limit: most hits never left the process
                assert len(spent_in_redis) < 200, len(spent_in_redis)
    finally:
        await a.aclose()
        await b.aclose()
    assert allowed <= 2000  # the limit holds across both processes
    assert allowed >= 2000 - 2 * 20  # refused early by at most a lease (1%) per process
    assert max(spent_in_redis) <= 20


async def test_a_quiet_identity_takes_only_its_cost(stores: StoreUrls, redis_prefix: str) -> None:
    now = [0.0]
    limiter = RateLimiter(stores.redis, key_prefix=redis_prefix, lease_fraction=0.01,
                          lease_seconds=0.1, clock=lambda: now[0])  # fmt: skip
    try:
        for i in range(5):
            decision = await limiter.hit("key:quiet", "10000/minute", 3)
            assert decision.remaining == 10000 - 3 * (i + 1)  # exact: nothing leased ahead
            now[0] += 1.0  # one request a second: every lease has lapsed
    finally:
        await limiter.aclose()
