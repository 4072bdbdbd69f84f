"""The event broker: one FastStream broker, chosen by the URL's scheme, that publishes
domain events and delivers them to named consumers.

| scheme            | transport        | where events go                                    |
| ----------------- | ---------------- | -------------------------------------------------- |
| amqp://, amqps:// | RabbitMQ         | topic exchange `hiregraph.events`, key `hiregraph.<Type>` |
| redis://, rediss:// | Redis Streams  | stream `hiregraph.events` (MAXLEN ~ bounded)       |
| nats://, tls://   | NATS JetStream   | stream `hiregraph-events`, subject `hiregraph.<Type>` |
| kafka://          | Kafka            | topic `hiregraph.events`, key = aggregate id        |

Every message is `DomainEvent.to_message()` as JSON with message id = `event_id`, and a
publish returns only once the broker has taken it: RabbitMQ publisher confirms on a
persistent message, the XADD reply, the JetStream PubAck, the Kafka ack. A consumer gets
its own durable subscription (a RabbitMQ queue, a Redis consumer group, a JetStream
durable, a Kafka group) named after it, so each consumer sees every event once per
delivery, whichever worker replica takes it. Delivery is at least once: consumers
deduplicate by `event_id` (datasources.events.consumers).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable
from urllib.parse import urlsplit

from domain.events import DomainEvent

log = logging.getLogger("hiregraph.events")

NAMESPACE = "hiregraph"

BrokerKind = Literal["rabbit", "redis", "nats", "kafka"]
EventHandler = Callable[[DomainEvent], Awaitable[None]]

SCHEMES: dict[str, BrokerKind] = {
    "amqp": "rabbit",
    "amqps": "rabbit",
    "redis": "redis",
    "rediss": "redis",
    "nats": "nats",
    "tls": "nats",
    "kafka": "kafka",
}


class EventPublisher(Protocol):
    """Hands one event to the broker; returns once the broker has accepted it (raises
    otherwise: the relay then keeps the event and retries)."""

    async def publish(self, event: DomainEvent) -> None: ...


def _instance_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Names:
    """Where events go, under a namespace (`hiregraph`; tests use a unique one)."""

    namespace: str = NAMESPACE

    @property
    def exchange(self) -> str:
        """The RabbitMQ topic exchange, the Redis stream and the Kafka topic."""
        return f"{self.namespace}.events"

    @property
    def nats_stream(self) -> str:
        return f"{self.namespace}-events"  # JetStream names may not contain dots

    def key(self, event_type: str) -> str:
        """The routing key / subject of an event type (`DomainEvent.routing_key`)."""
        return f"{self.namespace}.{event_type}"

    def key_filter(self, event_types: Collection[str] | None, wildcard: str) -> str:
        """One binding / subject filter: the event type's when there is just one."""
        if event_types is not None and len(event_types) == 1:
            return self.key(next(iter(event_types)))
        return f"{self.namespace}.{wildcard}"

    def queue(self, consumer: str) -> str:
        return f"{self.namespace}.{consumer}"


@dataclass(frozen=True, slots=True)
class BrokerOptions:
    names: Names = Names()
    # Redis Streams: XADD MAXLEN ~ this (Redis trims whole nodes, so "about").
    stream_maxlen: int = 100_000
    # How long a publish may wait for the broker's confirmation.
    publish_timeout: float = 5.0
    # RabbitMQ / NATS: seconds between reconnection attempts after a lost connection.
    reconnect_interval: float = 1.0
    # Redis Streams: a delivery left unacknowledged this long (its worker died, or its
    # handler failed) is claimed by another consumer of the same group.
    claim_idle_ms: int = 30_000
    # Redis Streams consumer name within each group: unique per worker process.
    instance: str = field(default_factory=_instance_name)
    # Pause before a failed handler's message goes back to the broker for redelivery.
    retry_delay: float = 1.0


def broker_kind(url: str) -> BrokerKind:
    scheme = urlsplit(url).scheme.lower()
    kind = SCHEMES.get(scheme)
    if kind is None:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise ValueError(f"unsupported broker URL scheme {scheme!r} (use {known})")
    return kind


def redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{parts.username}:***@{host}{port}").geturl()


class EventBroker(Protocol):
    """A FastStream broker for domain events: publish, and subscribe named consumers.
    Subscribe everything before `start()`."""

    kind: BrokerKind

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: DomainEvent) -> None: ...

    def subscribe(
        self, consumer: str, event_types: Collection[str] | None, handler: EventHandler
    ) -> None:
        """Deliver events (all, or only `event_types`) to `handler` through the durable
        subscription named `consumer`. A handler that raises gets the event again."""
        ...


@runtime_checkable
class BroadcastBroker(Protocol):
    """A broker that can also deliver every event to this process alone (RabbitMQ and
    Redis Streams; see datasources.events.fanout)."""

    def subscribe_broadcast(self, handler: EventHandler) -> None:
        """Every event to `handler` through a non-durable, per-process subscription that
        starts at the live end: nothing is redelivered, nothing kept after a stop."""
        ...


def create_event_broker(url: str, options: BrokerOptions | None = None) -> EventBroker:
    """The broker for `url`'s scheme. Nothing connects until `start()`."""
    from datasources.events import transports

    options = options or BrokerOptions()
    kind = broker_kind(url)
    if kind == "rabbit":
        return transports.RabbitEvents(url, options)
    if kind == "redis":
        return transports.RedisEvents(url, options)
    if kind == "nats":
        return transports.NatsEvents(url, options)
    return transports.KafkaEvents(url, options)
