"""The transactional outbox, write side: events go in with the change they describe.

`add_events` runs on the caller's connection, inside the caller's transaction, so the
events commit or roll back with the change. The relay (datasources/events) reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from datasources.postgres.tables import outbox
from domain.events import DomainEvent


def outbox_row(event: DomainEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "event_type": event.type,
        "version": event.version,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "occurred_at": event.occurred_at,
        "payload": dict(event.payload),
        "attempts": 0,
    }


async def add_events(conn: AsyncConnection, events: Sequence[DomainEvent]) -> None:
    """Insert `events` into `outbox` (one multi-row INSERT) in the open transaction."""
    if not events:
        return
    await conn.execute(insert(outbox).values([outbox_row(e) for e in events]))
