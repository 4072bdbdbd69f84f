"""Helpers for the event tests: outbox rows written directly, a recording consumer, a
broker under a namespace of its own (removed afterwards), and the brokers' URLs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
import nats
import pytest
from bson import ObjectId
from redis.asyncio import Redis
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from datasources.events.broker import (
    BrokerOptions,
    EventBroker,
    EventPublisher,
    Names,
    broker_kind,
    create_event_broker,
)
from datasources.events.consumers import Consumer
from datasources.postgres.tables import outbox
from domain.events import DomainEvent
from tests.stores import StoreUrls, unique_name

AMQP_URL = os.environ.get("HIREGRAPH_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
NATS_URL = os.environ.get("HIREGRAPH_TEST_NATS_URL", "nats://127.0.0.1:4222")


def event(
    type: str = "JobPosted", aggregate_id: str = "1", **payload: Any
) -> DomainEvent:  # fmt: skip
    return DomainEvent(type=type, aggregate_id=aggregate_id, payload=payload)


def outbox_row(e: DomainEvent) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "event_type": e.type,
        "version": e.version,
        "aggregate_type": e.aggregate_type,
        "aggregate_id": e.aggregate_id,
        "occurred_at": e.occurred_at,
        "payload": dict(e.payload),
        "attempts": 0,
    }


async def insert_pg(
    target: AsyncEngine | AsyncConnection, events: Sequence[DomainEvent]
) -> list[int]:
    """Insert outbox rows (committed, when given an engine); returns their ids."""
    stmt = insert(outbox).values([outbox_row(e) for e in events]).returning(outbox.c.id)
    if isinstance(target, AsyncConnection):
        return list((await target.execute(stmt)).scalars())
    async with target.begin() as conn:
        return list((await conn.execute(stmt)).scalars())


def mongo_outbox_doc(e: DomainEvent) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "event_id": e.event_id,
        "event_type": e.type,
        "version": e.version,
        "aggregate_type": e.aggregate_type,
        "aggregate_id": e.aggregate_id,
        "occurred_at": e.occurred_at,
        "payload": dict(e.payload),
        "published_at": None,
        "attempts": 0,
    }


async def insert_mongo(db: Any, events: Sequence[DomainEvent]) -> list[ObjectId]:
    docs = [mongo_outbox_doc(e) for e in events]
    await db["outbox"].insert_many(docs)
    return [d["_id"] for d in docs]


@dataclass
class Collector:
    """A consumer that records what it receives (and can fail its first calls)."""

    name: str = "collector"
    event_types: frozenset[str] | None = None
    fail_first: int = 0
    events: list[DomainEvent] = field(default_factory=list)
    calls: int = 0

    async def prepare(self) -> None:
        return None

    async def handle(self, e: DomainEvent) -> None:
        self.calls += 1
        if self.calls <= self.fail_first:
            raise RuntimeError(f"{self.name}: failing on purpose ({self.calls})")
        self.events.append(e)

    @property
    def ids(self) -> list[str]:
        return [e.event_id for e in self.events]

    async def wait_for(self, count: int, seconds: float = 15.0) -> list[DomainEvent]:
        await eventually(lambda: len(self.events) >= count, seconds, f"{self.name}: {count} events")
        return self.events


async def eventually(check: Any, seconds: float = 15.0, what: str = "condition") -> None:
    """Wait until `check()` (sync or async) is true; fail after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        await asyncio.sleep(0.02)


def options(namespace: str, **over: Any) -> BrokerOptions:
    base: dict[str, Any] = {"names": Names(namespace), "publish_timeout": 5.0}
    return BrokerOptions(**{**base, **over})


@asynccontextmanager
async def running_broker(
    url: str, namespace: str, consumers: Iterable[Consumer] = (), **over: Any
) -> AsyncIterator[EventBroker]:
    broker = create_event_broker(url, options(namespace, **over))
    for c in consumers:
        broker.subscribe(c.name, c.event_types, c.handle)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


async def remove_namespace(url: str, namespace: str, consumers: Iterable[str]) -> None:
    """Delete what a test's namespace left on the broker."""
    names = Names(namespace)
    kind = broker_kind(url)
    if kind == "redis":
        client: Redis = Redis.from_url(url)
        try:
            await client.delete(names.exchange)
        finally:
            await client.aclose()
    elif kind == "rabbit":
        connection = await aio_pika.connect(url)
        try:
            channel = await connection.channel()
            for consumer in consumers:
                await channel.queue_delete(names.queue(consumer))
            await channel.exchange_delete(names.exchange)
        finally:
            await connection.close()
    elif kind == "nats":
        nc = await nats.connect(url)
        try:
            await nc.jetstream().delete_stream(names.nats_stream)
        finally:
            await nc.close()


def new_namespace() -> str:
    return unique_name("hgt")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Space:
    """One test's corner of a broker: a namespace, and what to remove afterwards."""

    url: str
    namespace: str = field(default_factory=new_namespace)
    consumers: set[str] = field(default_factory=set)

    @property
    def kind(self) -> str:
        return broker_kind(self.url)

    def running(self, consumers: Iterable[Consumer] = (), **over: Any) -> Any:
        consumers = list(consumers)
        self.consumers.update(c.name for c in consumers)
        return running_broker(self.url, self.namespace, consumers, **over)

    def broker(self, **over: Any) -> EventBroker:
        return create_event_broker(self.url, options(self.namespace, **over))

    async def remove(self) -> None:
        await remove_namespace(self.url, self.namespace, self.consumers)


@pytest.fixture(params=["rabbit", "redis"])
async def space(request: pytest.FixtureRequest, stores: StoreUrls) -> AsyncIterator[Space]:
    """A broker corner for one test, over RabbitMQ and over Redis Streams."""
    s = Space(AMQP_URL if request.param == "rabbit" else stores.redis)
    yield s
    await s.remove()


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    e = create_async_engine(pg_url, pool_size=5)
    yield e
    await e.dispose()


class FlakyPublisher:
    """Fails the publish of chosen events a number of times, then passes them on."""

    def __init__(self, inner: EventPublisher, failures: dict[str, int] | None = None) -> None:
        self.inner, self.failures = inner, dict(failures or {})
        self.published: list[str] = []

    async def publish(self, e: DomainEvent) -> None:
        if self.failures.get(e.event_id, 0) > 0:
            self.failures[e.event_id] -= 1
            raise ConnectionError("broker unavailable (test)")
        await self.inner.publish(e)
        self.published.append(e.event_id)


async def insert_jobs(engine: AsyncEngine, job_ids: Iterable[int]) -> None:
    """A company (id 1) and open jobs with these ids, application_count 0."""
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO companies (id, slug, name, industry) VALUES (1, 'co-1', 'Co', 'IT')")
        )
        for job_id in job_ids:
            await conn.execute(
                text(
                    "INSERT INTO jobs (id, company_id, title, description, location, country,"
                    " remote, employment_type, seniority, status, posted_at) VALUES (:id, 1,"
                    " 'Job', 'd', 'Pune', 'IN', 'remote', 'full_time', 'mid', 'open', now())"
                ),
                {"id": job_id},
            )


async def job_counts(engine: AsyncEngine) -> dict[int, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT id, application_count FROM jobs ORDER BY id"))
        return {int(i): int(n) for i, n in rows.all()}


async def insert_candidate(db: Any) -> str:
    now = utcnow()
    doc = {"name": "Asha", "email": f"{ObjectId()}@example.test", "version": 1,
           "created_at": now, "updated_at": now}  # fmt: skip
    result = await db["candidates"].insert_one(doc)
    return str(result.inserted_id)


async def candidate_count(db: Any, candidate_id: str) -> int | None:
    doc = await db["candidates"].find_one({"_id": ObjectId(candidate_id)})
    assert doc is not None
    count: int | None = doc.get("application_count")
    return count
