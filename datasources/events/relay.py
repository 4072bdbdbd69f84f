"""Outbox relays: move committed domain events from a store's outbox to the broker.

At least once, in order per aggregate:
- A batch is claimed so that concurrent relays (worker replicas) never publish the same
  row at the same time: Postgres `FOR UPDATE SKIP LOCKED` in the batch's transaction;
  Mongo a per-document lease (`claimed_by`, `claimed_until`) taken by
  `find_one_and_update`, which a crashed relay's successor takes over once it expires.
- Rows are published one at a time in outbox order (`id` / `_id`), each awaited until
  the broker confirms it. The first failure ends the batch: that row counts an attempt
  and its error, and nothing after it is published before it is.
- A row whose aggregate has an earlier unpublished row that this relay did not claim
  (another relay holds it, or it is not yet visible) is left for a later batch, so two
  relays never reorder one aggregate's events.
- `published_at` is set once the broker has confirmed. A crash between the two
  publishes the row again after restart: consumers deduplicate by `event_id`.

New rows are found by polling (`poll_interval`, 100 ms by default: one indexed query on
an idle outbox), and at once again after a full batch. LISTEN/NOTIFY would need a
trigger on `outbox` and only saves the poll's latency. After a failed batch the relay
waits with exponential backoff and full jitter, so replicas do not retry in step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datasources import observe
from datasources.events.broker import EventPublisher
from datasources.mongo.bootstrap import OUTBOX
from datasources.mongo.outbox import LEASE, mark_published, record_failure
from datasources.postgres.tables import outbox
from domain.events import DomainEvent

log = logging.getLogger("hiregraph.events.relay")

MAX_ERROR_CHARS = 1000
Aggregate = tuple[str, str]


@dataclass(frozen=True, slots=True)
class RelayOptions:
    batch_size: int = 100
    poll_interval: float = 0.1
    backoff_base: float = 0.2
    backoff_max: float = 30.0
    # Mongo: how long a claim holds before another relay may take the document.
    lease_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class BatchResult:
    claimed: int = 0
    published: int = 0
    failed: bool = False


class Backoff:
    """Exponential backoff with full jitter: a delay in [0, min(cap, base * 2**n))."""

    def __init__(self, base: float, cap: float, rng: Callable[[], float] = random.random) -> None:
        self.base, self.cap, self.rng = base, cap, rng
        self.failures = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2.0**self.failures)
        self.failures += 1
        return ceiling * self.rng()

    def reset(self) -> None:
        self.failures = 0


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_relay(
    name: str, relay_once: Callable[[], Awaitable[BatchResult]], options: RelayOptions,
    stop: asyncio.Event,
) -> None:  # fmt: skip
    """Relay batches until `stop` is set; a batch in progress always finishes."""
    backoff = Backoff(options.backoff_base, options.backoff_max)
    while not stop.is_set():
        try:
            result = await relay_once()
        except Exception:
            log.exception("%s relay: batch failed", name)
            result = BatchResult(failed=True)
        if result.failed:
            observe.sink.relay_error(name)
            delay = backoff.next_delay()
            log.warning("%s relay: publish failed; retrying in %.2fs", name, delay)
        else:
            backoff.reset()
            full = result.claimed >= options.batch_size and result.published > 0
            delay = 0.0 if full else options.poll_interval
        if delay > 0:
            await sleep_or_stop(stop, delay)


def _blocked(rows: Sequence[Any], earlier: Mapping[Aggregate, Any]) -> set[Any]:
    """Ids of claimed rows that must wait: an earlier row of their aggregate is pending
    outside this batch."""
    return {
        row["id"]
        for row in rows
        if (barrier := earlier.get((row["aggregate_type"], row["aggregate_id"]))) is not None
        and row["id"] > barrier
    }


async def publish_in_order(
    publisher: EventPublisher, rows: Sequence[Any], to_event: Callable[[Any], DomainEvent],
    blocked: set[Any],
) -> tuple[list[Any], tuple[Any, str] | None]:  # fmt: skip
    """Publish rows in order, skipping `blocked`; stop at the first failure. Returns the
    published ids and (id, error) of the failure, if any."""
    published: list[Any] = []
    for row in rows:
        if row["id"] in blocked:
            continue
        try:
            await publisher.publish(to_event(row))
        except Exception as exc:
            log.warning("relay: publishing %s failed: %r", row["id"], exc)
            return published, (row["id"], repr(exc)[:MAX_ERROR_CHARS])
        published.append(row["id"])
    return published, None


class PgOutboxRelay:
    """Relays the Postgres `outbox` table (one transaction per batch)."""

    def __init__(
        self, engine: AsyncEngine, publisher: EventPublisher, options: RelayOptions | None = None
    ) -> None:
        self.engine, self.publisher = engine, publisher
        self.options = options or RelayOptions()

    async def run(self, stop: asyncio.Event) -> None:
        await run_relay("postgres", self.relay_once, self.options, stop)

    async def relay_once(self) -> BatchResult:
        async with self.engine.begin() as conn:
            claim = (
                select(outbox)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(self.options.batch_size)
                .with_for_update(skip_locked=True)
            )
            rows = (await conn.execute(claim)).mappings().all()
            observe.outbox_lag("postgres", rows)
            if not rows:
                return BatchResult()
            blocked = _blocked(rows, await self._earlier_elsewhere(conn, rows))
            published, failure = await publish_in_order(
                self.publisher, rows, DomainEvent.from_outbox, blocked
            )
            if published:
                await conn.execute(
                    update(outbox).where(outbox.c.id.in_(published)).values(published_at=func.now())
                )
            if failure is not None:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id == failure[0])
                    .values(attempts=outbox.c.attempts + 1, last_error=failure[1])
                )
        return BatchResult(len(rows), len(published), failure is not None)

    @staticmethod
    async def _earlier_elsewhere(
        conn: AsyncConnection, rows: Sequence[Any]
    ) -> dict[Aggregate, int]:
        """Per aggregate of the batch, the first pending row before the batch's last that
        is not in the batch."""
        ids = [r["id"] for r in rows]
        pairs = {(r["aggregate_type"], r["aggregate_id"]) for r in rows}
        query = (
            select(outbox.c.aggregate_type, outbox.c.aggregate_id, func.min(outbox.c.id))
            .where(
                outbox.c.published_at.is_(None),
                outbox.c.id < max(ids),
                outbox.c.id.not_in(ids),
                tuple_(outbox.c.aggregate_type, outbox.c.aggregate_id).in_(sorted(pairs)),
            )
            .group_by(outbox.c.aggregate_type, outbox.c.aggregate_id)
        )
        return {(t, a): first for t, a, first in (await conn.execute(query)).all()}


class MongoOutboxRelay:
    """Relays the Mongo `outbox` collection, claiming documents with a lease."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        publisher: EventPublisher,
        owner: str,
        options: RelayOptions | None = None,
    ) -> None:
        self.db, self.outbox = db, db[OUTBOX]
        self.publisher, self.owner = publisher, owner
        self.options = options or RelayOptions()

    async def run(self, stop: asyncio.Event) -> None:
        await run_relay("mongo", self.relay_once, self.options, stop)

    async def relay_once(self) -> BatchResult:
        docs = await self._claim()
        observe.outbox_lag("mongo", docs)
        if not docs:
            return BatchResult()
        rows = [{**d, "id": d["_id"]} for d in docs]
        blocked = _blocked(rows, await self._earlier_elsewhere(rows))
        published, failure = await publish_in_order(
            self.publisher, rows, DomainEvent.from_outbox, blocked
        )
        await mark_published(self.db, published)
        if failure is not None:
            await record_failure(self.db, failure[0], failure[1])
        done = {*published, *(failure[:1] if failure else ())}
        rest = [r["id"] for r in rows if r["id"] not in done]
        if rest:  # blocked, or after the failure: free them for the next batch
            await self.outbox.update_many(
                {"_id": {"$in": rest}, "claimed_by": self.owner}, {"$unset": LEASE}
            )
        return BatchResult(len(rows), len(published), failure is not None)

    async def _claim(self) -> list[dict[str, Any]]:
        """Up to a batch of unpublished documents, oldest first, each leased to us by one
        atomic find_one_and_update (a lease that expired was its holder's: it crashed)."""
        now = datetime.now(UTC)
        until = now + timedelta(seconds=self.options.lease_seconds)
        free = {
            "published_at": None,
            "$or": [{"claimed_until": None}, {"claimed_until": {"$lt": now}}],
        }
        lease = {"$set": {"claimed_by": self.owner, "claimed_until": until}}
        docs: list[dict[str, Any]] = []
        for _ in range(self.options.batch_size):
            doc = await self.outbox.find_one_and_update(
                free, lease, sort=[("_id", 1)], return_document=ReturnDocument.AFTER
            )
            if doc is None:
                break
            docs.append(doc)
        docs.sort(key=lambda d: d["_id"])
        return docs

    async def _earlier_elsewhere(self, rows: Sequence[Any]) -> dict[Aggregate, Any]:
        ids = [r["id"] for r in rows]
        pairs = {(r["aggregate_type"], r["aggregate_id"]) for r in rows}
        query = {
            "published_at": None,
            "_id": {"$lt": max(ids), "$nin": ids},
            "$or": [{"aggregate_type": t, "aggregate_id": a} for t, a in sorted(pairs)],
        }
        earlier: dict[Aggregate, Any] = {}
        async for doc in self.outbox.find(query, {"aggregate_type": 1, "aggregate_id": 1}):
            key = (doc["aggregate_type"], doc["aggregate_id"])
            earlier[key] = min(earlier.get(key, doc["_id"]), doc["_id"])
        return earlier
