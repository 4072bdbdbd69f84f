"""Event lag: from an outbox row's commit to the consumer's applied change, p50/p99.

    .venv/bin/python bench/event_lag.py --events 500 --rate 100 \\
        --pg-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        --amqp-url amqp://guest:guest@127.0.0.1:5672/ --redis-url redis://127.0.0.1:6379/0

For each broker (RabbitMQ, Redis Streams) and relay poll interval, a fresh migrated
database gets one job; `--events` ApplicationSubmitted rows are committed one per
transaction at `--rate` per second while a `PgOutboxRelay` and the
`JobApplicationCounter` consumer run in this process. The lag of an event is the time
from its insert's commit to the end of the consumer's transaction (the counter and the
processed_events row committed). Everything is removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
import uuid
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from datasources.events.broker import BrokerOptions, Names, create_event_broker
from datasources.events.consumers import JobApplicationCounter
from datasources.events.relay import PgOutboxRelay, RelayOptions
from datasources.postgres.engine import asyncpg_dsn
from datasources.postgres.migrate import upgrade_async
from domain.events import DomainEvent
from tests.events import insert_jobs, insert_pg, remove_namespace
from tests.stores import with_database


class TimedCounter(JobApplicationCounter):
    """The real counter consumer, recording when each event's change committed."""

    def __init__(self, engine: AsyncEngine, done: dict[str, float], target: int) -> None:
        super().__init__(engine)
        self.done, self.target = done, target
        self.all_done = asyncio.Event()

    async def handle(self, event: DomainEvent) -> None:
        await super().handle(event)
        self.done.setdefault(event.event_id, time.perf_counter())
        if len(self.done) >= self.target:
            self.all_done.set()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _database(admin_url: str) -> tuple[str, str]:
    name = f"hg_lag_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = with_database(admin_url, name)
    await upgrade_async(url)
    return name, url


async def _drop(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def run_once(args: argparse.Namespace, broker_url: str, poll: float) -> dict[str, Any]:
    name, url = await _database(args.pg_url)
    namespace = f"hglag_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(url, pool_size=5)
    done: dict[str, float] = {}
    committed: dict[str, float] = {}
    consumer = TimedCounter(engine, done, args.events)
    broker = create_event_broker(broker_url, BrokerOptions(names=Names(namespace)))
    broker.subscribe(consumer.name, consumer.event_types, consumer.handle)
    try:
        await insert_jobs(engine, [1])
        await broker.start()
        stop = asyncio.Event()
        relay = PgOutboxRelay(engine, broker, RelayOptions(poll_interval=poll))
        task = asyncio.create_task(relay.run(stop))
        gap = 1.0 / args.rate
        start = time.perf_counter()
        for i in range(args.events):
            await asyncio.sleep(max(0.0, start + i * gap - time.perf_counter()))
            e = DomainEvent("ApplicationSubmitted", str(i), {"job_id": 1, "candidate_id": "x"})
            await insert_pg(engine, [e])
            committed[e.event_id] = time.perf_counter()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(consumer.all_done.wait(), 60)
        stop.set()
        await task
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT application_count FROM jobs"))).scalar_one()
    finally:
        await broker.stop()
        await engine.dispose()
        await remove_namespace(broker_url, namespace, [consumer.name])
        await _drop(args.pg_url, name)
    lags = [(done[k] - committed[k]) * 1000 for k in committed if k in done]
    return {
        "broker": broker_url.split(":", 1)[0],
        "poll_ms": poll * 1000,
        "applied": len(lags),
        "counter": count,
        "p50": _percentile(lags, 0.50),
        "p99": _percentile(lags, 0.99),
        "max": max(lags),
        "mean": statistics.fmean(lags),
    }


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100.0, help="inserts per second")
    parser.add_argument("--poll", type=float, nargs="+", default=[0.1, 0.01], help="seconds")
    parser.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    return parser.parse_args()


async def main() -> None:
    args = _args()
    print(f"{args.events} events at {args.rate:g}/s; lag = outbox commit -> counter committed")
    print(f"{'broker':8} {'poll ms':>7} {'applied':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for broker_url in (args.amqp_url, args.redis_url):
        for poll in args.poll:
            r = await run_once(args, broker_url, poll)
            assert r["counter"] == args.events, r
            print(f"{r['broker']:8} {r['poll_ms']:7.0f} {r['applied']:7d} "
                  f"{r['p50']:8.1f} {r['p99']:8.1f} {r['max']:8.1f}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
