"""Overlap generating the next batch with writing the previous one.

Generation is CPU work on the event loop; writes wait on a server. `write_batches` starts
writing batch k as a task and builds batch k+1 meanwhile, handing control back to the
loop every few hundred records so the write (and the other store's pipeline) progresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from itertools import islice
from typing import TypeVar

from datasources.seed.report import Advance, EntityStats

T = TypeVar("T")
_SLICE = 250  # records generated between yields to the event loop


async def _next_batch(records: Iterator[T], size: int) -> list[T]:
    batch: list[T] = []
    while len(batch) < size:
        part = list(islice(records, min(_SLICE, size - len(batch))))
        if not part:
            break
        batch.extend(part)
        await asyncio.sleep(0)
    return batch


async def write_batches(
    name: str,
    store: str,
    records: Iterator[T],
    size: int,
    write: Callable[[list[T]], Awaitable[object]],
    advance: Advance,
) -> EntityStats:
    """Write `records` in batches of `size`, at most one write in flight."""
    started = time.perf_counter()
    rows = 0
    pending: asyncio.Task[object] | None = None
    pending_rows = 0
    try:
        while batch := await _next_batch(records, size):
            if pending is not None:
                await pending
                advance(pending_rows)
            pending = asyncio.ensure_future(write(batch))
            pending_rows = len(batch)
            rows += len(batch)
        if pending is not None:
            await pending
            advance(pending_rows)
            pending = None
    finally:
        if pending is not None:  # generation failed mid-way: do not leak the write
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
    return EntityStats(name, store, rows, time.perf_counter() - started)
