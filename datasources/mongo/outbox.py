"""The Mongo outbox: domain events stored in the transaction of the change they describe.

A document per event, in the `outbox` collection of the candidates' database:
`{_id: ObjectId, event_id, event_type, version, aggregate_type, aggregate_id,
occurred_at, payload, published_at: null, attempts: 0, last_error: null}`.
Writers call `insert_event` with their transaction's session. The relay
(`datasources.events.relay.MongoOutboxRelay`) leases documents (`claimed_by`,
`claimed_until`), then calls `mark_published` once the broker has confirmed, or
`record_failure`; both release the lease. `pending` lists what is still unpublished
(oldest `_id` first, index `ix_outbox_unpublished`).

`_id` order is insertion order within one process only (an ObjectId is a second, a
per-process random value and a counter), so across gateway processes two events written
in the same second may come out of `pending` in either order. Events about one candidate
are also ordered by `payload.version`, which consumers can rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from datasources.mongo.bootstrap import OUTBOX
from datasources.mongo.codec import bson_date
from domain.events import DomainEvent

Db = AsyncDatabase[dict[str, Any]]


def outbox_doc(event: DomainEvent) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "event_id": event.event_id,
        "event_type": event.type,
        "version": event.version,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "occurred_at": bson_date(event.occurred_at),
        "payload": dict(event.payload),
        "published_at": None,
        "attempts": 0,
        "last_error": None,
    }


async def insert_event(db: Db, event: DomainEvent, session: AsyncClientSession) -> ObjectId:
    """Store `event` as part of `session`'s transaction; returns the outbox `_id`."""
    doc = outbox_doc(event)
    await db[OUTBOX].insert_one(doc, session=session)
    oid: ObjectId = doc["_id"]
    return oid


LEASE = {"claimed_by": "", "claimed_until": ""}  # a relay's claim on a document ($unset)


async def pending(db: Db, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` unpublished outbox documents, oldest `_id` first."""
    cursor = db[OUTBOX].find({"published_at": None}, batch_size=limit)
    docs: list[dict[str, Any]] = await cursor.sort("_id", 1).limit(limit).to_list()
    return docs


async def mark_published(db: Db, ids: Sequence[ObjectId], at: datetime | None = None) -> int:
    """Set `published_at` on those of `ids` not yet published, releasing their lease;
    returns how many."""
    if not ids:
        return 0
    result = await db[OUTBOX].update_many(
        {"_id": {"$in": list(ids)}, "published_at": None},
        {"$set": {"published_at": bson_date(at or datetime.now(UTC))}, "$unset": LEASE},
    )
    return result.modified_count


async def record_failure(db: Db, oid: ObjectId, error: str) -> None:
    """Count a failed publish of one event and keep the last error; it stays pending,
    and its lease is released for the next attempt."""
    await db[OUTBOX].update_one(
        {"_id": oid},
        {"$inc": {"attempts": 1}, "$set": {"last_error": error[:1000]}, "$unset": LEASE},
    )
