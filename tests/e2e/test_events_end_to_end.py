"""From a mutation over HTTP to the counters the consumers keep, through the real worker.

The real app writes (a company, an open job and a candidate profile, then the
candidate applies and updates the profile) into stores of this test only: a fresh
Postgres database and Mongo database, so the worker relays exactly this test's events.
The worker is built as `hiregraph worker` builds it (`gateway.worker`: its clients,
relays and consumers), in process, on a broker namespace of the test's own, over
RabbitMQ and over Redis Streams. The test asserts that both outboxes are published,
that each counter went up by exactly one, that the consumers recorded the event, and
that a redelivery of the same event through the broker changes nothing. It prints the
lag from the applyToJob response to the counters being applied.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from bson import ObjectId

from datasources.events.broker import create_event_broker
from datasources.events.consumers import Consumer
from datasources.events.worker import Worker
from datasources.mongo.bootstrap import CANDIDATES, OUTBOX
from domain.events import APPLICATION_SUBMITTED, DomainEvent
from gateway.settings import BrokerSettings, CacheSettings, Settings
from gateway.worker import broker_options, build_worker, open_clients
from schema.ids import from_global_id, int_key
from tests.e2e.conftest import Seeded
from tests.e2e.real_writes import ADMIN, Real, candidate, gid, real_app
from tests.e2e.test_applications_real import APPLY
from tests.e2e.test_candidates_real import CREATE, UPDATE, new_profile
from tests.events import Space, eventually, space
from tests.stores import StoreUrls

__all__ = ["space"]  # fixture

pytestmark = pytest.mark.e2e
COUNTERS = ("job-application-count", "candidate-application-count")
CONSUMERS = ("cache-invalidation", *COUNTERS)
ROLLUP = "analytics-rollup"  # wakes the rollup refresher on job and company events
WITHIN = 10.0  # seconds: generous for a busy 2-core machine; the lag is printed


@dataclass
class Handled:
    """The event ids each consumer's handler has returned from (each delivery)."""

    ids: dict[str, list[str]] = field(default_factory=dict)

    def spy(self, consumer: Consumer) -> None:
        """Wrap the real handler (before the worker subscribes it)."""
        real = consumer.handle
        done = self.ids.setdefault(consumer.name, [])

        async def handle(event: DomainEvent) -> None:
            await real(event)
            done.append(event.event_id)

        consumer.handle = handle  # type: ignore[method-assign]

    def count(self, consumer: str, event_id: str) -> int:
        return self.ids.get(consumer, []).count(event_id)


@dataclass
class Running:
    worker: Worker
    handled: Handled


def worker_settings(stores: Seeded, broker_url: str, namespace: str, prefix: str) -> Settings:
    return Settings(
        postgres_url=stores.postgres_url, mongo_url=stores.mongo_url, mongo_db=stores.mongo_db,
        redis_url=stores.redis_url, broker_url=broker_url,
        cache=CacheSettings(key_prefix=prefix), broker=BrokerSettings(namespace=namespace),
    )  # fmt: skip


@asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[Running]:
    """`gateway.worker.run_worker` without the signal handlers: stopped by its event."""
    assert settings.event_broker_url is not None
    broker = create_event_broker(settings.event_broker_url, broker_options(settings))
    stop = asyncio.Event()
    async with open_clients(settings) as clients:
        worker = build_worker(settings, clients, broker, relays=True, consumers=True)
        assert sorted(c.name for c in worker.consumers) == sorted((*CONSUMERS, ROLLUP))
        handled = Handled()
        for consumer in worker.consumers:
            handled.spy(consumer)
        task = asyncio.create_task(worker.run(stop))
        try:
            started = asyncio.create_task(worker.started.wait())
            done, _ = await asyncio.wait(
                {task, started}, timeout=30, return_when=asyncio.FIRST_COMPLETED
            )
            assert started in done, "the worker did not start"
            yield Running(worker, handled)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            started.cancel()


@pytest.fixture
async def fresh(pg_url: str, mongo_db: Any, stores: StoreUrls) -> Seeded:
    """Empty, migrated stores of this test only (no seed: the test writes what it needs)."""
    return Seeded(pg_url, stores.mongo, mongo_db.name, stores.redis)


async def _pg_outbox(real: Real) -> list[dict[str, Any]]:
    rows = await real.db.fetch(
        "SELECT event_id::text, event_type, payload, published_at FROM outbox ORDER BY id"
    )
    return [{**dict(r), "payload": orjson.loads(r["payload"])} for r in rows]


async def _job_count(real: Real, job_id: int) -> int:
    count: int = await real.db.fetchval("SELECT application_count FROM jobs WHERE id = $1", job_id)
    return count


async def _candidate_count(db: Any, candidate_id: str) -> int:
    doc = await db[CANDIDATES].find_one({"_id": ObjectId(candidate_id)})
    assert doc is not None
    count: int = doc.get("application_count", 0)
    return count


async def _timed(check: Callable[[], Awaitable[bool]], since: float, what: str) -> float:
    """Seconds from `since` until `check()` holds (polled every 5 ms)."""
    deadline = time.perf_counter() + WITHIN
    while not await check():
        if time.perf_counter() > deadline:
            raise AssertionError(f"timed out after {WITHIN}s waiting for {what}")
        await asyncio.sleep(0.005)
    return time.perf_counter() - since


async def test_a_mutation_reaches_the_counters_once(
    fresh: Seeded, space: Space, mongo_db: Any
) -> None:
    space.consumers.update((*CONSUMERS, ROLLUP))
    async with real_app(fresh, "events") as real:
        company = await real.new_company()
        job, job_id = await real.post_job(company, publish=True)
        created = await real.mutate(CREATE, ADMIN, input=new_profile())
        me = from_global_id(created["candidate"]["id"], "Candidate")
        assert (await _job_count(real, job_id), await _candidate_count(mongo_db, me)) == (0, 0)
        # Written before the worker starts: the relays find a backlog.
        backlog = await _pg_outbox(real)
        assert [r["event_type"] for r in backlog] == ["CompanyCreated", "JobPosted"]

        prefix = f"{fresh.cache_prefix}:events"  # the app's, as real_app sets it
        settings = worker_settings(fresh, space.url, space.namespace, prefix)
        async with running_worker(settings) as running:
            await _applies_and_updates(real, running, mongo_db, job, job_id, me)
            posted = backlog[1]["event_id"]
            await eventually(
                lambda: running.handled.count(ROLLUP, posted) == 1, WITHIN, "the rollup's wake"
            )


async def _applies_and_updates(
    real: Real, running: Running, db: Any, job: str, job_id: int, me: str
) -> None:
    given = {"jobId": job, "candidateId": gid("Candidate", me)}
    applied = await real.mutate(APPLY, candidate(me), input=given)
    answered = time.perf_counter()
    assert applied["__typename"] == "ApplicationPayload", applied
    application_id = int_key(applied["application"]["id"], "Application")
    patch = {"id": gid("Candidate", me), "expectedVersion": 1, "set": {"headline": "Applied"}}
    updated = await real.mutate(UPDATE, candidate(me), input=patch)
    assert updated["candidate"]["version"] == 2

    job_lag = await _timed(
        lambda: _is(_job_count(real, job_id), 1), answered, "jobs.application_count"
    )
    candidate_lag = await _timed(
        lambda: _is(_candidate_count(db, me), 1), answered, "the profile's application_count"
    )
    print(f"\n[{running.worker.broker.kind}] applyToJob response -> counters applied: "
          f"job {job_lag * 1000:.0f} ms, candidate {candidate_lag * 1000:.0f} ms")  # fmt: skip

    rows = await _outbox_published(real, db)
    (submitted,) = [r for r in rows if r["event_type"] == APPLICATION_SUBMITTED]
    assert submitted["payload"]["application_id"] == application_id
    event_id = submitted["event_id"]
    processed = await real.db.fetch(
        "SELECT consumer FROM processed_events WHERE event_id = $1::uuid", event_id
    )
    assert [r["consumer"] for r in processed] == ["job-application-count"]
    marker = await db["processed_events"].find_one(
        {"_id": f"candidate-application-count:{event_id}"}
    )
    assert marker is not None
    for consumer in CONSUMERS:
        assert running.handled.count(consumer, event_id) == 1, consumer

    # The same event again, as the broker redelivers it: handled, and nothing changes.
    again = DomainEvent(
        APPLICATION_SUBMITTED, str(application_id), submitted["payload"], event_id=event_id
    )
    await running.worker.broker.publish(again)
    await eventually(
        lambda: all(running.handled.count(c, event_id) == 2 for c in COUNTERS),
        WITHIN, "the redelivery to be handled",
    )  # fmt: skip
    assert (await _job_count(real, job_id), await _candidate_count(db, me)) == (1, 1)
    assert await real.db.fetchval("SELECT count(*) FROM processed_events") == 1
    assert await db["processed_events"].count_documents({}) == 1


async def _is(count: Awaitable[int], expected: int) -> bool:
    """The counter has reached `expected`; never past it."""
    found = await count
    assert found <= expected, f"counted {found}, expected {expected}"
    return found == expected


async def _outbox_published(real: Real, db: Any) -> list[dict[str, Any]]:
    """Every outbox row and document of this test, once all are published."""

    async def published() -> bool:
        rows = await real.db.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        docs = await db[OUTBOX].count_documents({"published_at": None})
        return int(rows) + int(docs) == 0

    await eventually(published, WITHIN, "both outboxes to be published")
    rows = await _pg_outbox(real)
    assert [r["event_type"] for r in rows] == [
        "CompanyCreated", "JobPosted", APPLICATION_SUBMITTED]  # fmt: skip
    docs = await db[OUTBOX].find({}).sort("_id", 1).to_list()
    assert [(d["event_type"], d["payload"]["version"]) for d in docs] == [
        ("CandidateCreated", 1), ("CandidateProfileUpdated", 2)]  # fmt: skip
    assert all(d["published_at"] is not None for d in docs)
    assert all(r["published_at"] is not None for r in rows)
    return rows
