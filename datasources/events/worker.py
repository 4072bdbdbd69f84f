"""The event worker: the outbox relays and the consumers, in one process.

Each consumer gets its durable subscription on the broker (a RabbitMQ queue, a Redis
Streams consumer group; see datasources.events.broker), so worker replicas share each
consumer's events. Each relay runs as a task; replicas relay safely side by side.

Shutdown (SIGTERM, or `stop` set): relays finish the batch in progress and exit, then
the broker stops, which waits for handlers in flight (FastStream's graceful timeout)
and returns what was never acknowledged to the broker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from datasources.events.broker import EventBroker, redacted
from datasources.events.consumers import Consumer
from datasources.events.relay import Backoff, sleep_or_stop

log = logging.getLogger("hiregraph.events.worker")


class Relay(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


class Worker:
    def __init__(
        self,
        broker: EventBroker,
        relays: Sequence[Relay],
        consumers: Sequence[Consumer],
        *,
        shutdown_timeout: float = 10.0,
        broker_label: str = "",
    ) -> None:
        self.broker, self.relays, self.consumers = broker, relays, consumers
        self.shutdown_timeout = shutdown_timeout
        self.broker_label = redacted(broker_label) if broker_label else broker.kind
        self.started = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set, then shut down in order."""
        for consumer in self.consumers:
            await consumer.prepare()
            self.broker.subscribe(consumer.name, consumer.event_types, consumer.handle)
        if not await self._connect(stop):
            return
        tasks = [
            asyncio.create_task(r.run(stop), name=f"relay-{i}") for i, r in enumerate(self.relays)
        ]
        log.info(
            "worker: %d relay(s), consumers %s, broker %s",
            len(tasks), [c.name for c in self.consumers], self.broker_label,
        )  # fmt: skip
        self.started.set()
        try:
            await stop.wait()
        finally:
            await self._shutdown(tasks)

    async def _connect(self, stop: asyncio.Event) -> bool:
        """Start the broker, retrying with backoff while it is unreachable."""
        backoff = Backoff(0.5, 15.0)
        while not stop.is_set():
            try:
                await self.broker.start()
                return True
            except Exception as exc:
                delay = backoff.next_delay()
                log.warning("worker: broker %s unreachable (%r); retry in %.1fs",
                            self.broker_label, exc, delay)  # fmt: skip
                await _stop_quietly(self.broker)
                await sleep_or_stop(stop, delay)
        return False

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.shutdown_timeout)
            for task in pending:  # a publish that hangs: its batch is rolled back
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await _stop_quietly(self.broker)
        log.info("worker: stopped")


async def _stop_quietly(broker: EventBroker) -> None:
    try:
        await broker.stop()
    except Exception:
        log.exception("worker: stopping the broker failed")
