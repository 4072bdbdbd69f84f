"""Subscriptions over in-memory fakes: one event's loads are shared by all subscriptions
of one viewer scope (one store call per event, not one per subscriber), never across
scopes, and each result names its event (`EventStamp`)."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from types import SimpleNamespace
from typing import Any

from datasources.events.fanout import EventHub
from domain.events import APPLICATION_SUBMITTED, JOB_UPDATED, DomainEvent
from domain.viewer import Role, Viewer
from resolvers.context import Context
from schema import build_schema
from schema.ids import to_global_id
from schema.subscription import EventStamp
from tests import factories as f

SCHEMA = build_schema()
JOB = "subscription($id: ID!) { jobUpdated(id: $id) { title company { name } } }"
APPS = "subscription($c: ID!) { applicationSubmitted(companyId: $c) { id job { title } } }"


def context(ds: Any, hub: EventHub, viewer: Viewer) -> Context:
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(event_hub=hub)))
    return Context(ds, request, viewer=viewer)


async def subscribe(ctx: Context, query: str, **variables: Any) -> tuple[Any, EventStamp]:
    stamp = EventStamp()
    stream = await SCHEMA.subscribe(
        query, variable_values=variables, context_value=ctx, root_value=stamp
    )
    return stream, stamp


async def test_n_subscribers_of_one_scope_cost_one_load_per_event() -> None:
    ds, log = f.fake_datasources([f.company(1, name="Acme")], [f.job(7, 1, title="Dev")])
    hub = EventHub()
    viewers = [Viewer(Role.ADMIN, user_id=f"admin-{n}") for n in range(5)]  # one scope
    subs = [await subscribe(context(ds, hub, v), JOB, id=to_global_id("Job", 7)) for v in viewers]
    firsts = [asyncio.ensure_future(anext(stream)) for stream, _ in subs]
    await asyncio.sleep(0.05)  # every subscription is waiting on the hub
    event = DomainEvent(JOB_UPDATED, "7", {"job_id": 7, "company_id": 1})
    await hub.dispatch(event)
    results = await asyncio.gather(*firsts)
    assert [r.data for r in results] == [
        {"jobUpdated": {"title": "Dev", "company": {"name": "Acme"}}}
    ] * 5
    assert [stamp.take() for _, stamp in subs] == [event.event_id] * 5
    assert log.count("jobs.get_many") == 1
    assert log.count("companies.get_many") == 1
    for stream, _ in subs:
        await stream.aclose()


async def test_scopes_never_share_what_they_load() -> None:
    acme, other = f.company(1), f.company(2)
    job = f.job(7, 1, title="Dev")
    app = f.application(11, 7, "0" * 23 + "1")
    ds, log = f.fake_datasources([acme, other], [job], [f.candidate()], [app])
    hub = EventHub()
    own = Viewer(Role.RECRUITER, user_id="r1", company_id=1)
    colleague = Viewer(Role.RECRUITER, user_id="r2", company_id=1)
    stranger = Viewer(Role.RECRUITER, user_id="r3", company_id=2)
    company = to_global_id("Company", 1)
    subs = [
        await subscribe(context(ds, hub, v), APPS, c=company) for v in (own, colleague, stranger)
    ]
    waits = [asyncio.ensure_future(anext(stream)) for stream, _ in subs]
    await asyncio.sleep(0.05)
    payload = {"application_id": 11, "job_id": 7, "company_id": 1, "candidate_id": "0" * 23 + "1"}
    await hub.dispatch(DomainEvent(APPLICATION_SUBMITTED, "11", payload))
    done, pending = await asyncio.wait(waits, timeout=0.5)
    assert waits[0] in done
    assert waits[1] in done
    assert waits[2] in pending  # the other company's recruiter receives nothing
    assert waits[0].result().data == waits[1].result().data
    assert waits[0].result().data["applicationSubmitted"]["job"]["title"] == "Dev"
    # One load for the two recruiters of company 1, one for the stranger's scope.
    assert log.count("applications.get_many") == 2
    waits[2].cancel()
    with suppress(asyncio.CancelledError):
        await waits[2]
    for stream, _ in subs:
        await stream.aclose()
