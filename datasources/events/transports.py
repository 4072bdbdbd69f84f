"""One `EventBroker` per transport, each a thin layer over its FastStream broker
(see datasources.events.broker for the naming and the guarantees)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any
from urllib.parse import urlsplit

from faststream import AckPolicy
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from datasources.events.broker import (
    BrokerKind,
    BrokerOptions,
    EventHandler,
)
from datasources.redis_client import create_redis
from domain.events import DomainEvent

log = logging.getLogger("hiregraph.events")
# FastStream's own messages (per-message lines at DEBUG, task supervision at INFO).
broker_log = logging.getLogger("hiregraph.events.faststream")

MessageHandler = Callable[[dict[str, Any]], Awaitable[None]]


def on_message(
    consumer: str, event_types: Collection[str] | None, handler: EventHandler, retry_delay: float
) -> MessageHandler:
    """The FastStream handler for one consumer: decode, filter, call.

    A message that is not a domain event is logged and acknowledged (redelivering it
    cannot help). A handler that raises is retried: after `retry_delay` the error goes
    back to FastStream, which returns the message to the broker (nack/requeue, or left
    pending on Redis Streams until it is claimed again)."""
    wanted = frozenset(event_types) if event_types is not None else None

    async def handle(body: dict[str, Any]) -> None:
        try:
            event = DomainEvent.from_message(body)
        except (KeyError, TypeError, ValueError):
            log.exception("%s: dropping a message that is not a domain event", consumer)
            return
        if wanted is not None and event.type not in wanted:
            return
        try:
            await handler(event)
        except Exception:
            log.exception("%s: %s %s failed; redelivering", consumer, event.type, event.event_id)
            await asyncio.sleep(retry_delay)
            raise

    return handle


def on_broadcast(handler: EventHandler) -> MessageHandler:
    """The FastStream handler of a broadcast subscription: decode and call; a failure is
    logged and the event dropped (a broadcast is never redelivered)."""

    async def handle(body: dict[str, Any]) -> None:
        try:
            event = DomainEvent.from_message(body)
        except (KeyError, TypeError, ValueError):
            log.exception("broadcast: dropping a message that is not a domain event")
            return
        try:
            await handler(event)
        except Exception:
            log.exception("broadcast: %s %s failed; dropped", event.type, event.event_id)

    return handle


class RabbitEvents:
    kind: BrokerKind = "rabbit"

    def __init__(self, url: str, options: BrokerOptions) -> None:
        from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange

        self.options, self.names = options, options.names
        # Channels confirm publishes by default (publisher confirms).
        self.broker = RabbitBroker(
            url,
            reconnect_interval=options.reconnect_interval,
            logger=broker_log,
            log_level=logging.DEBUG,
        )
        self.exchange = RabbitExchange(self.names.exchange, type=ExchangeType.TOPIC, durable=True)

    async def start(self) -> None:
        await self.broker.start()
        await self.broker.declare_exchange(self.exchange)

    async def stop(self) -> None:
        await self.broker.stop()

    async def publish(self, event: DomainEvent) -> None:
        # Not mandatory: an event type nobody subscribes to is simply dropped by the
        # exchange; every consumer's queue is durable and declared by the worker.
        await self.broker.publish(
            event.to_message(),
            exchange=self.exchange,
            routing_key=self.names.key(event.type),
            persist=True,
            mandatory=False,
            message_id=event.event_id,
            correlation_id=event.event_id,
            message_type=event.type,
            timeout=self.options.publish_timeout,
        )

    def subscribe(
        self, consumer: str, event_types: Collection[str] | None, handler: EventHandler
    ) -> None:
        from faststream.rabbit import Channel, RabbitQueue

        queue = RabbitQueue(
            self.names.queue(consumer),
            durable=True,
            routing_key=self.names.key_filter(event_types, "*"),
        )
        handle = on_message(consumer, event_types, handler, self.options.retry_delay)
        self.broker.subscriber(
            queue,
            self.exchange,
            channel=Channel(prefetch_count=32),
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )(handle)

    def subscribe_broadcast(self, handler: EventHandler) -> None:
        """Every event, to this process only: an exclusive, auto-delete queue bound to
        `hiregraph.#` (gone with the connection; nothing is kept for a stopped gateway)."""
        from faststream.rabbit import RabbitQueue

        queue = RabbitQueue(
            self.names.queue(f"broadcast.{self.options.instance}"),
            durable=False,
            exclusive=True,
            auto_delete=True,
            routing_key=self.names.key_filter(None, "#"),
        )
        handle = on_broadcast(handler)
        self.broker.subscriber(queue, self.exchange, ack_policy=AckPolicy.ACK_FIRST)(handle)


class RedisEvents:
    kind: BrokerKind = "redis"

    def __init__(self, url: str, options: BrokerOptions) -> None:
        from faststream.redis import RedisBroker

        self.url, self.options, self.names = url, options, options.names
        self.broker = RedisBroker(url, logger=broker_log, log_level=logging.DEBUG)
        self.groups: list[str] = []

    async def start(self) -> None:
        await self._create_groups()
        await self.broker.start()

    async def _create_groups(self) -> None:
        """Each consumer group starts at the beginning of the stream, so events published
        before a consumer first ran still reach it (FastStream would start it at `$`)."""
        client: Redis = create_redis(self.url)
        try:
            for group in self.groups:
                try:
                    await client.xgroup_create(self.names.exchange, group, id="0", mkstream=True)
                except ResponseError as exc:
                    if "BUSYGROUP" not in str(exc):
                        raise
        finally:
            await client.aclose()

    async def stop(self) -> None:
        await self.broker.stop()

    async def publish(self, event: DomainEvent) -> None:
        await asyncio.wait_for(
            self.broker.publish(
                event.to_message(),
                stream=self.names.exchange,
                maxlen=self.options.stream_maxlen,  # redis-py trims approximately (~)
                headers={"message_id": event.event_id, "event_type": event.type},
                correlation_id=event.event_id,
            ),
            self.options.publish_timeout,
        )

    def subscribe(
        self, consumer: str, event_types: Collection[str] | None, handler: EventHandler
    ) -> None:
        from faststream.redis import StreamSub

        self.groups.append(consumer)
        me = self.options.instance
        # New entries for this group...
        # (a bounded read: what one read takes must be handled well within claim_idle_ms,
        # or another worker would claim it while it is still being handled)
        fresh = StreamSub(
            self.names.exchange, group=consumer, consumer=me, polling_interval=100, max_records=32
        )
        # ...and entries another consumer of the group took but never acknowledged (its
        # worker died, or its handler failed): XAUTOCLAIM once they are idle long enough.
        stale = StreamSub(
            self.names.exchange,
            group=consumer,
            consumer=me,
            min_idle_time=self.options.claim_idle_ms,
            polling_interval=1000,
        )
        for sub in (fresh, stale):
            handle = on_message(consumer, event_types, handler, self.options.retry_delay)
            self.broker.subscriber(stream=sub, ack_policy=AckPolicy.NACK_ON_ERROR)(handle)

    def subscribe_broadcast(self, handler: EventHandler) -> None:
        """Every event, to this process only: XREAD from `$` without a consumer group
        (only entries added after the start; nothing is acknowledged or kept per reader)."""
        from faststream.redis import StreamSub

        sub = StreamSub(self.names.exchange, last_id="$", polling_interval=100, max_records=64)
        self.broker.subscriber(stream=sub, ack_policy=AckPolicy.ACK_FIRST)(on_broadcast(handler))


class NatsEvents:
    kind: BrokerKind = "nats"

    def __init__(self, url: str, options: BrokerOptions) -> None:
        from faststream.nats import JStream, NatsBroker

        self.options, self.names = options, options.names
        self.broker = NatsBroker(
            url,
            reconnect_time_wait=max(1, round(options.reconnect_interval)),
            logger=broker_log,
            log_level=logging.DEBUG,
        )
        self.subjects = f"{self.names.namespace}.>"
        self.stream = JStream(self.names.nats_stream, subjects=[self.subjects], declare=False)

    async def start(self) -> None:
        connection = await self.broker.connect()
        await connection.jetstream().add_stream(
            name=self.names.nats_stream, subjects=[self.subjects]
        )
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()

    async def publish(self, event: DomainEvent) -> None:
        # Nats-Msg-Id lets JetStream drop a re-publish of the same event (dedup window).
        await self.broker.publish(
            event.to_message(),
            self.names.key(event.type),
            headers={"Nats-Msg-Id": event.event_id},
            correlation_id=event.event_id,
            stream=self.names.nats_stream,
            timeout=self.options.publish_timeout,
        )

    def subscribe(
        self, consumer: str, event_types: Collection[str] | None, handler: EventHandler
    ) -> None:
        from faststream.nats import PullSub

        handle = on_message(consumer, event_types, handler, self.options.retry_delay)
        self.broker.subscriber(
            self.names.key_filter(event_types, ">"),
            stream=self.stream,
            durable=self.names.queue(consumer).replace(".", "-"),  # no dots in names
            pull_sub=PullSub(batch_size=32, timeout=1.0),
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )(handle)


class KafkaEvents:
    """Kafka (`kafka://host:9092,host2:9092`): the aggregate id is the message key, so one
    aggregate's events stay in one partition, in order. Needs the `kafka` extra."""

    kind: BrokerKind = "kafka"

    def __init__(self, url: str, options: BrokerOptions) -> None:
        from faststream.kafka import KafkaBroker

        self.options, self.names = options, options.names
        servers = urlsplit(url).netloc.split(",")
        self.broker = KafkaBroker(servers, logger=broker_log, log_level=logging.DEBUG)

    async def start(self) -> None:
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()

    async def publish(self, event: DomainEvent) -> None:
        await asyncio.wait_for(
            self.broker.publish(
                event.to_message(),
                self.names.exchange,
                key=event.aggregate_id.encode(),
                headers={"message_id": event.event_id, "event_type": event.type},
                correlation_id=event.event_id,
            ),
            self.options.publish_timeout,
        )

    def subscribe(
        self, consumer: str, event_types: Collection[str] | None, handler: EventHandler
    ) -> None:
        handle = on_message(consumer, event_types, handler, self.options.retry_delay)
        self.broker.subscriber(
            self.names.exchange,
            group_id=self.names.queue(consumer),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )(handle)
