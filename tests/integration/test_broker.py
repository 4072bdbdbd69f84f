"""The event broker over real RabbitMQ, Redis Streams and NATS JetStream: what goes on
the wire, durable per-consumer subscriptions, and redelivery of a failed handler."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator

import aio_pika
import pytest
from redis.asyncio import Redis

from datasources.events.broker import Names, broker_kind, create_event_broker, redacted
from tests.events import NATS_URL, Collector, Space, event, eventually, space
from tests.stores import StoreUrls

__all__ = ["space"]  # fixture

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("amqp://guest:guest@mq:5672/", "rabbit"),
        ("amqps://mq/", "rabbit"),
        ("redis://127.0.0.1:6379/0", "redis"),
        ("rediss://cache:6380/1", "redis"),
        ("nats://127.0.0.1:4222", "nats"),
        ("kafka://k1:9092,k2:9092", "kafka"),
    ],
)
def test_the_url_scheme_picks_the_transport(url: str, kind: str) -> None:
    assert broker_kind(url) == kind
    if kind != "kafka":  # Kafka's client is the optional `kafka` extra
        assert create_event_broker(url).kind == kind


def test_an_unknown_scheme_is_refused_and_passwords_stay_out_of_logs() -> None:
    with pytest.raises(ValueError, match="unsupported broker URL scheme 'http'"):
        broker_kind("http://example.test/")
    assert redacted("amqp://hg:s3cret@mq:5672/vh") == "amqp://hg:***@mq:5672/vh"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


@pytest.fixture
async def amqp_channel() -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    from tests.events import AMQP_URL

    connection = await aio_pika.connect(AMQP_URL)
    yield await connection.channel()
    await connection.close()


@pytest.mark.parametrize("space", ["rabbit"], indirect=True)
async def test_rabbitmq_message_is_persistent_json_on_the_topic_exchange(
    space: Space, amqp_channel: aio_pika.abc.AbstractChannel
) -> None:
    names = Names(space.namespace)
    e = event("ApplicationSubmitted", "42", job_id=7, candidate_id="c1")
    async with space.running() as broker:  # declares the exchange
        tap = await amqp_channel.declare_queue(exclusive=True)
        await tap.bind(names.exchange, routing_key=f"{names.namespace}.#")
        await broker.publish(e)
        message = await _get(tap)
    assert message.routing_key == f"{space.namespace}.ApplicationSubmitted"
    assert message.message_id == e.event_id
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.content_type == "application/json"
    assert json.loads(message.body) == e.to_message()
    proc = await asyncio.create_subprocess_exec(
        "rabbitmqctl", "-q", "list_exchanges", "name", "type", "durable",
        stdout=subprocess.PIPE,
    )  # fmt: skip
    listing = (await proc.communicate())[0].decode()
    assert f"{names.exchange}\ttopic\ttrue" in listing


async def _get(queue: aio_pika.abc.AbstractQueue) -> aio_pika.abc.AbstractIncomingMessage:
    for _ in range(100):
        message = await queue.get(fail=False)
        if message is not None:
            await message.ack()
            return message
        await asyncio.sleep(0.05)
    raise AssertionError("nothing arrived on the tap queue")


@pytest.mark.parametrize("space", ["redis"], indirect=True)
async def test_redis_stream_is_bounded_and_carries_the_event(
    space: Space, stores: StoreUrls
) -> None:
    names = Names(space.namespace)
    e = event("JobPosted", "1")
    async with space.running(stream_maxlen=1000) as broker:
        await broker.publish(e)
        for i in range(2_500):
            await broker.publish(event("JobUpdated", "1", n=i))
    client: Redis = Redis.from_url(stores.redis)
    try:
        length = await client.xlen(names.exchange)
        oldest = await client.xrange(names.exchange, count=1)
    finally:
        await client.aclose()
    assert 1000 <= length < 1300  # MAXLEN ~ trims whole nodes, so "about" 1000
    assert e.event_id.encode() not in b"".join(v for _, f in oldest for v in f.values())


async def test_each_consumer_gets_every_event_and_replicas_share_them(space: Space) -> None:
    alpha, alpha2, beta = Collector("alpha"), Collector("alpha"), Collector("beta")
    events = [event("JobUpdated", str(i % 3), n=i) for i in range(40)]
    async with (
        space.running([alpha, beta], instance="w1") as broker,
        space.running([alpha2], instance="w2"),
    ):
        for e in events:
            await broker.publish(e)
        await beta.wait_for(len(events))
        await eventually(lambda: len(alpha.events) + len(alpha2.events) >= len(events))
        await asyncio.sleep(0.3)
    assert beta.ids == [e.event_id for e in events]
    assert sorted(alpha.ids + alpha2.ids) == sorted(e.event_id for e in events)


async def test_a_consumer_gets_what_was_published_while_it_was_down(space: Space) -> None:
    late = Collector("late")
    async with space.running([late]):
        pass  # the subscription now exists (queue / consumer group)
    events = [event("JobPosted", str(i)) for i in range(3)]
    async with space.running() as publisher:
        for e in events:
            await publisher.publish(e)
    async with space.running([late]):
        await late.wait_for(3)
    assert late.ids == [e.event_id for e in events]


@pytest.mark.parametrize("space", ["redis"], indirect=True)
async def test_a_new_redis_consumer_group_starts_at_the_beginning_of_the_stream(
    space: Space,
) -> None:
    before = event("JobPosted", "1")
    async with space.running() as publisher:
        await publisher.publish(before)
    first_time = Collector("first-time")
    async with space.running([first_time]):
        await first_time.wait_for(1)
    assert first_time.ids == [before.event_id]


async def test_a_failed_handler_gets_the_event_again(space: Space) -> None:
    shaky = Collector("shaky", fail_first=2)
    e = event("JobClosed", "9")
    async with space.running([shaky], retry_delay=0.05, claim_idle_ms=200) as broker:
        await broker.publish(e)
        await shaky.wait_for(1, seconds=30)
    assert shaky.calls == 3
    assert shaky.ids == [e.event_id]


async def test_a_consumer_filters_by_event_type(space: Space) -> None:
    only = Collector("only-submitted", event_types=frozenset({"ApplicationSubmitted"}))
    wanted = event("ApplicationSubmitted", "5", job_id=1, candidate_id="c")
    async with space.running([only]) as broker:
        await broker.publish(event("JobPosted", "1"))
        await broker.publish(wanted)
        await only.wait_for(1)
        await asyncio.sleep(0.3)
    assert only.ids == [wanted.event_id]


async def test_nats_jetstream_delivers_durably_and_drops_a_republished_event() -> None:
    space = Space(NATS_URL)
    consumer = Collector("nats-consumer")
    e = event("CompanyUpdated", "3")
    try:
        async with space.running([consumer]) as broker:
            await broker.publish(e)
            await broker.publish(e)  # the relay after a crash: same Nats-Msg-Id
            await broker.publish(other := event("CompanyUpdated", "3"))
            await consumer.wait_for(2)
            await asyncio.sleep(0.3)
    finally:
        await space.remove()
    assert consumer.ids == [e.event_id, other.event_id]
