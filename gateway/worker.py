"""`hiregraph worker`'s bootstrap: the clients the relays and consumers need, built from
Settings (no FastAPI), and closed when the worker stops."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.cache.keys import CacheKeys, Invalidator
from datasources.events.broker import BrokerOptions, EventBroker, Names, create_event_broker
from datasources.events.consumers import default_consumers
from datasources.events.relay import MongoOutboxRelay, PgOutboxRelay, RelayOptions
from datasources.events.worker import Relay, Worker
from datasources.mongo import client as mongo_client
from datasources.postgres import engine as pg_engine
from datasources.postgres.idempotency import ExpiredKeysPurge
from datasources.postgres.rollup import JobStatsRollup
from datasources.redis_client import create_redis
from gateway.observability import serve_worker_metrics
from gateway.settings import Settings, for_redis_topology

log = logging.getLogger("hiregraph.worker")


@dataclass(frozen=True)
class Clients:
    engine: AsyncEngine
    mongo: AsyncMongoClient[dict[str, Any]]
    redis: Redis


def _require(url: str | None, variable: str) -> str:
    if url is None:
        raise RuntimeError(f"no URL: set {variable}, or let `hiregraph worker` start embedded")
    return url


@asynccontextmanager
async def open_clients(settings: Settings) -> AsyncIterator[Clients]:
    p = settings.pools
    engine = pg_engine.create_engine(
        _require(settings.postgres_url, "HIREGRAPH_POSTGRES_URL"),
        pool_size=2,  # one relay batch and one counter update at a time
        max_overflow=2,
        pool_timeout=p.postgres_pool_timeout,
        connect_timeout=p.postgres_connect_timeout,
        statement_timeout_ms=p.postgres_statement_timeout_ms,
    )
    mongo = mongo_client.create_client(
        _require(settings.mongo_url, "HIREGRAPH_MONGO_URL"),
        max_pool_size=10,
        server_selection_timeout_ms=p.mongo_server_selection_timeout_ms,
        connect_timeout_ms=p.mongo_connect_timeout_ms,
        socket_timeout_ms=p.mongo_socket_timeout_ms,
    )
    redis: Redis = create_redis(
        _require(settings.redis_url, "HIREGRAPH_REDIS_URL"),
        socket_timeout=p.redis_socket_timeout,
        socket_connect_timeout=p.redis_connect_timeout,
    )
    try:
        yield Clients(engine, mongo, redis)
    finally:
        await redis.aclose()
        await mongo.close()
        await engine.dispose()


def broker_options(settings: Settings) -> BrokerOptions:
    b = settings.broker
    return BrokerOptions(
        names=Names(b.namespace),
        stream_maxlen=b.stream_maxlen,
        publish_timeout=b.publish_timeout_seconds,
        reconnect_interval=b.reconnect_seconds,
        claim_idle_ms=b.claim_idle_ms,
        retry_delay=b.consumer_retry_seconds,
    )


def relay_options(settings: Settings) -> RelayOptions:
    b = settings.broker
    return RelayOptions(
        batch_size=b.relay_batch_size,
        poll_interval=b.relay_poll_seconds,
        backoff_base=b.relay_backoff_base_seconds,
        backoff_max=b.relay_backoff_max_seconds,
        lease_seconds=b.relay_lease_seconds,
    )


def job_stats_rollup(settings: Settings) -> JobStatsRollup | None:
    """The rollup refresher, run with the relays (None when the rollup is off)."""
    a = settings.analytics
    if not a.rollup:
        return None
    return JobStatsRollup(
        pg_engine.asyncpg_dsn(_require(settings.postgres_url, "HIREGRAPH_POSTGRES_URL")),
        min_interval=a.rollup_min_interval_seconds,
        poll_seconds=a.rollup_poll_seconds,
        statement_timeout_ms=int(a.rollup_statement_timeout_seconds * 1000),
    )


def build_worker(
    settings: Settings, clients: Clients, broker: EventBroker, *, relays: bool, consumers: bool
) -> Worker:
    db: Any = clients.mongo[settings.mongo_db]
    options = relay_options(settings)
    owner = broker_options(settings).instance
    relay_list: list[Relay] = []
    rollup = job_stats_rollup(settings) if relays else None
    if relays:
        relay_list = [
            PgOutboxRelay(clients.engine, broker, options),
            MongoOutboxRelay(db, broker, owner, options),
            ExpiredKeysPurge(clients.engine),  # housekeeping, as long as the relays run
        ]
        if rollup is not None:
            relay_list.append(rollup)
    prefix = for_redis_topology(settings).cache.key_prefix  # the gateways' prefix
    invalidator = Invalidator(clients.redis, CacheKeys(prefix))
    wake = rollup.wake if rollup is not None else None
    consumer_list = default_consumers(clients.engine, db, invalidator, wake) if consumers else []
    return Worker(
        broker,
        relay_list,
        consumer_list,
        shutdown_timeout=settings.broker.shutdown_timeout_seconds,
        broker_label=settings.event_broker_url or "",
    )


async def run_worker(settings: Settings, *, relays: bool = True, consumers: bool = True) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    url = _require(settings.event_broker_url, "HIREGRAPH_BROKER_URL")
    serve_worker_metrics(settings.observability, settings.host)
    broker = create_event_broker(url, broker_options(settings))
    async with open_clients(settings) as clients:
        worker = build_worker(settings, clients, broker, relays=relays, consumers=consumers)
        await worker.run(stop)
