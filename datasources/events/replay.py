"""Replaying the events after a given one from the Redis stream `hiregraph.events`.

The stream is the retention window (XADD MAXLEN ~ `BrokerOptions.stream_maxlen`). The
entry carrying an `event_id` is found by walking the stream backwards from its end
(XREVRANGE, a page at a time, at most `max_scan` entries): a reconnecting client asks
for recent events, so the walk is short. Entries are FastStream's (binary envelope, JSON
body); what cannot be decoded is skipped.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from faststream.redis.parser.binary import BinaryMessageFormatV1
from redis.asyncio import Redis

from domain.errors import InvalidInput
from domain.events import DomainEvent

log = logging.getLogger("hiregraph.events.replay")

PAGE = 200


def decode_entry(fields: Any) -> DomainEvent | None:
    data = fields.get(b"__data__")
    if data is None:
        return None
    try:
        body, _headers = BinaryMessageFormatV1.parse(data)
        message: Any = json.loads(body)
        return DomainEvent.from_message(message)
    except (KeyError, TypeError, ValueError):
        return None


async def events_after(
    redis: Redis, stream: str, event_id: str, *, max_scan: int = 10_000
) -> list[DomainEvent]:
    """The events after `event_id`, oldest first. InvalidInput when `event_id` is not in
    the last `max_scan` entries (too old, or never published)."""
    newer: list[DomainEvent] = []
    end, scanned = "+", 0
    while scanned < max_scan:
        count = min(PAGE, max_scan - scanned) + (end != "+")  # +1: `max` is inclusive
        page: list[Any] = list(await redis.xrevrange(stream, max=end, min="-", count=count) or [])
        if end != "+":
            page = page[1:]  # `max` is inclusive: the first entry was the last page's end
        if not page:
            break
        for _entry_id, fields in page:
            event = decode_entry(fields)
            if event is not None and event.event_id == event_id:
                newer.reverse()
                return newer
            if event is not None:
                newer.append(event)
        scanned += len(page)
        last = page[-1][0]
        end = last.decode() if isinstance(last, bytes) else str(last)
    raise InvalidInput(f"event {event_id!r} is not in the replay window; resubscribe without after")
