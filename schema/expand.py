"""The edge expander: resolves every selected edge once per list, level by level.

Given the objects of one level and what the query selected below them, each handler
loads one edge for *all* parents through the request's DataLoaders (one batch, so one
round trip per edge and argument set), attaches the results, and hands the children to
the next level. Siblings at one level load concurrently, so a query costs a number of
round trips bounded by its depth, never by its page sizes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from functools import partial
from operator import attrgetter
from typing import Any, TypeVar

from domain.errors import UpstreamUnavailable
from domain.queries import Page
from resolvers.context import Context
from resolvers.wants import Wants
from schema import edge_loads as loads
from schema.types.application import ApplicationType
from schema.types.candidate import CandidateType
from schema.types.company import CompanyType
from schema.types.connections import ApplicationConnection, JobConnection
from schema.types.job import JobType

T = TypeVar("T")
Next = list[tuple[list[Any], Wants]]
Handler = Callable[[Context, list[Any], Wants], Awaitable[Next]]
# Only handlers of selected fields run; a task per handler per level adds up per request.


async def expand(ctx: Context, objs: Sequence[Any], wants: Wants) -> None:
    """Load everything `wants` selects below `objs` (which may mix types)."""
    if not objs or not wants.fields:
        return
    groups: dict[type, list[Any]] = {}
    for obj in objs:
        groups.setdefault(type(obj), []).append(obj)
    selected = {f.name for f in wants.fields}
    levels = await gather_all(
        [
            _edge(handler, name, ctx, group, wants)
            for cls, group in groups.items()
            for name, handler in HANDLERS.get(cls, ())
            if name in selected
        ]
    )
    await gather_all([expand(ctx, kids, sub) for nxt in levels for kids, sub in nxt if kids])


async def _edge(handler: Handler, name: str, ctx: Context, objs: list[Any], wants: Wants) -> Next:
    """One edge for a list; a store failure fails that field on each parent, not the list.

    The failure is stored where the edge's value would be (the attribute, or every
    response key of a prefetched edge): graphql-core raises an exception it finds as a
    field's value, so each parent gets a null there plus an error at its own path
    (UPSTREAM_* with the store), while its other fields and the rest of the list stay.
    """
    try:
        return await handler(ctx, objs, wants)
    except UpstreamUnavailable as error:
        for obj in objs:
            failed = type(error)(error.store, error.message)  # one per path (tracebacks)
            if name in ATTRIBUTE_EDGES:
                setattr(obj, name, failed)
            else:
                for key in wants.by_key(name):
                    obj.edges[key] = failed
        return []


async def gather_all(coros: list[Awaitable[T]]) -> list[T]:
    """`asyncio.gather`, minus the task when there is only one thing to wait for."""
    if len(coros) <= 1:
        return [await c for c in coros]
    return list(await asyncio.gather(*coros))


def _unique(items: Sequence[Any], key: Callable[[Any], Hashable]) -> dict[Any, Any]:
    return {key(i): i for i in items if i is not None}


async def job_company(ctx: Context, jobs: list[JobType], wants: Wants) -> Next:
    if "company" not in wants:
        return []
    ids = list(dict.fromkeys(j.record.company_id for j in jobs))
    loaded = _unique(await ctx.loaders.company.load_many(ids), lambda c: c.id)
    objs = {cid: CompanyType.from_record(c) for cid, c in loaded.items()}
    for j in jobs:
        j.company = objs.get(j.record.company_id)
    return [(list(objs.values()), wants.child("company"))]


async def application_job(ctx: Context, apps: list[ApplicationType], wants: Wants) -> Next:
    if "job" not in wants:
        return []
    ids = list(dict.fromkeys(a.record.job_id for a in apps))
    objs = {j.id: JobType.from_record(j) for j in await ctx.loaders.job.load_many(ids) if j}
    for a in apps:
        a.job = objs.get(a.record.job_id)
    return [(list(objs.values()), wants.child("job"))]


async def application_candidate(ctx: Context, apps: list[ApplicationType], wants: Wants) -> Next:
    if "candidate" not in wants:
        return []
    ids = list(dict.fromkeys(a.record.candidate_id for a in apps))
    loaded = await ctx.loaders.candidate.load_many(ids)
    objs = {c.id: CandidateType.from_record(c) for c in loaded if c is not None}
    for a in apps:
        a.candidate = objs.get(a.record.candidate_id)
    return [(list(objs.values()), wants.child("candidate"))]


async def _connections(
    parents: list[Any],
    wants: Wants,
    name: str,
    load: Callable[[Mapping[str, Any], list[Any], bool, bool], Awaitable[tuple[Any, Any]]],
    key: Callable[[Any], Hashable],
    build: Callable[[Page[Any]], Any],
) -> Next:
    """Shared shape of every nested-connection edge: one batch per response key."""

    async def one(rkey: str, raw: Mapping[str, Any], sub: Wants) -> tuple[list[Any], Wants]:
        need_page = "edges" in sub or "pageInfo" in sub
        keys = [key(p) for p in parents]
        pages, totals = await load(raw, keys, need_page, "totalCount" in sub)
        if pages is None:  # only totalCount was asked for: no pages to build
            counts: list[int | None] = list(totals) if totals else [None] * len(parents)
            for parent, total in zip(parents, counts, strict=True):
                parent.edges[rkey] = build(Page([], total=total))
            return [], sub.child("edges", "node")
        children: list[Any] = []
        for i, parent in enumerate(parents):
            page = pages[i]
            total = totals[i] if totals is not None else None
            conn = build(Page(page.items, page.keys, page.has_next_page, False, total))
            parent.edges[rkey] = conn
            children.extend(e.node for e in conn.edges)
        return children, sub.child("edges", "node")

    return await gather_all([one(k, a, s) for k, (a, s) in wants.by_key(name).items()])


def _application_connection(page: Page[Any]) -> ApplicationConnection:
    nodes = [ApplicationType.from_record(a) for a in page.items]
    return ApplicationConnection.of(page, nodes, "applications:applied_at:desc")


def _job_connection(page: Page[Any]) -> JobConnection:
    nodes = [JobType.from_record(j) for j in page.items]
    return JobConnection.of(page, nodes, "jobs:posted_at:desc")


def _record_id(obj: Any) -> Hashable:
    return obj.record.id  # type: ignore[no-any-return]


async def job_applications(ctx: Context, jobs: list[JobType], wants: Wants) -> Next:
    load = partial(loads.applications, ctx, True)
    return await _connections(
        jobs, wants, "applications", load, _record_id, _application_connection
    )


async def candidate_applications(ctx: Context, cands: list[CandidateType], wants: Wants) -> Next:
    load = partial(loads.applications, ctx, False)
    return await _connections(
        cands, wants, "applications", load, _record_id, _application_connection
    )


async def company_jobs(ctx: Context, companies: list[CompanyType], wants: Wants) -> Next:
    load = partial(loads.company_jobs, ctx)
    return await _connections(companies, wants, "jobs", load, attrgetter("pk"), _job_connection)


async def job_matching_candidates(ctx: Context, jobs: list[JobType], wants: Wants) -> Next:
    out: Next = []
    for key, (raw, sub) in wants.by_key("matchingCandidates").items():
        found = await loads.matching_candidates(ctx, raw, [j.record.id for j in jobs])
        kids: list[Any] = []
        for j, cands in zip(jobs, found, strict=True):
            j.edges[key] = [CandidateType.from_record(c) for c in cands]
            kids.extend(j.edges[key])
        out.append((kids, sub))
    return out


async def candidate_matching_jobs(ctx: Context, cands: list[CandidateType], wants: Wants) -> Next:
    out: Next = []
    for key, (raw, sub) in wants.by_key("matchingJobs").items():
        found = await loads.matching_jobs(ctx, raw, [c.record.id for c in cands])
        kids: list[Any] = []
        for c, jobs in zip(cands, found, strict=True):
            c.edges[key] = [JobType.from_record(j) for j in jobs]
            kids.extend(c.edges[key])
        out.append((kids, sub))
    return out


# Edges stored as plain attributes; the others go into `edges` per response key.
ATTRIBUTE_EDGES = frozenset({"company", "job", "candidate"})

# Per type: (GraphQL field, handler). A handler runs only when its field was selected.
HANDLERS: dict[type, tuple[tuple[str, Handler], ...]] = {
    JobType: (
        ("company", job_company),
        ("applications", job_applications),
        ("matchingCandidates", job_matching_candidates),
    ),
    CompanyType: (("jobs", company_jobs),),
    ApplicationType: (("job", application_job), ("candidate", application_candidate)),
    CandidateType: (
        ("applications", candidate_applications),
        ("matchingJobs", candidate_matching_jobs),
    ),
}
