"""The broker stopped while mutations continue (issue 9): the outbox keeps every event.

The real app takes mutations (companies and jobs: the Postgres outbox; candidate
profiles: the Mongo outbox) in stores of this test only. The worker (`hiregraph
worker`'s relays and consumers, in process) reaches the broker through a fault proxy;
a collector subscribed straight to the broker, before any event, sees what reaches it.
With the proxy down (the broker refuses connections, open ones are reset), mutations
keep succeeding and nothing is delivered; once it is back, the relays deliver every
event written meanwhile, to the collector and to the worker's own consumers. Over
RabbitMQ and over Redis Streams; mutation latencies are printed under `[fault-latency]`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from gateway.settings import BrokerSettings
from tests.e2e.conftest import Seeded
from tests.e2e.real_writes import ADMIN, POST_JOB, Real, job_input, real_app
from tests.e2e.test_candidates_real import CREATE, new_profile
from tests.e2e.test_events_end_to_end import CONSUMERS, fresh, running_worker, worker_settings
from tests.events import Collector, Space, eventually, space
from tests.faults.load import LoadResult
from tests.faults.proxy import FaultProxy, upstream_of

__all__ = ["fresh", "space"]  # fixtures

pytestmark = pytest.mark.e2e
COLLECTOR = "faults-collector"


async def _event_ids(real: Real, mongo_db: Any) -> set[str]:
    """Every event id in both outboxes."""
    rows = await real.db.fetch("SELECT event_id::text AS id FROM outbox")
    docs = await mongo_db["outbox"].find({}, {"event_id": 1}).to_list(None)
    return {r["id"] for r in rows} | {str(d["event_id"]) for d in docs}


async def _unpublished(real: Real, mongo_db: Any) -> int:
    pg: int = await real.db.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    mongo: int = await mongo_db["outbox"].count_documents({"published_at": None})
    return pg + mongo


async def _mutations(real: Real, count: int) -> LoadResult:
    """`count` rounds of writes (a company, one of its jobs, a candidate profile), each
    answered with its payload; latencies per mutation."""
    result = LoadResult()
    for _ in range(count):
        for write in (_company_and_job, _candidate):
            result.latencies.extend(await write(real))
    return result


async def _company_and_job(real: Real) -> list[float]:
    started = time.perf_counter()
    company = await real.new_company()
    middle = time.perf_counter()
    posted = await real.mutate(POST_JOB, ADMIN, input=job_input(company.id, publish=True))
    assert posted["__typename"] == "JobPayload", posted
    return [middle - started, time.perf_counter() - middle]


async def _candidate(real: Real) -> list[float]:
    started = time.perf_counter()
    created = await real.mutate(CREATE, ADMIN, input=new_profile())
    assert created["__typename"] == "CandidatePayload", created
    return [time.perf_counter() - started]


async def test_broker_down_while_mutations_continue_then_every_event_is_delivered(
    fresh: Seeded, space: Space, mongo_db: Any
) -> None:
    space.consumers.update({COLLECTOR, *CONSUMERS})
    collector = Collector(COLLECTOR)
    async with (
        space.running([collector]),  # straight to the broker: sees what reaches it
        FaultProxy(*upstream_of(space.url)) as proxy,
        real_app(fresh, "faults") as real,
    ):
        settings = worker_settings(fresh, proxy.url(space.url), space.namespace,
                                   f"{fresh.cache_prefix}:faults")  # fmt: skip
        quick = BrokerSettings(
            namespace=space.namespace, publish_timeout_seconds=1, reconnect_seconds=0.2,
            relay_poll_seconds=0.05, relay_backoff_base_seconds=0.05,
            relay_backoff_max_seconds=0.5,
        )  # fmt: skip
        settings = settings.model_copy(update={"broker": quick})

        async def all_marked() -> bool:  # marked after the broker's confirmation
            return await _unpublished(real, mongo_db) == 0

        async with running_worker(settings) as running:
            before = await _mutations(real, 3)
            print("\n" + before.summary(f"[{space.kind}] mutations, broker up"))
            delivered_before = await _event_ids(real, mongo_db)
            await eventually(lambda: delivered_before <= set(collector.ids), 20, "the first events")
            await eventually(all_marked, 20, "the first events marked published")

            await proxy.set_down()
            during = await _mutations(real, 5)
            print(during.summary(f"[{space.kind}] mutations, broker down"))
            written = await _event_ids(real, mongo_db) - delivered_before
            assert len(written) == 5 * 3
            await asyncio.sleep(1)  # the relays try, and fail, meanwhile
            assert not written & set(collector.ids), "delivered through a broker that is down"
            assert await _unpublished(real, mongo_db) == len(written)

            await proxy.set_down(False)
            back = time.perf_counter()
            await eventually(lambda: written <= set(collector.ids), 20, "every event delivered")
            lag = time.perf_counter() - back
            print(f"[fault-latency] [{space.kind}] broker back -> all {len(written)} events "
                  f"delivered: {lag * 1000:.0f} ms")  # fmt: skip
            await eventually(all_marked, 20, "every outbox row marked published")
            # The worker's own consumers, whose connection the outage reset, resume too.
            await eventually(
                lambda: written <= set(running.handled.ids.get("cache-invalidation", [])),
                20, "the worker's consumer to get every event",
            )  # fmt: skip
            assert proxy.stats.upstream_total > 1  # the worker reconnected through the proxy
