"""The outbox relays against real Postgres, SecantusDB, RabbitMQ and Redis Streams."""

from __future__ import annotations

import asyncio
import subprocess
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.events.relay import BatchResult, MongoOutboxRelay, PgOutboxRelay, RelayOptions
from datasources.postgres.tables import outbox
from tests.events import (
    AMQP_URL,
    Collector,
    FlakyPublisher,
    Space,
    engine,
    event,
    eventually,
    insert_mongo,
    insert_pg,
    space,
    utcnow,
)

__all__ = ["engine", "space"]  # fixtures

pytestmark = pytest.mark.integration

FAST = RelayOptions(batch_size=100, poll_interval=0.01, backoff_base=0.02, backoff_max=0.2)


async def pg_rows(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox).order_by(outbox.c.id))).mappings().all()
    return {str(r["event_id"]): r for r in rows}


async def test_relay_publishes_pending_rows_in_id_order_and_marks_them(
    space: Space, engine: AsyncEngine
) -> None:
    events = [
        event("JobPosted", "1"),
        event("CompanyCreated", "7"),
        event("JobUpdated", "1"),
        event("JobClosed", "2"),
        event("JobPublished", "1"),
    ]
    await insert_pg(engine, events)
    collector = Collector()
    async with space.running([collector]) as broker:
        relay = PgOutboxRelay(engine, broker, FAST)
        assert await relay.relay_once() == BatchResult(claimed=5, published=5)
        await collector.wait_for(5)
        assert await relay.relay_once() == BatchResult()
    assert collector.ids == [e.event_id for e in events]
    assert collector.events == events  # the whole envelope survives the trip
    rows = await pg_rows(engine)
    assert all(r["published_at"] is not None and r["attempts"] == 0 for r in rows.values())


async def test_a_failed_publish_is_retried_later_and_nothing_after_it_goes_first(
    space: Space, engine: AsyncEngine
) -> None:
    a1, b1, a2, b2 = (event("JobUpdated", agg) for agg in ("1", "2", "1", "2"))
    await insert_pg(engine, [a1, b1, a2, b2])
    collector = Collector()
    async with space.running([collector]) as broker:
        flaky = FlakyPublisher(broker, {b1.event_id: 3})
        relay = PgOutboxRelay(engine, flaky, FAST)
        assert await relay.relay_once() == BatchResult(claimed=4, published=1, failed=True)
        rows = await pg_rows(engine)
        assert rows[a1.event_id]["published_at"] is not None
        assert rows[b1.event_id]["attempts"] == 1
        assert "broker unavailable" in rows[b1.event_id]["last_error"]
        # The batch stopped at b1: b2 (its aggregate) and a2 (after it) wait for it.
        assert rows[b2.event_id]["published_at"] is None
        assert rows[a2.event_id]["published_at"] is None
        # The loop retries with backoff until b1 goes through (two more failures).
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        await collector.wait_for(4)
        stop.set()
        await task
    assert collector.ids == [a1.event_id, b1.event_id, a2.event_id, b2.event_id]
    rows = await pg_rows(engine)
    assert rows[b1.event_id]["attempts"] == 3
    assert all(r["published_at"] is not None for r in rows.values())


async def test_two_relays_side_by_side_publish_each_event_once_in_aggregate_order(
    space: Space, engine: AsyncEngine
) -> None:
    events = [event("JobUpdated", str(i % 7), n=i) for i in range(210)]
    ids = await insert_pg(engine, events)
    collector = Collector()
    small = RelayOptions(batch_size=10, poll_interval=0.005, backoff_base=0.01, backoff_max=0.05)
    async with space.running([collector]) as broker:
        publishers = [FlakyPublisher(broker), FlakyPublisher(broker)]
        relays = [PgOutboxRelay(engine, p, small) for p in publishers]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(r.run(stop)) for r in relays]
        await collector.wait_for(len(events), seconds=60)
        await asyncio.sleep(0.5)  # time for a duplicate to show up, if there were one
        stop.set()
        await asyncio.gather(*tasks)
    assert len(collector.ids) == len(events)
    assert set(collector.ids) == {e.event_id for e in events}
    assert all(p.published for p in publishers), "both relays should have taken batches"
    order = dict(zip((e.event_id for e in events), ids, strict=True))
    by_aggregate: dict[str, list[int]] = defaultdict(list)
    for e in collector.events:
        by_aggregate[e.aggregate_id].append(order[e.event_id])
    assert all(seq == sorted(seq) for seq in by_aggregate.values())


async def test_an_insert_that_rolls_back_publishes_nothing(
    space: Space, engine: AsyncEngine
) -> None:
    ghost, real = event("JobPosted", "1"), event("JobPosted", "2")
    collector = Collector()
    async with space.running([collector]) as broker:
        relay = PgOutboxRelay(engine, broker, FAST)
        async with engine.connect() as conn:
            tx = await conn.begin()
            await insert_pg(conn, [ghost])
            assert await relay.relay_once() == BatchResult()  # not committed: invisible
            await tx.rollback()
        assert await relay.relay_once() == BatchResult()
        await insert_pg(engine, [real])
        assert await relay.relay_once() == BatchResult(claimed=1, published=1)
        await collector.wait_for(1)
        await asyncio.sleep(0.3)
    assert collector.ids == [real.event_id]


async def _rabbitmqctl(command: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        "rabbitmqctl", command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()


@pytest.mark.parametrize("space", ["rabbit"], indirect=True)
async def test_rabbitmq_restarted_mid_stream_loses_nothing(
    space: Space, engine: AsyncEngine
) -> None:
    assert space.url == AMQP_URL
    batches = [
        [event("JobUpdated", str(i % 5), n=i) for i in range(k, k + 60)] for k in (0, 60, 120)
    ]
    collector = Collector()
    async with space.running([collector], reconnect_interval=0.5) as broker:
        stop = asyncio.Event()
        task = asyncio.create_task(PgOutboxRelay(engine, broker, FAST).run(stop))
        try:
            await insert_pg(engine, batches[0])
            await collector.wait_for(20)
            await _rabbitmqctl("stop_app")
            await insert_pg(engine, batches[1])  # the relay keeps failing and backing off
            await asyncio.sleep(1.0)
        finally:
            await _rabbitmqctl("start_app")
        await insert_pg(engine, batches[2])
        sent = {e.event_id for batch in batches for e in batch}
        await eventually(lambda: sent <= set(collector.ids), 60, "every event after the restart")
        stop.set()
        await task
    rows = await pg_rows(engine)
    assert all(r["published_at"] is not None for r in rows.values())
    assert any(r["attempts"] > 0 for r in rows.values()), "the stop should have failed publishes"


# -- Mongo outbox ---------------------------------------------------------------------------


async def test_mongo_relay_publishes_in_id_order_marks_and_releases(
    space: Space, mongo_db: Any
) -> None:
    events = [event("CandidateCreated", "a"), event("CandidateProfileUpdated", "a"),
              event("CandidateCreated", "b")]  # fmt: skip
    await insert_mongo(mongo_db, events)
    collector = Collector()
    async with space.running([collector]) as broker:
        relay = MongoOutboxRelay(mongo_db, broker, "relay-1", FAST)
        assert await relay.relay_once() == BatchResult(claimed=3, published=3)
        await collector.wait_for(3)
        assert await relay.relay_once() == BatchResult()
    assert collector.ids == [e.event_id for e in events]
    docs = await mongo_db["outbox"].find().to_list()
    assert all(d["published_at"] is not None and "claimed_by" not in d for d in docs)


async def test_mongo_relay_skips_a_live_lease_and_takes_over_an_expired_one(
    space: Space, mongo_db: Any
) -> None:
    held, lapsed = event("CandidateCreated", "a"), event("CandidateCreated", "b")
    held_id, lapsed_id = await insert_mongo(mongo_db, [held, lapsed])
    now = utcnow()
    for oid, until in (
        (held_id, now + timedelta(minutes=5)),
        (lapsed_id, now - timedelta(seconds=1)),
    ):
        await mongo_db["outbox"].update_one(
            {"_id": oid}, {"$set": {"claimed_by": "crashed", "claimed_until": until}}
        )
    collector = Collector()
    async with space.running([collector]) as broker:
        relay = MongoOutboxRelay(mongo_db, broker, "relay-2", FAST)
        assert await relay.relay_once() == BatchResult(claimed=1, published=1)
        await collector.wait_for(1)
    assert collector.ids == [lapsed.event_id]
    assert (await mongo_db["outbox"].find_one({"_id": held_id}))["published_at"] is None


async def test_mongo_failure_counts_an_attempt_and_blocks_later_events(
    space: Space, mongo_db: Any
) -> None:
    first, second = event("CandidateCreated", "a"), event("CandidateProfileUpdated", "a")
    await insert_mongo(mongo_db, [first, second])
    collector = Collector()
    async with space.running([collector]) as broker:
        flaky = FlakyPublisher(broker, {first.event_id: 1})
        relay = MongoOutboxRelay(mongo_db, flaky, "relay-3", FAST)
        assert await relay.relay_once() == BatchResult(claimed=2, published=0, failed=True)
        docs = {d["event_id"]: d for d in await mongo_db["outbox"].find().to_list()}
        assert docs[first.event_id]["attempts"] == 1
        assert "broker unavailable" in docs[first.event_id]["last_error"]
        assert all("claimed_by" not in d for d in docs.values()), "claims are released"
        assert await relay.relay_once() == BatchResult(claimed=2, published=2)
        await collector.wait_for(2)
    assert collector.ids == [first.event_id, second.event_id]


async def test_two_mongo_relays_publish_each_event_once(space: Space, mongo_db: Any) -> None:
    events = [event("CandidateProfileUpdated", f"c{i % 5}", n=i) for i in range(120)]
    await insert_mongo(mongo_db, events)
    collector = Collector()
    small = RelayOptions(batch_size=8, poll_interval=0.005, backoff_base=0.01, backoff_max=0.05)
    async with space.running([collector]) as broker:
        relays = [MongoOutboxRelay(mongo_db, broker, f"r{i}", small) for i in range(2)]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(r.run(stop)) for r in relays]
        await collector.wait_for(len(events), seconds=60)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks)
    assert sorted(collector.ids) == sorted(e.event_id for e in events)
    position = {e.event_id: i for i, e in enumerate(events)}
    by_aggregate: dict[str, list[int]] = defaultdict(list)
    for e in collector.events:
        by_aggregate[e.aggregate_id].append(position[e.event_id])
    assert all(seq == sorted(seq) for seq in by_aggregate.values())
