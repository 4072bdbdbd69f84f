"""Consumers against real Postgres, SecantusDB, Redis and the brokers: a duplicate
delivery changes nothing, and the worker carries an outbox row to the counters."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.cache.keys import CacheKeys, Invalidator
from datasources.events.consumers import (
    CacheInvalidation,
    CandidateApplicationCounter,
    JobApplicationCounter,
    changed_entities,
    default_consumers,
)
from datasources.events.relay import PgOutboxRelay, RelayOptions
from datasources.events.worker import Worker
from tests.events import (
    Collector,
    Space,
    candidate_count,
    engine,
    event,
    eventually,
    insert_candidate,
    insert_jobs,
    insert_pg,
    job_counts,
    space,
)
from tests.stores import StoreUrls

__all__ = ["engine", "space"]  # fixtures

pytestmark = pytest.mark.integration


def submitted(job_id: int, candidate_id: str, application_id: int = 1) -> Any:
    return event(
        "ApplicationSubmitted", str(application_id), job_id=job_id, candidate_id=candidate_id
    )


async def processed(engine: AsyncEngine, consumer: str) -> int:
    async with engine.connect() as conn:
        query = text("SELECT count(*) FROM processed_events WHERE consumer = :c")
        return int((await conn.execute(query, {"c": consumer})).scalar_one())


async def test_job_counter_applies_a_duplicate_delivery_once(engine: AsyncEngine) -> None:
    await insert_jobs(engine, [7, 8])
    counter = JobApplicationCounter(engine)
    first, second = submitted(7, "c1", 1), submitted(7, "c2", 2)
    await counter.handle(first)
    await counter.handle(first)
    await asyncio.gather(counter.handle(second), counter.handle(second))  # racing duplicates
    assert await job_counts(engine) == {7: 2, 8: 0}
    assert await processed(engine, counter.name) == 2


async def test_candidate_counter_applies_a_duplicate_delivery_once(mongo_db: Any) -> None:
    candidate = await insert_candidate(mongo_db)
    counter = CandidateApplicationCounter(mongo_db)
    await counter.prepare()
    first, second = submitted(7, candidate, 1), submitted(8, candidate, 2)
    await counter.handle(first)
    await counter.handle(first)
    assert await candidate_count(mongo_db, candidate) == 1
    await asyncio.gather(counter.handle(second), counter.handle(second))  # racing duplicates
    assert await candidate_count(mongo_db, candidate) == 2
    markers = await mongo_db["processed_events"].find().to_list()
    assert sorted(m["_id"] for m in markers) == sorted(
        f"{counter.name}:{e.event_id}" for e in (first, second)
    )


def test_events_map_to_the_cached_entities_they_change() -> None:
    assert changed_entities(submitted(7, "c1", 3)) == {"Application": ["3"], "Job": ["7"]}
    assert changed_entities(event("JobClosed", "4")) == {"Job": ["4"]}
    assert changed_entities(event("CandidateProfileUpdated", "abc")) == {"Candidate": ["abc"]}
    assert changed_entities(event("CompanyUpdated", "2")) == {"Company": ["2"]}


async def test_cache_invalidation_drops_the_entries_and_bumps_versions(
    stores: StoreUrls, redis_prefix: str
) -> None:
    keys = CacheKeys(redis_prefix.rstrip(":"))
    redis: Redis = Redis.from_url(stores.redis)
    try:
        await redis.mset({keys.entity("Application", 3): b"a", keys.entity("Job", 7): b"j",
                          keys.entity("Job", 8): b"other"})  # fmt: skip
        consumer = CacheInvalidation(Invalidator(redis, keys))
        e = submitted(7, "c1", 3)
        await consumer.handle(e)
        await consumer.handle(e)  # a duplicate: same entries gone, versions bumped again
        assert await redis.exists(keys.entity("Application", 3), keys.entity("Job", 7)) == 0
        assert await redis.get(keys.entity("Job", 8)) == b"other"
        assert await Invalidator(redis, keys).versions(["Application", "Job", "Company"]) == [
            2,
            2,
            0,
        ]
    finally:
        await redis.aclose()


async def test_a_duplicate_delivery_through_the_broker_changes_the_counters_once(
    space: Space, engine: AsyncEngine, mongo_db: Any
) -> None:
    await insert_jobs(engine, [7])
    candidate = await insert_candidate(mongo_db)
    job_counter, candidate_counter = (
        JobApplicationCounter(engine),
        CandidateApplicationCounter(mongo_db),
    )
    await candidate_counter.prepare()
    once, other = submitted(7, candidate, 1), submitted(7, candidate, 2)
    async with space.running([job_counter, candidate_counter]) as broker:
        for e in (once, once, other, once):  # the relay republished `once` after a crash
            await broker.publish(e)
        await eventually(lambda: processed(engine, job_counter.name), what="first event")

        async def settled() -> bool:
            return await processed(engine, job_counter.name) == 2 and (
                await mongo_db["processed_events"].count_documents({}) == 2
            )

        await eventually(settled, what="both events applied")
        await asyncio.sleep(0.5)  # let any extra delivery land
    assert await job_counts(engine) == {7: 2}
    assert await candidate_count(mongo_db, candidate) == 2


async def test_the_worker_carries_an_outbox_row_to_every_consumer(
    space: Space, engine: AsyncEngine, mongo_db: Any, stores: StoreUrls, redis_prefix: str
) -> None:
    await insert_jobs(engine, [7])
    candidate = await insert_candidate(mongo_db)
    keys = CacheKeys(redis_prefix.rstrip(":"))
    redis: Redis = Redis.from_url(stores.redis)
    consumers = default_consumers(engine, mongo_db, Invalidator(redis, keys))
    space.consumers.update(c.name for c in consumers)
    broker = space.broker()
    relay = PgOutboxRelay(engine, broker, RelayOptions(poll_interval=0.01))
    worker = Worker(broker, [relay], consumers)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(worker.started.wait(), 30)
        await insert_pg(engine, [submitted(7, candidate, 11)])

        async def applied() -> bool:
            versions = await Invalidator(redis, keys).versions(["Job"])
            return (
                (await job_counts(engine))[7] == 1
                and versions == [1]
                and (await candidate_count(mongo_db, candidate) == 1)
            )

        await eventually(applied, 30, "the counters and the cache")
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await redis.aclose()


@pytest.mark.parametrize("space", ["rabbit"], indirect=True)
async def test_the_worker_waits_for_a_broker_that_is_down_at_start(space: Space) -> None:
    late = Collector("late-broker")
    space.consumers.add(late.name)
    broker = space.broker(reconnect_interval=0.5)
    worker = Worker(broker, [], [late])
    stop = asyncio.Event()
    await _rabbitmqctl("stop_app")
    try:
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(2)
        assert not worker.started.is_set()
        assert not task.done()
    finally:
        await _rabbitmqctl("start_app")
    await asyncio.wait_for(worker.started.wait(), 60)
    e = event("JobPosted", "1")
    await broker.publish(e)
    await late.wait_for(1)
    stop.set()
    await asyncio.wait_for(task, 30)
    assert late.ids == [e.event_id]


async def _rabbitmqctl(command: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        "rabbitmqctl", command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
