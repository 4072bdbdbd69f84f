"""Broadcast subscriptions (every event to every gateway process) over real RabbitMQ and
Redis Streams, and `after` replay from the Redis stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis

from datasources.events import replay
from datasources.events.broker import BroadcastBroker, create_event_broker
from datasources.events.replay import events_after
from domain.errors import InvalidInput
from domain.events import DomainEvent
from tests.events import Space, event, eventually, options, space
from tests.stores import StoreUrls

__all__ = ["space"]  # fixture

pytestmark = pytest.mark.integration


@asynccontextmanager
async def listening(space: Space, instance: str) -> AsyncIterator[list[DomainEvent]]:
    broker = create_event_broker(space.url, options(space.namespace, instance=instance))
    assert isinstance(broker, BroadcastBroker)
    received: list[DomainEvent] = []

    async def handle(e: DomainEvent) -> None:
        received.append(e)

    broker.subscribe_broadcast(handle)
    await broker.start()
    try:
        yield received
    finally:
        await broker.stop()


async def test_every_instance_gets_every_live_event_in_order(space: Space) -> None:
    async with space.running() as publisher:
        await publisher.publish(event(aggregate_id="0"))  # before anyone listens: not seen
        async with listening(space, "gw-a") as a, listening(space, "gw-b") as b:
            sent = [event(aggregate_id=str(n)) for n in range(1, 4)]
            for e in sent:
                await publisher.publish(e)
            ids = [e.event_id for e in sent]
            await eventually(lambda: len(a) >= 3 and len(b) >= 3, what="both instances")
            assert [e.event_id for e in a] == ids
            assert [e.event_id for e in b] == ids


@pytest.mark.parametrize("space", ["redis"], indirect=True)
@pytest.mark.parametrize("page", [200, 2])  # one XREVRANGE page, or several
async def test_replay_returns_what_followed_an_event(
    space: Space, stores: StoreUrls, page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay, "PAGE", page)
    sent = [event(aggregate_id=str(n)) for n in range(5)]
    async with space.running() as publisher:
        for e in sent:
            await publisher.publish(e)
    client: Redis = Redis.from_url(stores.redis)
    stream = f"{space.namespace}.events"
    try:
        after = await events_after(client, stream, sent[1].event_id)
        assert [e.event_id for e in after] == [e.event_id for e in sent[2:]]
        assert await events_after(client, stream, sent[4].event_id) == []
        with pytest.raises(InvalidInput, match="replay window"):
            await events_after(client, stream, "no-such-event")
        with pytest.raises(InvalidInput):  # older than the scan reaches
            await events_after(client, stream, sent[0].event_id, max_scan=2)
    finally:
        await client.aclose()
