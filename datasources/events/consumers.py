"""Domain-event consumers. Each has a name (its durable subscription on the broker, and
its key in `processed_events`) and handles every delivery idempotently: the broker
delivers at least once, and the relay may publish an event twice after a crash.

- `CacheInvalidation`: drops the cache entries of the entities an event changed.
  Idempotent by nature: deleting a key and bumping a type's version a second time
  leaves the cache as correct as the first (it only costs a few extra misses), so it
  keeps no record of processed events.
- `JobApplicationCounter`: `jobs.application_count += 1` per ApplicationSubmitted, in
  the same Postgres transaction as its `processed_events` row; a duplicate finds the row
  and changes nothing.
- `CandidateApplicationCounter`: the candidate profile's `application_count += 1`, in
  one Mongo transaction with an insert into the `processed_events` collection
  (`_id = "<consumer>:<event_id>"`); a duplicate hits the unique `_id`, and the
  transaction aborts.

ApplicationSubmitted's payload carries `job_id` and `candidate_id`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, DuplicateKeyError
from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.cache.keys import Invalidator
from datasources.mongo.repositories import parse_object_id
from datasources.postgres.tables import processed_events
from domain.events import (
    APPLICATION_SUBMITTED,
    COMPANY_UPDATED,
    JOB_CLOSED,
    JOB_POSTED,
    JOB_PUBLISHED,
    JOB_UPDATED,
    DomainEvent,
)

log = logging.getLogger("hiregraph.events.consumers")

MONGO_PROCESSED = "processed_events"
CANDIDATES = "candidates"


class Consumer(Protocol):
    """Handles the events it subscribes to (all when `event_types` is None). Raising
    means "not done": the broker delivers the event again."""

    name: str
    event_types: frozenset[str] | None

    async def prepare(self) -> None:
        """Create what the consumer needs before its first event (idempotent)."""
        ...

    async def handle(self, event: DomainEvent) -> None: ...


def changed_entities(event: DomainEvent) -> dict[str, list[str]]:
    """The cached entities an event changes, by type: its aggregate, and for an
    application also its job (the job's application counts change)."""
    changed = {event.aggregate_type: [event.aggregate_id]}
    job_id = event.payload.get("job_id")
    if event.aggregate_type == "Application" and job_id is not None:
        changed["Job"] = [str(job_id)]
    return changed


class CacheInvalidation:
    name = "cache-invalidation"
    event_types: frozenset[str] | None = None

    def __init__(self, invalidator: Invalidator) -> None:
        self.invalidator = invalidator

    async def prepare(self) -> None:
        return None

    async def handle(self, event: DomainEvent) -> None:
        # Invalidator raises when Redis cannot be told: the event is then redelivered.
        for type_name, ids in changed_entities(event).items():
            await self.invalidator.entities_changed(type_name, ids)


class JobApplicationCounter:
    name = "job-application-count"
    event_types: frozenset[str] | None = frozenset({APPLICATION_SUBMITTED})

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def prepare(self) -> None:
        return None

    async def handle(self, event: DomainEvent) -> None:
        job_id = int(event.payload["job_id"])
        async with self.engine.begin() as conn:
            first = await conn.execute(
                pg_insert(processed_events)
                .values(consumer=self.name, event_id=event.event_id, processed_at=func.now())
                .on_conflict_do_nothing()
                .returning(processed_events.c.event_id)
            )
            if first.first() is None:
                log.info("%s: %s already applied", self.name, event.event_id)
                return
            await conn.execute(
                text("UPDATE jobs SET application_count = application_count + 1 WHERE id = :id"),
                {"id": job_id},
            )


class CandidateApplicationCounter:
    name = "candidate-application-count"
    event_types: frozenset[str] | None = frozenset({APPLICATION_SUBMITTED})

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def prepare(self) -> None:
        # Up front: not every server creates a collection inside a transaction.
        with contextlib.suppress(CollectionInvalid):  # it exists
            await self.db.create_collection(MONGO_PROCESSED)

    async def handle(self, event: DomainEvent) -> None:
        candidate = parse_object_id(str(event.payload["candidate_id"]))
        marker = {"_id": f"{self.name}:{event.event_id}", "at": datetime.now(UTC)}

        async def apply(session: AsyncClientSession) -> None:
            await self.db[MONGO_PROCESSED].insert_one(marker, session=session)
            if candidate is not None:
                await self.db[CANDIDATES].update_one(
                    {"_id": candidate}, {"$inc": {"application_count": 1}}, session=session
                )

        async with self.db.client.start_session() as session:
            try:
                await session.with_transaction(apply)
            except DuplicateKeyError:
                log.info("%s: %s already applied", self.name, event.event_id)


class RollupWake:
    """Wakes this worker's rollup refresher (`datasources.postgres.rollup`) when a job
    or company changed, so the refresh starts without waiting for its next poll. What
    marks the rollup stale is a trigger in the writing transaction, not this event, so
    a lost wake delays a refresh by one poll and loses nothing."""

    name = "analytics-rollup"
    event_types: frozenset[str] | None = frozenset(
        {JOB_POSTED, JOB_UPDATED, JOB_PUBLISHED, JOB_CLOSED, COMPANY_UPDATED}
    )

    def __init__(self, wake: Callable[[], None]) -> None:
        self.wake = wake

    async def prepare(self) -> None:
        return None

    async def handle(self, event: DomainEvent) -> None:
        self.wake()


def default_consumers(
    engine: AsyncEngine,
    db: AsyncDatabase[dict[str, Any]],
    invalidator: Invalidator,
    rollup_wake: Callable[[], None] | None = None,
) -> list[Consumer]:
    consumers: list[Consumer] = [
        CacheInvalidation(invalidator),
        JobApplicationCounter(engine),
        CandidateApplicationCounter(db),
    ]
    if rollup_wake is not None:
        consumers.append(RollupWake(rollup_wake))
    return consumers
