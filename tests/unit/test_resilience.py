"""The store guard's pure logic: the breaker's state machine, what is retried and how
often, the per-call timeout under the request's deadline, error mapping."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pymongo.errors
import pytest
import sqlalchemy.exc

from datasources.resilience import (
    BreakerConfig,
    BreakerOpen,
    BreakerState,
    CircuitBreaker,
    Resilience,
    StoreGuard,
    StorePolicy,
    request_budget,
)
from datasources.resilience.errors import is_retryable, is_store_failure, to_upstream
from domain.errors import NotFound, UpstreamBusy, UpstreamTimeout, UpstreamUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(
    threshold: int = 3, reset: float = 5.0, probes: int = 1
) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    return CircuitBreaker("mongo", BreakerConfig(threshold, reset, probes), clock), clock


def test_the_breaker_opens_after_threshold_failures_in_a_row() -> None:
    b, _ = breaker(threshold=3)
    for _ in range(2):
        b.before_call()
        b.on_failure()
    assert b.state is BreakerState.CLOSED
    b.before_call()
    b.on_success()  # a success resets the count
    for _ in range(2):
        b.before_call()
        b.on_failure()
    assert b.state is BreakerState.CLOSED
    b.before_call()
    b.on_failure()
    assert b.state is BreakerState.OPEN
    assert b.opened == 1
    with pytest.raises(BreakerOpen):
        b.before_call()
    assert b.rejected == 1


def test_the_breaker_half_opens_after_the_reset_time_and_closes_on_a_probe_success() -> None:
    b, clock = breaker(threshold=1, reset=5.0, probes=1)
    b.before_call()
    b.on_failure()
    clock.now += 4.9
    assert b.state is BreakerState.OPEN
    clock.now += 0.2
    assert b.state is BreakerState.HALF_OPEN
    b.before_call()  # the one probe
    with pytest.raises(BreakerOpen):
        b.before_call()  # no second probe while the first is out
    b.on_success()
    assert b.state is BreakerState.CLOSED
    b.before_call()


def test_a_failed_probe_opens_the_breaker_again_for_a_full_reset_time() -> None:
    b, clock = breaker(threshold=1, reset=5.0, probes=2)
    b.before_call()
    b.on_failure()
    clock.now += 5.0
    b.before_call()
    b.before_call()  # two probes allowed
    b.on_failure()
    assert b.state is BreakerState.OPEN
    assert b.opened == 2
    clock.now += 4.0
    with pytest.raises(BreakerOpen):
        b.before_call()


def test_a_neutral_probe_gives_its_slot_back() -> None:
    b, clock = breaker(threshold=1, probes=1)
    b.before_call()
    b.on_failure()
    clock.now += 10
    b.before_call()
    b.on_neutral()  # e.g. a query error: nothing learnt about the store
    assert b.state is BreakerState.HALF_OPEN
    b.before_call()


@pytest.mark.parametrize(
    ("error", "retryable", "code"),
    [
        (ConnectionRefusedError(), True, "UPSTREAM_UNAVAILABLE"),
        (ConnectionResetError(), True, "UPSTREAM_UNAVAILABLE"),
        (asyncpg.ConnectionDoesNotExistError("closed"), True, "UPSTREAM_UNAVAILABLE"),
        (asyncpg.InterfaceError("connection is closed"), True, "UPSTREAM_UNAVAILABLE"),
        (pymongo.errors.AutoReconnect("reset"), True, "UPSTREAM_UNAVAILABLE"),
        (pymongo.errors.ServerSelectionTimeoutError("none"), False, "UPSTREAM_UNAVAILABLE"),
        (pymongo.errors.NetworkTimeout("slow"), False, "UPSTREAM_TIMEOUT"),
        (TimeoutError(), False, "UPSTREAM_TIMEOUT"),
        (asyncpg.QueryCanceledError("statement timeout"), False, "UPSTREAM_TIMEOUT"),
        (pymongo.errors.WaitQueueTimeoutError("busy"), False, "UPSTREAM_BUSY"),
        (sqlalchemy.exc.TimeoutError("QueuePool limit"), False, "UPSTREAM_BUSY"),
        (UpstreamBusy("mongo", "busy"), False, "UPSTREAM_BUSY"),
    ],
)
def test_store_failures_map_to_codes_and_only_connection_errors_retry(
    error: Exception, retryable: bool, code: str
) -> None:
    assert is_store_failure(error)
    assert is_retryable(error) is retryable
    mapped = to_upstream("mongo", error)
    assert (mapped.code, mapped.store) == (code, "mongo")


@pytest.mark.parametrize(
    "error",
    [asyncpg.UndefinedColumnError("no column"), pymongo.errors.OperationFailure("bad"), KeyError()],
)
def test_query_errors_are_not_store_failures(error: Exception) -> None:
    assert not is_store_failure(error)
    assert not is_retryable(error)


def policy(**kw: object) -> StorePolicy:
    base: dict[str, object] = {
        "timeout_seconds": 1.0,
        "retry_attempts": 2,
        "backoff_initial_seconds": 0.001,
        "backoff_max_seconds": 0.002,
        "breaker": BreakerConfig(failure_threshold=100),
    }
    return StorePolicy(**{**base, **kw})  # type: ignore[arg-type]


class Flaky:
    """Fails with `error` the first `failures` calls, then answers."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures, self.error, self.calls = failures, error or ConnectionResetError(), 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


async def test_a_read_is_retried_after_connection_failures() -> None:
    guard, fn = StoreGuard("postgres", policy()), Flaky(2)
    assert await guard.call(fn, retry=True) == "ok"
    assert (fn.calls, guard.retries) == (3, 2)


async def test_a_read_gives_up_after_its_attempts() -> None:
    guard, fn = StoreGuard("postgres", policy(retry_attempts=2)), Flaky(10)
    with pytest.raises(UpstreamUnavailable) as caught:
        await guard.call(fn, retry=True)
    assert fn.calls == 3
    assert (caught.value.code, caught.value.store) == ("UPSTREAM_UNAVAILABLE", "postgres")


async def test_a_mutation_is_never_retried() -> None:
    guard, fn = StoreGuard("postgres", policy()), Flaky(1)
    with pytest.raises(UpstreamUnavailable):
        await guard.call(fn, retry=False)
    assert fn.calls == 1


async def test_timeouts_and_query_errors_are_not_retried() -> None:
    guard = StoreGuard("postgres", policy())
    slow = Flaky(1, asyncpg.QueryCanceledError("statement timeout"))
    with pytest.raises(UpstreamTimeout):
        await guard.call(slow, retry=True)
    bad = Flaky(1, NotFound("no such job"))
    with pytest.raises(NotFound):
        await guard.call(bad, retry=True)
    assert (slow.calls, bad.calls) == (1, 1)


async def test_the_request_retry_budget_bounds_retries_across_calls() -> None:
    guard = StoreGuard("mongo", policy(retry_attempts=5))
    with request_budget(10.0, retries=2):
        fn = Flaky(10)
        with pytest.raises(UpstreamUnavailable):
            await guard.call(fn, retry=True)
    assert fn.calls == 3  # the first attempt and the two retries the request may spend


async def test_a_store_that_failed_a_request_fails_its_later_calls_at_once() -> None:
    guard = StoreGuard("mongo", policy(retry_attempts=0))
    with request_budget(10.0, retries=0):
        first = Flaky(1)
        with pytest.raises(UpstreamUnavailable):
            await guard.call(first)
        again = Flaky(0)
        with pytest.raises(UpstreamUnavailable):
            await guard.call(again)
    assert (first.calls, again.calls) == (1, 0)
    assert await guard.call(Flaky(0)) == "ok"  # another request tries the store again


async def test_the_call_timeout_is_capped_by_the_request_deadline() -> None:
    guard = StoreGuard("postgres", policy(timeout_seconds=5.0))

    async def hangs() -> None:
        await asyncio.sleep(10)

    started = time.perf_counter()
    with request_budget(0.3, retries=0), pytest.raises(UpstreamTimeout) as caught:
        await guard.call(hangs)
    elapsed = time.perf_counter() - started
    assert 0.2 < elapsed < 0.3  # before the deadline, by the margin
    assert caught.value.store == "postgres"


async def test_the_store_timeout_applies_without_a_request() -> None:
    guard = StoreGuard("postgres", policy(timeout_seconds=0.05))

    async def hangs() -> None:
        await asyncio.sleep(10)

    with pytest.raises(UpstreamTimeout):
        await guard.call(hangs)


async def test_a_store_without_a_reachable_server_waits_only_the_unreachable_bound() -> None:
    guards = Resilience.create({"mongo": policy(timeout_seconds=5.0, retry_attempts=0)})
    guard = guards.guards["mongo"]
    reachable = False
    guards.bound_when_unreachable("mongo", lambda: reachable, 0.05)

    async def hangs() -> None:
        await asyncio.sleep(10)

    started = time.perf_counter()
    with pytest.raises(UpstreamTimeout):
        await guard.call(hangs)
    assert time.perf_counter() - started < 1.0  # the bound (+ the backstop), not 5 s

    reachable = True

    async def answers_after(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "ok"

    assert await guard.call(answers_after, 0.2) == "ok"  # reachable: the full timeout


async def test_an_open_breaker_fails_fast_without_calling_the_store() -> None:
    clock = Clock()
    guard = StoreGuard("mongo", policy(retry_attempts=0, breaker=BreakerConfig(2, 5.0, 1)), clock)
    fn = Flaky(2)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await guard.call(fn)
    assert guard.state is BreakerState.OPEN
    with pytest.raises(UpstreamUnavailable, match="circuit breaker open"):
        await guard.call(fn)
    assert fn.calls == 2
    clock.now += 5.0
    assert await guard.call(fn) == "ok"  # the half-open probe succeeds
    assert guard.state is BreakerState.CLOSED


async def test_guarded_ports_retry_reads_but_not_writes() -> None:
    class Port:
        def __init__(self) -> None:
            self.read, self.write = Flaky(1), Flaky(1)

        async def get_many(self) -> str:
            return await self.read()

        async def create(self) -> str:
            return await self.write()

    resilience = Resilience.create({"postgres": policy()})
    reads, writes = Port(), Port()
    assert await resilience.reads("postgres", reads).get_many() == "ok"
    with pytest.raises(UpstreamUnavailable):
        await resilience.writes("postgres", writes).create()
    assert (reads.read.calls, writes.write.calls) == (2, 1)
    assert resilience.breakers() == {"postgres": BreakerState.CLOSED}


async def test_a_busy_pool_does_not_open_the_breaker() -> None:
    guard = StoreGuard("postgres", policy(breaker=BreakerConfig(1, 5.0, 1)))
    with pytest.raises(UpstreamBusy):
        await guard.call(Flaky(1, UpstreamBusy("postgres", "busy")))
    assert guard.state is BreakerState.CLOSED


async def test_a_mongo_call_is_abandoned_past_the_backstop_never_cancelled() -> None:
    guard = StoreGuard("mongo", policy(timeout_seconds=0.05, retry_attempts=0))
    finished = asyncio.Event()

    async def ignores_deadline() -> None:
        await asyncio.sleep(0.4)  # PyMongo's own deadline would end a real call
        finished.set()

    started = time.perf_counter()
    with pytest.raises(UpstreamTimeout):
        await guard.call(ignores_deadline)
    assert time.perf_counter() - started < 0.4  # the deadline plus the backstop
    await asyncio.wait_for(finished.wait(), 2)  # it ran on: nobody cancelled it
