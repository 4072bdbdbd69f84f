"""Settings sections for writes and real time: idempotency keys, the event broker and
worker, WebSockets, subscriptions. `gateway.settings.Settings` holds one of each."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IdempotencySettings(BaseModel):
    """`Idempotency-Key` on mutations (gateway.idempotency). Env: HIREGRAPH_IDEMPOTENCY__<NAME>."""

    enabled: bool = True
    # How long a stored response answers retries: a client retries within minutes, and a
    # day covers a job queue retrying overnight; the worker purges what expired.
    ttl_hours: int = Field(24, ge=1, le=24 * 30)
    # How long a claimed key stays `in_progress` if its request never finishes (the
    # process died): retries get 409 until then, and then execute. Must outlive the
    # execution timeout, or a slow first execution could be taken over and run twice.
    lease_seconds: float = Field(60.0, gt=0)


class BrokerSettings(BaseModel):
    """The event broker and `hiregraph worker` (outbox relays, consumers).
    Env: HIREGRAPH_BROKER__<NAME>. The broker itself is HIREGRAPH_BROKER_URL: amqp://
    (RabbitMQ), redis:// (Redis Streams), nats:// (JetStream) or kafka://host:9092;
    unset, it is Redis Streams on HIREGRAPH_REDIS_URL (the embedded Redis in dev)."""

    # Names on the broker: exchange/stream `<namespace>.events`, routing keys
    # `<namespace>.<EventType>`, consumer queues/groups `<namespace>.<consumer>`.
    namespace: str = Field("hiregraph", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    # Redis Streams: the stream is trimmed to about this many events (XADD MAXLEN ~).
    # A consumer group more than this far behind loses the oldest.
    stream_maxlen: int = Field(100_000, ge=1_000)
    publish_timeout_seconds: float = Field(5.0, gt=0)
    reconnect_seconds: float = Field(1.0, gt=0)
    # Redis Streams: an unacknowledged delivery this old is claimed by another worker.
    claim_idle_ms: int = Field(30_000, ge=100)
    consumer_retry_seconds: float = Field(1.0, ge=0)
    relay_batch_size: int = Field(100, ge=1, le=10_000)
    # How often an idle relay looks for new outbox rows (the floor of the event lag).
    relay_poll_seconds: float = Field(0.1, gt=0, le=60)
    relay_backoff_base_seconds: float = Field(0.2, gt=0)
    relay_backoff_max_seconds: float = Field(30.0, gt=0)
    # Mongo outbox: a relay's claim on a document lapses after this (its relay died).
    relay_lease_seconds: float = Field(30.0, gt=0)
    shutdown_timeout_seconds: float = Field(10.0, gt=0)


class WebSocketSettings(BaseModel):
    """GraphQL over WebSocket (graphql-transport-ws and the legacy graphql-ws)."""

    max_connections_per_viewer: int = Field(10, ge=1, le=10_000)  # per process
    max_subscriptions_per_connection: int = Field(20, ge=1, le=1_000)  # in-flight operations
    keepalive_seconds: float = Field(15.0, gt=0)  # server ping (transport-ws) / ka (graphql-ws)
    idle_timeout_seconds: float = Field(300.0, gt=0)  # no operation, no client message
    connection_init_timeout_seconds: float = Field(10.0, gt=0)
    # A message the client does not take within this time (it stopped reading and its
    # TCP window is full): the connection is dropped as a slow consumer (4429).
    send_timeout_seconds: float = Field(10.0, gt=0)


class SubscriptionSettings(BaseModel):
    """GraphQL subscriptions (datasources.events.fanout). Env: HIREGRAPH_SUBSCRIPTIONS__<NAME>.
    The gateway reads every event from HIREGRAPH_BROKER_URL (the worker's broker)."""

    enabled: bool = True
    # Events queued per subscription before it fails with SLOW_CONSUMER.
    queue_size: int = Field(100, ge=1, le=100_000)
    # `after` replay: how far back (stream entries) the event to resume after is looked for.
    replay_max_scan: int = Field(10_000, ge=1)
