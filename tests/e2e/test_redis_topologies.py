"""The gateway over a real Redis Sentinel group and a real three-master Redis Cluster
(tests/redis_topologies.py): the client factory, a Sentinel failover, and the caches,
the invalidation and the rate limiter through the app, with PostgreSQL and MongoDB real."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from redis import Redis as SyncRedis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError, ResponseError

from datasources.cache.keys import CacheKeys, Invalidator
from datasources.postgres.engine import asyncpg_dsn
from datasources.redis_client import create_redis, parse_redis_url
from gateway.app import create_app
from gateway.limits.rate import RateLimiter
from gateway.settings import (
    AuthSettings,
    CacheSettings,
    LimitSettings,
    ResponseCacheSettings,
    Settings,
)
from tests.e2e.conftest import Seeded, shared_env, start_gateway, start_worker, stop_gateway
from tests.e2e.real_writes import UPDATE_JOB, _delete_created
from tests.e2e.test_authz import SECRET
from tests.e2e.test_cache_invalidation import _board
from tests.e2e.test_subscriptions import UPDATED, Writes, connect
from tests.redis_topologies import Cluster, SentinelGroup, redis_cluster, sentinel_group, until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelGroup]:
    with sentinel_group(tmp_path_factory.mktemp("sentinel")) as group:
        yield group


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with redis_cluster(tmp_path_factory.mktemp("cluster")) as c:
        yield c


def _keys(ports: tuple[int, ...], pattern: str) -> list[bytes]:
    found: list[bytes] = []
    for port in ports:
        with SyncRedis(port=port) as r:
            found += list(r.scan_iter(match=pattern))
    return found


def _role(port: int) -> str:
    with SyncRedis(port=port) as r:
        role: str = r.info("replication")["role"]
    return role


def _failover_started(sentinel_port: int) -> bool:
    """Ask the Sentinel to fail over. It refuses (NOGOODSLAVE) until its last INFO of the
    replica is recent enough; on a busy machine that can take a few seconds."""
    with SyncRedis(port=sentinel_port) as s:
        try:
            s.execute_command("SENTINEL", "FAILOVER", "hgmaster")
        except ResponseError as refused:
            if "NOGOODSLAVE" not in str(refused):
                raise
            return False
    return True


async def test_the_sentinel_url_reaches_the_master_and_follows_a_failover(
    sentinel: SentinelGroup,
) -> None:
    client = create_redis(sentinel.url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.set("hg:topology", "before")
        with SyncRedis(port=sentinel.master_port) as master:
            assert master.get("hg:topology") == b"before"  # written on the master
        until(lambda: _failover_started(sentinel.sentinel_port), "failover to start", 30)
        until(lambda: sentinel.master()[1] == sentinel.replica_port, "failover", 30)
        # Until the old master is turned into a replica it still takes writes (and loses
        # them when it resyncs): Redis replication is asynchronous, a failover's window.
        until(lambda: _role(sentinel.master_port) == "slave", "old master demoted", 30)
        written = False
        for _ in range(50):  # a pooled connection to the old master fails once
            try:
                await client.set("hg:topology", "after")
                written = True
                break
            except (RedisConnectionError, ReadOnlyError):
                await asyncio.sleep(0.2)
        assert written
        with SyncRedis(port=sentinel.replica_port) as promoted:
            assert promoted.get("hg:topology") == b"after"
    finally:
        await client.aclose()


async def test_the_rate_limiter_counts_on_a_cluster_for_identities_on_every_shard(
    cluster: Cluster,
) -> None:
    prefix = f"hg:rate:{uuid.uuid4().hex[:8]}"
    limiter = RateLimiter(cluster.url, key_prefix=prefix, timeout=2)
    try:
        identities = [f"user:{n}" for n in range(12)]  # their hash tags spread the slots
        for identity in identities:
            assert (await limiter.hit(identity, "3/minute", 2)).remaining == 1
            assert not (await limiter.hit(identity, "3/minute", 2)).allowed
        assert limiter.redis_in_use  # never fell back to the in-memory limiter
    finally:
        await limiter.aclose()
    keys = _keys(cluster.ports, f"{prefix}:*")
    assert len(keys) == len(identities)  # one live counter each
    with SyncRedis(port=cluster.ports[0]) as r:
        slots = {r.execute_command("CLUSTER", "KEYSLOT", k) for k in keys}
    assert len(slots) > 3  # spread over the slots (and so the shards), not one tag


def _settings(seeded: Seeded, redis_url: str, prefix: str) -> Settings:
    return Settings(
        postgres_url=seeded.postgres_url, mongo_url=seeded.mongo_url, mongo_db=seeded.mongo_db,
        redis_url=redis_url, broker_url=seeded.redis_url, expose_round_trips=True,
        gc_gen0_threshold=0, auth=AuthSettings(jwt_secret=SECRET),
        cache=CacheSettings(key_prefix=prefix, redis_timeout_seconds=2),
        limits=LimitSettings(rate_limit_key_prefix=f"{prefix}:rate", rate_limit_redis_timeout=2),
        response_cache=ResponseCacheSettings(enabled=False),
    )  # fmt: skip


@pytest.fixture(params=["sentinel", "cluster"])
def topology(request: pytest.FixtureRequest) -> tuple[str, tuple[int, ...]]:
    """The Redis URL of a topology and the ports of the servers holding its data."""
    if request.param == "sentinel":
        group: SentinelGroup = request.getfixturevalue("sentinel")
        return group.url, (group.master()[1],)
    c: Cluster = request.getfixturevalue("cluster")
    return c.url, c.ports


@pytest.fixture
async def conn(seeded: Seeded) -> AsyncIterator[asyncpg.Connection]:
    db = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    yield db
    await db.close()


async def test_the_caches_and_their_invalidation_run_on_the_topology(
    seeded: Seeded, topology: tuple[str, tuple[int, ...]], conn: asyncpg.Connection
) -> None:
    url, ports = topology
    prefix = f"hgtopo{uuid.uuid4().hex[:8]}"
    app = create_app(_settings(seeded, url, prefix))
    tagged = f"{{{prefix}}}" if parse_redis_url(url).topology == "cluster" else prefix
    job_id, title = await conn.fetchrow(
        "SELECT id, title FROM jobs WHERE status = 'open' ORDER BY posted_at DESC, id DESC LIMIT 1"
    )
    redis = create_redis(url)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
                cold, cold_trips = await _board(http)
                await _board(http)
                warm, warm_trips = await _board(http)
                assert warm == cold
                assert cold_trips["postgres"] >= 3
                assert (warm_trips["postgres"], warm_trips["mongo"]) == (0, 0), warm_trips
                assert _keys(ports, f"{tagged}:e:Job:*")  # the entities live on the topology
                await conn.execute("UPDATE jobs SET title = 'Topology' WHERE id = $1", job_id)
                await Invalidator(redis, CacheKeys(tagged)).entities_changed("Job", [job_id])
                renamed, trips = await _board(http)
                assert trips["postgres"] >= 1
                assert b'"title":"Topology"' in renamed
                response = await http.post("/graphql", json={"query": "{ __typename }"})
                assert int(response.headers["ratelimit-remaining"]) > 0
        assert _keys(ports, f"{prefix}:rate:*")  # the rate counters too
    finally:
        await conn.execute("UPDATE jobs SET title = $2 WHERE id = $1", job_id, title)
        await Invalidator(redis, CacheKeys(tagged)).entities_changed("Job", [job_id])
        await redis.aclose()


async def test_subscriptions_run_live_over_rabbitmq_with_a_sentinel_redis(
    seeded: Seeded, sentinel: SentinelGroup, tmp_path: Path
) -> None:
    """With a Sentinel `HIREGRAPH_REDIS_URL` the broker must be another one (RabbitMQ
    here); a subscriber still receives the events, live (there is no replay stream)."""
    env = shared_env(
        seeded, "topo", SECRET,
        HIREGRAPH_REDIS_URL=sentinel.url,
        HIREGRAPH_BROKER_URL="amqp://guest:guest@127.0.0.1:5672/",
        HIREGRAPH_CACHE__KEY_PREFIX=f"hgtopo{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    (tmp_path / "gw").mkdir()
    (tmp_path / "worker").mkdir()
    gateway, base = start_gateway(env, tmp_path / "gw")
    relay = start_worker(env, tmp_path / "worker", "--no-consumers")
    try:
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:
            writes = Writes(http, [])
            try:
                job = await writes.job(await writes.company(), publish=True)
                async with connect(base) as sub:
                    await sub.subscribe("1", UPDATED, id=job)
                    await asyncio.sleep(0.5)
                    await writes.mutate(UPDATE_JOB, input={"id": job, "title": "Via RabbitMQ"})
                    got = await sub.payload()
                    assert got["data"]["jobUpdated"]["title"] == "Via RabbitMQ"
            finally:
                db = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
                try:
                    await _delete_created(db, writes.companies)
                finally:
                    await db.close()
    finally:
        stop_gateway(relay)
        stop_gateway(gateway)
