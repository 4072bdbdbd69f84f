"""The Subscription root: live domain events as the graph's own types.

Every subscription reads the gateway's event hub (`datasources.events.fanout`, on
`app.state.event_hub`). For each event the viewer's context gets the loaders of that
EVENT and of the viewer's scope (`domain.policy.scope_of`: role, company, candidate),
shared by every subscription of the process that handles the event for a viewer of the
same scope (`EventHub.shared`): N subscribers of one scope cost one load of the entity
and of each nested edge per event, not N, and nothing loaded for one event serves the
next. The entity is loaded through them, so the viewer's scope applies exactly as in
queries: an event about something the viewer cannot see is skipped without a word.
Subscriptions of one scope that also select the same fields share the loaded and
expanded payload object itself (built once per event, then only read).
`after` (an event id) first replays what followed that event in the retention window,
then goes live; an event seen in both is sent once.

The id of the event behind each result goes to the transport through the operation's
root value (`EventStamp`), which sends it as `extensions.eventId` of that message: the
id a client passes as `after` when it reconnects.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError

from datasources.events.fanout import EventHub, EventTest, HubSubscription
from domain import events as ev
from domain import policy
from domain.errors import HireGraphError, InvalidInput, UpstreamUnavailable
from domain.events import DomainEvent
from domain.job_match import job_matches
from resolvers.context import Context
from resolvers.loaders import Loaders
from resolvers.wants import Wants
from schema import args as convert
from schema.expand import expand
from schema.ids import from_global_id, int_key
from schema.info import Info
from schema.inputs import JobFilter
from schema.types.application import ApplicationType
from schema.types.candidate import CandidateType
from schema.types.job import JobType
from schema.wants import wants_of

T = TypeVar("T")
Load = Callable[[Context, DomainEvent], Awaitable[T | None]]

AFTER = "Resume after this event id (the last one received): replays what followed first."


class EventStamp:
    """The root value of one WebSocket operation. A subscription records here the id of
    the event whose payload it is about to yield; the transport reads it when that
    result comes out and sends it as the message's `extensions.eventId`."""

    __slots__ = ("event_id",)

    def __init__(self) -> None:
        self.event_id: str | None = None

    def take(self) -> str | None:
        """The id for the result at hand (then cleared: an error result carries none)."""
        event_id, self.event_id = self.event_id, None
        return event_id


def _stamp(info: Info, event: DomainEvent) -> None:
    root = info.root_value
    if isinstance(root, EventStamp):
        root.event_id = event.event_id


def _loaders(hub: EventHub, ctx: Context, event: DomainEvent) -> Loaders:
    """The loaders of `event` for the viewer's scope, shared across subscriptions."""
    scope = policy.scope_of(ctx.viewer)
    memo = hub.shared(event.event_id)
    loaders = memo.get(scope)
    if not isinstance(loaders, Loaders):
        loaders = memo[scope] = Loaders(ctx.datasources, scope)
    return loaders


def _hub(info: Info) -> EventHub:
    hub = getattr(
        getattr(getattr(info.context.request, "app", None), "state", None), "event_hub", None
    )
    if not isinstance(hub, EventHub):
        raise UpstreamUnavailable("broker", "subscriptions are not available on this gateway")
    return hub


async def _events(
    hub: EventHub, sub: HubSubscription, after: str | None
) -> AsyncGenerator[DomainEvent, None]:
    """Replayed events (when `after`), then live ones, each once."""
    seen: set[str] = set()
    if after is not None:
        if hub.replay is None:
            raise InvalidInput("this gateway keeps no events to replay")
        for event in await hub.replay(after):
            if event.type in sub.event_types and sub.wants(event):
                seen.add(event.event_id)
                yield event
    async for event in sub:
        if event.event_id not in seen:
            yield event


async def _stream(
    info: Info, types: Collection[str], wants: EventTest, after: str | None, load: Load[T]
) -> AsyncGenerator[tuple[DomainEvent, T], None]:
    """Each wanted event with its entity, as this viewer may see it (else skipped).
    A domain error ends the subscription as a GraphQL error carrying its code (the
    per-operation error mapping does not see errors raised mid-stream)."""
    with coded():
        hub = _hub(info)
        ctx: Context = info.context
        with_wants = wants_of(info)
        selection = repr(with_wants)  # the same selection: the same loaded payload
        async with hub.open(types, wants) as sub:
            async for event in _events(hub, sub, after):
                ctx.loaders = _loaders(hub, ctx, event)
                record = await _payload(hub, ctx, event, load, with_wants, selection)
                if record is not None:
                    _stamp(info, event)
                    yield event, record


async def _loaded(ctx: Context, event: DomainEvent, load: Load[T], wants: Wants) -> T | None:
    record = await load(ctx, event)
    if record is not None:
        await expand(ctx, [record], wants)
    return record


async def _payload(
    hub: EventHub, ctx: Context, event: DomainEvent, load: Load[T], wants: Wants, selection: str
) -> T | None:
    """The event's entity loaded and expanded for `wants`, once per event for every
    subscription of the viewer's scope with the same selection (they read it, never
    change it), as a shielded task: one subscriber going away cancels nobody's load."""
    memo = hub.shared(event.event_id)
    key = (policy.scope_of(ctx.viewer), load, selection)
    task = memo.get(key)
    if not isinstance(task, asyncio.Task):
        own = copy.copy(ctx)  # these loaders, whatever the connection's context gets next
        task = memo[key] = asyncio.ensure_future(_loaded(own, event, load, wants))
    record: T | None = await asyncio.shield(task)
    return record


@contextmanager
def coded() -> Iterator[None]:
    """A domain error as a GraphQL error carrying its code: the per-operation error
    mapping (schema.errors) does not see what a subscription raises mid-stream."""
    try:
        yield
    except HireGraphError as e:
        raise GraphQLError(e.message, extensions={"code": e.code}, original_error=e) from e


async def _job(ctx: Context, e: DomainEvent) -> JobType | None:
    job = await ctx.loaders.job.load(int(e.aggregate_id))
    return JobType.from_record(job) if job is not None else None


async def _application(ctx: Context, e: DomainEvent) -> ApplicationType | None:
    app = await ctx.loaders.application.load(int(e.aggregate_id))
    return ApplicationType.from_record(app) if app is not None else None


async def _candidate(ctx: Context, e: DomainEvent) -> CandidateType | None:
    c = await ctx.loaders.candidate.load(e.aggregate_id)
    return CandidateType.from_record(c) if c is not None else None


def _exactly_one(**given: Any) -> tuple[str, Any]:
    set_ = [(k, v) for k, v in given.items() if v is not None]
    if len(set_) != 1:
        raise InvalidInput(f"pass exactly one of {', '.join(f'`{k}`' for k in given)}")
    return set_[0]


def _status_test(field: str, value: Any) -> EventTest:
    if field == "applicationId":
        app_key = str(int_key(value, "Application"))
        return lambda e: e.aggregate_id == app_key
    who = from_global_id(value, "Candidate")
    return lambda e: e.payload.get("candidate_id") == who


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Jobs that became open (posted or published), filtered like `jobs`."
    )
    async def job_posted(
        self, info: Info, filter: JobFilter | None = None, after: str | None = None
    ) -> AsyncGenerator[JobType, None]:
        with coded():
            scoped = policy.job_filter(info.context.viewer, convert.job_filter(filter))
        if scoped is None:
            return
        types = (ev.JOB_POSTED, ev.JOB_PUBLISHED)
        posted: set[int] = set()  # JobPosted of a draft read after its JobPublished: once
        async for _e, job in _stream(info, types, lambda _e: True, after, _job):
            if job.record.id not in posted and job_matches(scoped, job.record):
                posted.add(job.record.id)
                yield job

    @strawberry.subscription(description="Changes to one job (updated, published, closed).")
    async def job_updated(
        self, info: Info, id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[JobType, None]:
        with coded():
            key = str(int_key(id, "Job"))
        types = (ev.JOB_UPDATED, ev.JOB_PUBLISHED, ev.JOB_CLOSED)
        async for _e, job in _stream(info, types, lambda e: e.aggregate_id == key, after, _job):
            yield job

    @strawberry.subscription(
        description="New applications to a job or to a company's jobs (exactly one)."
    )
    async def application_submitted(
        self, info: Info, job_id: strawberry.ID | None = None,
        company_id: strawberry.ID | None = None, after: str | None = None,
    ) -> AsyncGenerator[ApplicationType, None]:  # fmt: skip
        with coded():
            field, value = _exactly_one(jobId=job_id, companyId=company_id)
            key = "job_id" if field == "jobId" else "company_id"
            want = int_key(value, "Job" if field == "jobId" else "Company")
        types = (ev.APPLICATION_SUBMITTED,)
        test: EventTest = lambda e: e.payload.get(key) == want  # noqa: E731
        async for _e, app in _stream(info, types, test, after, _application):
            yield app

    @strawberry.subscription(
        description="Status changes of one application or of one candidate's (exactly one)."
    )
    async def application_status_changed(
        self, info: Info, application_id: strawberry.ID | None = None,
        candidate_id: strawberry.ID | None = None, after: str | None = None,
    ) -> AsyncGenerator[ApplicationType, None]:  # fmt: skip
        with coded():
            field, value = _exactly_one(applicationId=application_id, candidateId=candidate_id)
            test = _status_test(field, value)
        types = (ev.APPLICATION_STATUS_CHANGED,)
        async for _e, app in _stream(info, types, test, after, _application):
            yield app

    @strawberry.subscription(description="Changes to one candidate profile.")
    async def candidate_profile_updated(
        self, info: Info, id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[CandidateType, None]:
        with coded():
            key = from_global_id(id, "Candidate")
        types = (ev.CANDIDATE_PROFILE_UPDATED,)
        async for _e, c in _stream(info, types, lambda e: e.aggregate_id == key, after, _candidate):
            yield c
