"""The lifespan owns every long-lived client: it opens them, builds the ports, closes them."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import FastAPI
from graphql import GraphQLSchema
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources import roundtrips
from datasources.cache.apq import RedisApqStore
from datasources.cache.keys import CacheKeys, CacheStats, Invalidator
from datasources.cache.repositories import EntityCacheConfig, with_entity_cache
from datasources.cache.responses import RedisResponseStore
from datasources.mongo import client as mongo_client
from datasources.mongo.writes import MongoCandidateWriter
from datasources.ports import Datasources
from datasources.postgres import engine as pg_engine
from datasources.postgres import reader as pg_reader
from datasources.postgres.api_keys import PgApiKeyRepository
from datasources.postgres.application_writes import PgApplicationWriter
from datasources.postgres.company_writes import PgCompanyWriter
from datasources.postgres.idempotency import PgIdempotencyStore
from datasources.postgres.job_writes import PgJobWriter
from datasources.redis_client import create_redis
from datasources.resilience import BreakerState, Resilience
from gateway import replicas
from gateway.apq import PersistedQueries
from gateway.guard import RequestGuard
from gateway.idempotency import Idempotency
from gateway.limits import GatewayLimits
from gateway.observability import metrics as observed_metrics
from gateway.response_cache import ResponseCache
from gateway.security.authenticate import Authenticator
from gateway.settings import Settings, for_redis_topology
from gateway.subscriptions import start_event_hub
from gateway.websocket import ConnectionRegistry


def _require(settings: Settings, store: str) -> str:
    url = settings.url_for(store)
    if url is None:
        raise RuntimeError(
            f"no URL for {store}: set HIREGRAPH_{store.upper()}_URL, or run `hiregraph serve`, "
            "which starts embedded stores for unset URLs"
        )
    return url


def tune_gc(gen0_threshold: int) -> None:
    """Fewer, cheaper collections for a request-serving process.

    A GraphQL response allocates thousands of short-lived objects, so with Python's
    default young-generation threshold (700) the collector runs many times per request
    and keeps re-walking every long-lived object (schema, clients, modules). Freezing
    what start-up created moves it out of the collector's view; the higher threshold
    lets a request's garbage die young in far fewer passes. Measured: about a quarter
    less CPU per job-board operation in process (see bench/README.md).
    """
    if gen0_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)


def _cache_client(settings: Settings) -> Redis:
    """The caches' own pool (entities, persisted queries, responses), with the cache's
    short timeouts: a slow Redis must cost a request milliseconds, where the general
    client (2 s) may wait. Each cache call is bounded by one `asyncio.timeout` of
    `cache.redis_timeout_seconds` rather than by a socket timeout, which redis-py
    enforces with a `wait_for` (a new task) on every command: on a response-cache hit
    that was a tenth of the gateway's CPU."""
    c = settings.cache
    return create_redis(
        _require(settings, "redis"),
        max_connections=c.redis_max_connections,
        socket_timeout=None,  # redis-py 8 defaults to 5 s, enforced with `wait_for`
        socket_connect_timeout=c.redis_timeout_seconds,
    )


def _cache_config(settings: Settings) -> EntityCacheConfig:
    c = settings.cache
    return EntityCacheConfig(
        key_prefix=c.key_prefix,
        ttl_seconds=tuple(c.entity_ttl_seconds.items()),
        timeout=c.redis_timeout_seconds,
        retry_seconds=c.redis_retry_seconds,
        lock_ms=c.lock_ms,
        failures_to_trip=c.redis_failures_to_trip,
        result_ttl_seconds=c.result_ttl_seconds,
    )


def _persisted_queries(settings: Settings, cache_redis: Redis) -> PersistedQueries:
    """The APQ store, on the caches' client and key prefix."""
    if not settings.apq.enabled:
        return PersistedQueries(None)
    store = RedisApqStore(
        cache_redis,
        CacheKeys(settings.cache.key_prefix),
        ttl_seconds=settings.apq.ttl_seconds,
        retry_seconds=settings.cache.redis_retry_seconds,
        timeout=settings.cache.redis_timeout_seconds,
        failures_to_trip=settings.cache.redis_failures_to_trip,
    )
    return PersistedQueries(store)


def _response_cache(
    settings: Settings, schema: GraphQLSchema, cache_redis: Redis, stats: CacheStats
) -> ResponseCache | None:
    """The response cache, on the caches' client and key prefix."""
    if not settings.response_cache.enabled:
        return None
    store = RedisResponseStore(
        cache_redis,
        CacheKeys(settings.cache.key_prefix),
        stats,
        retry_seconds=settings.cache.redis_retry_seconds,
        timeout=settings.cache.redis_timeout_seconds,
        failures_to_trip=settings.cache.redis_failures_to_trip,
    )
    return ResponseCache(schema, store, stats)


def _writers(engine: AsyncEngine, mongo: Any, db: Any, guards: Resilience) -> dict[str, Any]:
    """The write ports: each write is one transaction with its outbox events (Postgres,
    and a Mongo multi-document transaction for profiles). Guarded, never retried."""
    return {
        "company_writer": guards.writes("postgres", PgCompanyWriter(engine)),
        "job_writer": guards.writes("postgres", PgJobWriter(engine)),
        "application_writer": guards.writes("postgres", PgApplicationWriter(engine)),
        "candidate_writer": guards.writes("mongo", MongoCandidateWriter(mongo, db)),
    }


def _redis_breaker(ds: Datasources) -> Callable[[], BreakerState] | None:
    """The Redis cache's cooldown (its breaker: `CacheSettings`), seen as a breaker state."""
    gate = getattr(getattr(ds.companies, "cache", None), "gate", None)
    if gate is None:
        return None
    return lambda: BreakerState.CLOSED if gate.available else BreakerState.OPEN


def _breaker_state(guards: Resilience, store: str) -> int:
    return int(guards.breakers()[store])


def _invalidator(settings: Settings, cache_redis: Redis) -> Invalidator | None:
    """What a mutation calls after its commit, so the next read cannot be stale (the
    outbox consumer calls it again, for writes whose call did not reach Redis)."""
    if not (settings.cache.enabled or settings.response_cache.enabled):
        return None
    keys = CacheKeys(settings.cache.key_prefix)
    return Invalidator(cache_redis, keys, timeout=settings.cache.redis_timeout_seconds)


def _idempotency(settings: Settings, engine: AsyncEngine) -> Idempotency | None:
    """Idempotency keys on the read/write engine: claims are writes, and a replay must
    see the claim its first request committed (no replica lag)."""
    s = settings.idempotency
    if not s.enabled:
        return None
    ttl, lease = timedelta(hours=s.ttl_hours), timedelta(seconds=s.lease_seconds)
    return Idempotency(PgIdempotencyStore(engine, ttl=ttl, lease=lease))


def build_lifespan(
    settings: Settings, graphql_schema: GraphQLSchema
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """`graphql_schema` is what the request guard costs and limits operations against."""
    settings = for_redis_topology(settings)
    p = settings.pools

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        postgres_url = _require(settings, "postgres")
        # The SQLAlchemy engine is for transactional writes (the writes issue); it opens
        # no connection until used. Reads go through the asyncpg pool below.
        engine = pg_engine.create_engine(
            postgres_url,
            pool_size=p.postgres_pool_size,
            max_overflow=p.postgres_max_overflow,
            pool_timeout=p.postgres_pool_timeout,
            connect_timeout=p.postgres_connect_timeout,
            statement_timeout_ms=p.postgres_statement_timeout_ms,
        )
        roundtrips.instrument_engine(engine)
        mongo = mongo_client.create_client(
            _require(settings, "mongo"),
            max_pool_size=p.mongo_max_pool_size,
            server_selection_timeout_ms=p.mongo_server_selection_timeout_ms,
            connect_timeout_ms=p.mongo_connect_timeout_ms,
            socket_timeout_ms=p.mongo_socket_timeout_ms,
            wait_queue_timeout_ms=p.mongo_wait_queue_timeout_ms,
            event_listeners=[roundtrips.MongoRoundTrips()],
        )
        redis: Redis = create_redis(
            _require(settings, "redis"),
            max_connections=p.redis_max_connections,
            socket_timeout=p.redis_socket_timeout,
            socket_connect_timeout=p.redis_connect_timeout,
        )

        async def redis_ping() -> None:
            await redis.ping()

        db: Any = mongo[settings.mongo_db]
        # Reads use their own asyncpg pool in autocommit: one round trip per statement.
        pool = await pg_reader.create_pool(
            pg_engine.asyncpg_dsn(postgres_url),
            max_size=p.postgres_pool_size,
            acquire_timeout=p.postgres_pool_timeout,
            statement_timeout_ms=p.postgres_statement_timeout_ms,
        )
        primary = replicas.primary_stores(settings, pool, mongo)
        query_stores = await replicas.open_query_stores(settings, primary, mongo)
        probes: dict[str, Any] = {
            # The pool that serves reads is the one whose health matters.
            "postgres": lambda: pg_reader.ping(pool),
            "mongo": lambda: mongo_client.ping(mongo),
            "redis": redis_ping,
            **replicas.replica_probe(query_stores),
        }
        # Every store call goes through its store's guard (breaker, timeout, read
        # retries), under the caches: a cache hit needs no store. A replica shares its
        # store's guard.
        guards = app.state.resilience = Resilience.create(settings.resilience.policies())
        guards.bound_when_unreachable(
            "mongo",
            partial(mongo_client.has_reachable_server, mongo),
            p.mongo_server_selection_timeout_ms / 1000,
        )
        app.state.cache_stats = CacheStats()
        cache_redis = _cache_client(settings)

        def ports(stores: replicas.ReadStores) -> Datasources:
            reads = replicas.read_ports(stores, p.postgres_pool_timeout, settings.analytics)
            guarded = {
                name: guards.reads(replicas.STORE_OF_PORT[name], port)
                for name, port in reads.items()
            }
            ds = Datasources(**guarded, probes=probes)
            if settings.cache.enabled:
                ds = with_entity_cache(
                    ds, cache_redis, _cache_config(settings), app.state.cache_stats
                )
                if (redis_state := _redis_breaker(ds)) is not None:
                    guards.external["redis"] = redis_state
            return replace(
                ds,
                **_writers(engine, mongo, db, guards),
                invalidator=_invalidator(settings, cache_redis),
            )

        datasources = ports(primary)
        if query_stores is not None:  # queries on the replicas, the rest on the primaries
            datasources = replace(ports(query_stores), primary=datasources)
        app.state.datasources = datasources
        for store in guards.breakers():  # hiregraph_circuit_breaker_state{store}
            observed_metrics.register_breaker_state(store, partial(_breaker_state, guards, store))
        app.state.read_pool, app.state.write_engine = pool, engine  # pool usage metrics
        limits = GatewayLimits.create(settings.limits, graphql_schema, _require(settings, "redis"))
        app.state.guard = RequestGuard(
            settings,
            Authenticator.from_settings(settings, pool),
            limits,
            PgApiKeyRepository(pool),
            _persisted_queries(settings, cache_redis),
        )
        app.state.response_cache = _response_cache(
            settings, graphql_schema, cache_redis, app.state.cache_stats
        )
        app.state.idempotency = _idempotency(settings, engine)
        connections = ConnectionRegistry(settings.websocket.max_connections_per_viewer)
        app.state.ws_connections = connections
        app.state.event_hub, stop_hub = await start_event_hub(settings, _require(settings, "redis"))
        tune_gc(settings.gc_gen0_threshold)
        try:
            yield
        finally:
            await connections.close_all()  # 1001 to every open WebSocket, before the stores
            await stop_hub()
            await limits.aclose()
            await cache_redis.aclose()
            if query_stores is not None:
                await query_stores.aclose()
            await pool.close()
            await engine.dispose()
            await mongo.close()
            await redis.aclose()

    return lifespan
