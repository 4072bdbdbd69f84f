"""The in-gateway event hub: every domain event the broker carries, fanned out to the
GraphQL subscriptions of this process.

Each gateway process reads ALL events through a non-durable, per-instance subscription
(`EventBroker.subscribe_broadcast`: XREAD from `$` on Redis Streams, an exclusive
auto-delete queue bound to `hiregraph.#` on RabbitMQ), so every instance sees every event.
`EventHub.dispatch` hands an event to each local subscription that wants it through
that subscription's BOUNDED queue and never waits: a subscriber whose queue is full is
failed with `SubscriptionOverflow` (SLOW_CONSUMER) and dropped, so one slow client can
neither block the others nor grow the process's memory.

`EventHub.shared(event_id)` is a memo per event that the subscriptions of this process
share (the schema keeps one set of loaders per event and viewer scope there), kept for
the last `memo_events` events.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Hashable, Iterable
from typing import Any

from domain.errors import SubscriptionOverflow
from domain.events import DomainEvent

log = logging.getLogger("hiregraph.events.fanout")

EventTest = Callable[[DomainEvent], bool]
# The events after a given event id, oldest first (the retention window; see replay.py).
Replay = Callable[[str], Awaitable[list[DomainEvent]]]


class HubSubscription:
    """One subscriber's view of the hub: an async iterator of the events it wants.

    Iterating raises `SubscriptionOverflow` once the subscriber fell behind; `close()`
    (or leaving an `async with`) detaches it from the hub."""

    def __init__(
        self, hub: EventHub, event_types: Collection[str], wants: EventTest, size: int
    ) -> None:
        self._hub = hub
        self.event_types = frozenset(event_types)
        self.wants = wants
        self._queue: asyncio.Queue[DomainEvent] = asyncio.Queue(maxsize=size)
        self._failed: asyncio.Event = asyncio.Event()
        self.overflowed = False

    def offer(self, event: DomainEvent) -> bool:
        """Queue `event` without waiting; False (and the subscription failed) when full."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self._failed.set()
            while not self._queue.empty():  # free what it holds: it will never be read
                self._queue.get_nowait()
            return False
        return True

    def preload(self, events: Iterable[DomainEvent]) -> None:
        """Queue replayed events ahead of live ones (the same bound applies)."""
        for event in events:
            if event.type in self.event_types and self.wants(event) and not self.offer(event):
                self._hub.remove(self)
                return

    def __aiter__(self) -> AsyncIterator[DomainEvent]:
        return self

    async def __anext__(self) -> DomainEvent:
        if self.overflowed:
            raise self._overflow()
        if not self._queue.empty():
            return self._queue.get_nowait()
        get = asyncio.ensure_future(self._queue.get())
        failed = asyncio.ensure_future(self._failed.wait())
        try:
            await asyncio.wait((get, failed), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (get, failed):
                task.cancel()
        if self.overflowed:
            raise self._overflow()
        return get.result()

    def _overflow(self) -> SubscriptionOverflow:
        return SubscriptionOverflow(
            f"subscriber fell behind by more than {self._queue.maxsize} events; resubscribe "
            "(pass `after` with the last event id received to replay what was missed)"
        )

    def close(self) -> None:
        self._hub.remove(self)

    async def __aenter__(self) -> HubSubscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class EventHub:
    """The local subscriptions of one gateway process, fed by `dispatch`."""

    def __init__(
        self, queue_size: int = 100, replay: Replay | None = None, memo_events: int = 64
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.queue_size = queue_size
        self.replay = replay
        self._subs: set[HubSubscription] = set()
        self._memo: OrderedDict[str, dict[Hashable, Any]] = OrderedDict()
        self._memo_events = memo_events

    def shared(self, event_id: str) -> dict[Hashable, Any]:
        """The memo of one event, shared by every subscription of this process that
        handles it; only the most recent `memo_events` events keep theirs."""
        memo = self._memo.get(event_id)
        if memo is None:
            memo = self._memo[event_id] = {}
            if len(self._memo) > self._memo_events:
                self._memo.popitem(last=False)
        return memo

    def open(self, event_types: Collection[str], wants: EventTest | None = None) -> HubSubscription:
        sub = HubSubscription(self, event_types, wants or (lambda _e: True), self.queue_size)
        self._subs.add(sub)
        return sub

    def remove(self, sub: HubSubscription) -> None:
        self._subs.discard(sub)

    def __len__(self) -> int:
        return len(self._subs)

    async def dispatch(self, event: DomainEvent) -> None:
        """Offer `event` to every subscription that wants it; never waits on one."""
        for sub in list(self._subs):
            if event.type not in sub.event_types:
                continue
            try:
                wanted = sub.wants(event)
            except Exception:
                log.exception("subscription filter failed on %s %s", event.type, event.event_id)
                continue
            if wanted and not sub.offer(event):
                log.warning("dropping a slow subscriber (%s queued)", self.queue_size)
                self._subs.discard(sub)
