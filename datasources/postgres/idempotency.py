"""Stored responses of mutation requests sent with an `Idempotency-Key` (gateway.idempotency).

One row per (viewer, key) in `idempotency_keys` (migration 0004). Its life:

1. `begin` claims the key: an INSERT of an `in_progress` row, `ON CONFLICT DO UPDATE ...
   WHERE expires_at <= now()`, so a missing or expired row is claimed in one statement
   and a live one is left alone (no row returned, like `DO NOTHING`). Two concurrent
   claims serialize on the row: exactly one gets it. An unclaimed key's row is read and
   compared: another request hash -> `Reused`, still `in_progress` -> `InProgress`,
   `done` -> `Replay` of the stored response.
2. The claim lasts `lease` (`expires_at` = now + lease): long enough for any execution
   (the settings require it to outlive the execution timeout), short enough that a key
   whose process died mid-request is free again soon, instead of answering 409 for a day.
3. `complete` stores the response and sets `expires_at` = now + ttl (24 h by default);
   `abandon` deletes the claim so the client can retry. Both act only on their own claim
   (the row's `created_at`, returned by `begin`): a claim that expired and was taken
   over by a later request is never overwritten or deleted by the first one.
4. `purge_expired` deletes expired rows in batches (the worker calls it).

Every driver failure becomes `UpstreamUnavailable("postgres", ...)`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import ReturningInsert

from datasources.postgres.tables import idempotency_keys as t
from domain.errors import UpstreamUnavailable

log = logging.getLogger("hiregraph.idempotency")

IN_PROGRESS, DONE = "in_progress", "done"
PURGE_BATCH = 1000
# A row deleted (abandoned) or expiring between the claim and the read is claimed again.
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes
    content_type: str | None


@dataclass(frozen=True, slots=True)
class Begun:
    """The key is claimed by this request: execute, then `complete` or `abandon`."""

    claimed_at: datetime  # the row's created_at: which claim complete/abandon may touch


@dataclass(frozen=True, slots=True)
class Replay:
    """The key's first request finished: answer with its response, do not execute."""

    response: StoredResponse


@dataclass(frozen=True, slots=True)
class Reused:
    """The key was first used for a different request (another hash)."""


@dataclass(frozen=True, slots=True)
class InProgress:
    """The key's first request is still executing."""


Outcome = Begun | Replay | Reused | InProgress


class PgIdempotencyStore:
    """Built by the lifespan on the read/write SQLAlchemy engine; one short transaction
    per call."""

    def __init__(self, engine: AsyncEngine, *, ttl: timedelta, lease: timedelta) -> None:
        self.engine = engine
        self.ttl = ttl
        self.lease = lease

    async def begin(self, viewer: str, key: str, request_hash: str) -> Outcome:
        async with _transaction(self.engine) as conn:
            for _ in range(_ATTEMPTS):
                claimed = await conn.scalar(self._claim(viewer, key, request_hash))
                if claimed is not None:
                    return Begun(claimed)
                outcome = await _existing(conn, viewer, key, request_hash)
                if outcome is not None:
                    return outcome
        # Claimed and released by others three times in a row: say "busy", not "run".
        return InProgress()

    def _claim(self, viewer: str, key: str, request_hash: str) -> ReturningInsert[datetime]:
        row = insert(t).values(
            key=key, viewer=viewer, request_hash=request_hash, status=IN_PROGRESS,
            # clock_timestamp, not now(): each claim's token differs from the last one's.
            created_at=func.clock_timestamp(), expires_at=func.now() + self.lease,
        )  # fmt: skip
        fresh = row.excluded
        return row.on_conflict_do_update(
            index_elements=[t.c.viewer, t.c.key],
            set_={
                "request_hash": fresh.request_hash,
                "status": IN_PROGRESS,
                "response_status": None,
                "response_body": None,
                "response_content_type": None,
                "created_at": fresh.created_at,
                "expires_at": fresh.expires_at,
            },
            where=t.c.expires_at <= func.now(),
        ).returning(t.c.created_at)

    async def complete(self, viewer: str, key: str, claim: Begun, response: StoredResponse) -> bool:
        """Store the response of the claim; False when the claim was lost (it outlived
        its lease and another request took the key over)."""
        stmt = (
            update(t)
            .where(*_own(viewer, key, claim))
            .values(
                status=DONE,
                response_status=response.status,
                response_body=response.body,
                response_content_type=response.content_type,
                expires_at=func.now() + self.ttl,
            )
        )
        async with _transaction(self.engine) as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount == 1)

    async def abandon(self, viewer: str, key: str, claim: Begun) -> None:
        """Release the claim (the execution failed): the key is free for a retry."""
        async with _transaction(self.engine) as conn:
            await conn.execute(delete(t).where(*_own(viewer, key, claim)))

    async def purge_expired(self, batch_size: int = PURGE_BATCH) -> int:
        return await purge_expired(self.engine, batch_size)


async def purge_expired(engine: AsyncEngine, batch_size: int = PURGE_BATCH) -> int:
    """Delete expired rows, `batch_size` per transaction (short locks, bounded WAL bursts),
    until none is left; returns how many were deleted. Rows another purge is deleting are
    skipped (SKIP LOCKED), so several workers may run it at once."""
    victims = (
        select(t.c.viewer, t.c.key)
        .where(t.c.expires_at <= func.now())
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    stmt = delete(t).where(tuple_(t.c.viewer, t.c.key).in_(victims))
    total = 0
    while True:
        async with _transaction(engine) as conn:
            deleted = (await conn.execute(stmt)).rowcount
        total += deleted
        if deleted < batch_size:
            return total


async def _existing(
    conn: AsyncConnection, viewer: str, key: str, request_hash: str
) -> Outcome | None:
    """What a live row says about this request; None when there is no live row."""
    row = (
        await conn.execute(
            select(
                t.c.request_hash,
                t.c.status,
                t.c.response_status,
                t.c.response_body,
                t.c.response_content_type,
                (t.c.expires_at > func.now()).label("live"),
            ).where(t.c.viewer == viewer, t.c.key == key)
        )
    ).first()
    if row is None or not row.live:
        return None
    if row.request_hash != request_hash:
        return Reused()
    if row.status == IN_PROGRESS:
        return InProgress()
    return Replay(StoredResponse(row.response_status, row.response_body, row.response_content_type))


def _own(viewer: str, key: str, claim: Begun) -> tuple[ColumnElement[bool], ...]:
    return (
        t.c.viewer == viewer,
        t.c.key == key,
        t.c.status == IN_PROGRESS,
        t.c.created_at == claim.claimed_at,
    )


@asynccontextmanager
async def _transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    try:
        async with engine.begin() as conn:
            yield conn
    except (SQLAlchemyError, OSError) as error:
        raise UpstreamUnavailable("postgres", "The idempotency store is unavailable.") from error


__all__ = [
    "Begun",
    "InProgress",
    "Outcome",
    "PgIdempotencyStore",
    "Replay",
    "Reused",
    "StoredResponse",
    "purge_expired",
]


class ExpiredKeysPurge:
    """A `hiregraph worker` task: purge expired idempotency keys every `interval`
    seconds (a failure is logged and retried at the next interval)."""

    def __init__(self, engine: AsyncEngine, interval: float = 300.0) -> None:
        self.engine, self.interval = engine, interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                deleted = await purge_expired(self.engine)
                if deleted:
                    log.info("idempotency: purged %d expired keys", deleted)
            except (SQLAlchemyError, OSError) as error:
                log.warning("idempotency: purge failed (%r); retrying later", error)
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                continue
