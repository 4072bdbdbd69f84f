"""`datasources.events.fanout.EventHub`: filtered, bounded, never blocked by one reader."""

from __future__ import annotations

import asyncio

import pytest

from datasources.events.fanout import EventHub
from domain.errors import SubscriptionOverflow
from domain.events import APPLICATION_SUBMITTED, JOB_POSTED, JOB_UPDATED, DomainEvent


def posted(job: int) -> DomainEvent:
    return DomainEvent(JOB_POSTED, str(job), {"company_id": 1})


async def test_dispatch_goes_to_matching_subscriptions_only() -> None:
    hub = EventHub(queue_size=10)
    jobs = hub.open([JOB_POSTED])
    even = hub.open([JOB_POSTED], lambda e: int(e.aggregate_id) % 2 == 0)
    apps = hub.open([APPLICATION_SUBMITTED])
    for n in (1, 2, 3, 4):
        await hub.dispatch(posted(n))
    await hub.dispatch(DomainEvent(JOB_UPDATED, "2", {}))
    assert [(await anext(jobs)).aggregate_id for _ in range(4)] == ["1", "2", "3", "4"]
    assert [(await anext(even)).aggregate_id for _ in range(2)] == ["2", "4"]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(apps), 0.05)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(jobs), 0.05)


async def test_a_waiting_reader_wakes_on_the_next_event() -> None:
    hub = EventHub()
    sub = hub.open([JOB_POSTED])
    reader = asyncio.create_task(anext(sub))
    await asyncio.sleep(0)
    await hub.dispatch(posted(5))
    assert (await asyncio.wait_for(reader, 1)).aggregate_id == "5"


async def test_a_slow_subscriber_fails_and_never_holds_up_the_rest() -> None:
    hub = EventHub(queue_size=2)
    slow = hub.open([JOB_POSTED])
    fast = hub.open([JOB_POSTED])
    received: list[str] = []
    for n in range(1, 6):
        await asyncio.wait_for(hub.dispatch(posted(n)), 0.5)  # never waits on `slow`
        received.append((await anext(fast)).aggregate_id)
    assert received == ["1", "2", "3", "4", "5"]
    assert len(hub) == 1  # the slow one was dropped, the fast one stays
    with pytest.raises(SubscriptionOverflow) as err:
        await anext(slow)
    assert err.value.code == "SLOW_CONSUMER"


async def test_overflow_wakes_a_waiting_reader() -> None:
    hub = EventHub(queue_size=1)
    sub = hub.open([JOB_POSTED])
    sub.offer(posted(1))
    assert not sub.offer(posted(2))
    with pytest.raises(SubscriptionOverflow):
        await anext(sub)


async def test_closing_detaches_and_a_failing_filter_skips_only_itself() -> None:
    hub = EventHub()

    def broken(_e: DomainEvent) -> bool:
        raise RuntimeError("bad filter")

    bad = hub.open([JOB_POSTED], broken)
    async with hub.open([JOB_POSTED]) as good:
        await hub.dispatch(posted(1))
        assert (await anext(good)).aggregate_id == "1"
        assert len(hub) == 2
    assert len(hub) == 1
    bad.close()
    assert len(hub) == 0


def test_queue_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="queue_size"):
        EventHub(queue_size=0)


def test_shared_is_one_memo_per_event_for_the_most_recent_events() -> None:
    hub = EventHub(memo_events=2)
    first = hub.shared("e1")
    first["scope"] = "loaders"
    assert hub.shared("e1") is first
    assert hub.shared("e2") is not first
    hub.shared("e3")  # the third event: the oldest memo goes
    assert hub.shared("e1") == {}
