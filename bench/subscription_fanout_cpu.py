"""Subscription fan-out CPU in one process, without sockets or stores.

N `jobUpdated { title company { name } }` subscriptions (one ADMIN scope, distinct
users) run on the real schema over the in-memory fakes of the ports (`tests/factories`);
E events are dispatched through an `EventHub` and every subscription consumes them.
Reported: process CPU per (subscriber, event) delivery, up to the ExecutionResult (no
JSON, no WebSocket write), and how many times the fakes were asked for the job.

    uv run --frozen python bench/subscription_fanout_cpu.py --subscribers 1000 --events 5
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasources.events.fanout import EventHub  # noqa: E402
from domain.events import JOB_UPDATED, DomainEvent  # noqa: E402
from domain.viewer import Role, Viewer  # noqa: E402
from resolvers.context import Context  # noqa: E402
from schema import build_schema  # noqa: E402
from schema.ids import to_global_id  # noqa: E402
from tests import factories as f  # noqa: E402


def stamp() -> Any:
    """The transport's per-operation root value (none in trees older than EventStamp)."""
    try:
        from schema.subscription import EventStamp
    except ImportError:
        return None
    return EventStamp()


QUERY = "subscription($id: ID!) { jobUpdated(id: $id) { title company { name } } }"


async def run(subscribers: int, events: int) -> None:
    schema = build_schema()
    ds, log = f.fake_datasources([f.company(1, name="Acme")], [f.job(7, 1, title="Dev")])
    hub = EventHub(queue_size=events + 10)
    state = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(event_hub=hub)))
    streams: list[Any] = []
    for n in range(subscribers):
        ctx = Context(ds, state, viewer=Viewer(Role.ADMIN, user_id=f"admin-{n}"))
        streams.append(await schema.subscribe(
            QUERY, variable_values={"id": to_global_id("Job", 7)}, context_value=ctx,
            root_value=stamp(),
        ))  # fmt: skip

    async def consume(stream: Any) -> None:
        for _ in range(events):
            result = await anext(stream)
            assert result.errors is None, result.errors

    tasks = [asyncio.create_task(consume(s)) for s in streams]
    await asyncio.sleep(0.5)  # every subscription waits on the hub
    cpu = time.process_time()
    for _ in range(events):
        await hub.dispatch(DomainEvent(JOB_UPDATED, "7", {"job_id": 7, "company_id": 1}))
    await asyncio.gather(*tasks)
    cpu = time.process_time() - cpu
    per = cpu * 1000 / (subscribers * events)
    print(f"{subscribers} subscribers x {events} events: {per:.3f} ms CPU per delivery, "
          f"job loads {log.count('jobs.get_many')}, company loads "
          f"{log.count('companies.get_many')}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.subscribers, args.events))


if __name__ == "__main__":
    main()
