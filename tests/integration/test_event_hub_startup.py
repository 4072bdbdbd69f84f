"""`gateway.subscriptions.start_event_hub`: a hub fed from the real broker, or none."""

from __future__ import annotations

import asyncio

import pytest

from datasources.events.broker import BrokerOptions, Names, create_event_broker
from domain.events import JOB_UPDATED, DomainEvent
from gateway.settings import BrokerSettings, Settings, SubscriptionSettings
from gateway.subscriptions import start_event_hub
from tests.events import new_namespace, remove_namespace
from tests.stores import StoreUrls

pytestmark = pytest.mark.integration


async def test_the_hub_receives_the_brokers_events(stores: StoreUrls) -> None:
    namespace = new_namespace()
    settings = Settings(
        redis_url=stores.redis,
        broker=BrokerSettings(namespace=namespace),
        subscriptions=SubscriptionSettings(queue_size=5),
    )
    hub, stop = await start_event_hub(settings, stores.redis)
    assert hub is not None
    assert hub.queue_size == 5
    try:
        sub = hub.open([JOB_UPDATED])
        publisher = create_event_broker(stores.redis, BrokerOptions(names=Names(namespace)))
        await publisher.start()
        sent = DomainEvent(JOB_UPDATED, "9", {})
        try:
            await publisher.publish(sent)
        finally:
            await publisher.stop()
        assert (await asyncio.wait_for(anext(sub), 10)).event_id == sent.event_id
    finally:
        await stop()
        await remove_namespace(stores.redis, namespace, ())


async def test_no_hub_when_off_or_when_the_broker_is_unreachable(stores: StoreUrls) -> None:
    off = Settings(redis_url=stores.redis, subscriptions=SubscriptionSettings(enabled=False))
    assert (await start_event_hub(off, stores.redis))[0] is None
    unreachable = Settings(redis_url=stores.redis, broker_url="amqp://guest:guest@127.0.0.1:1/")
    hub, stop = await asyncio.wait_for(start_event_hub(unreachable, stores.redis), 30)
    assert hub is None
    await stop()
