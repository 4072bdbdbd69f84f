"""The gateway's event hub: built, fed from the broker and stopped by the lifespan.

Every gateway process consumes all domain events through a broadcast subscription on
the worker's broker (HIREGRAPH_BROKER_URL, else Redis Streams on HIREGRAPH_REDIS_URL)
and fans them out to its GraphQL subscriptions (`app.state.event_hub`). `after` replays
from the Redis stream `<namespace>.events`, which is the broker's own stream on Redis
Streams; with RabbitMQ the hub appends each event it receives to that stream itself
(same MAXLEN), so every instance can replay.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial

from faststream.redis import RedisBroker
from redis.asyncio import Redis

from datasources.events.broker import BroadcastBroker, create_event_broker
from datasources.events.fanout import EventHub
from datasources.events.replay import events_after
from datasources.redis_client import create_redis, parse_redis_url
from domain.events import DomainEvent
from gateway.settings import Settings
from gateway.worker import broker_options

log = logging.getLogger("hiregraph.subscriptions")

Stop = Callable[[], Awaitable[None]]


async def start_event_hub(settings: Settings, redis_url: str) -> tuple[EventHub | None, Stop]:
    """The hub, already receiving events, and what stops it; no hub (and subscriptions
    then fail) when subscriptions are off or the broker cannot broadcast."""

    async def nothing() -> None:
        return None

    url = settings.event_broker_url
    if not settings.subscriptions.enabled or url is None:
        return None, nothing
    options = broker_options(settings)
    broker = create_event_broker(url, options)
    if not isinstance(broker, BroadcastBroker):
        log.warning("subscriptions are off: a %s broker cannot broadcast", broker.kind)
        return None, nothing
    stream = options.names.exchange
    client: Redis = create_redis(redis_url)
    replay = partial(events_after, client, stream, max_scan=settings.subscriptions.replay_max_scan)
    hub = EventHub(settings.subscriptions.queue_size, replay)
    # RabbitMQ keeps nothing to replay from: append to the Redis stream as events arrive.
    store = (
        None
        if broker.kind == "redis" or not _one_server(redis_url)
        else RedisBroker(redis_url, logger=log, log_level=logging.DEBUG)
    )

    async def on_event(event: DomainEvent) -> None:
        if store is not None:
            await store.publish(event.to_message(), stream=stream, maxlen=options.stream_maxlen)
        await hub.dispatch(event)

    broker.subscribe_broadcast(on_event)
    try:
        if store is not None:
            await store.connect()
        await broker.start()
    except Exception:  # queries and mutations do not need the broker: serve them anyway
        log.exception("subscriptions are off: cannot reach the event broker")
        with contextlib.suppress(Exception):
            await broker.stop()
        await client.aclose()
        return None, nothing

    async def stop() -> None:
        await broker.stop()
        if store is not None:
            await store.stop()
        await client.aclose()

    return hub, stop


def _one_server(redis_url: str) -> bool:
    """FastStream's Redis client takes one server's URL: with a Sentinel or Cluster URL
    there is no replay stream (live events only; `after` finds nothing to replay)."""
    if parse_redis_url(redis_url).topology == "single":
        return True
    log.warning("subscriptions: no replay stream on a Sentinel/Cluster Redis (live only)")
    return False
